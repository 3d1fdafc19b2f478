#!/usr/bin/env python3
"""t-dashboard: the dashboard (www/, SPEC §7) in a real browser.

Starts the fake FMP and two real stacks (tests/webstack.py: nginx with the
shipped snippet and the two FastCGI programs): A at "/" with min_interval_s
0, and B under "/pricesync/" with a long min_interval_s (for the 429).
Then runs tests/dashboard.mjs, which drives Debian's headless chromium with
playwright-core (tests/node/node_modules; no browser is ever downloaded),
and turns its JSON lines into TAP. Screenshots go to
$top_builddir/tests/artifacts/.

Skips (1..0) when node, chromium or playwright-core is missing, unless CI
is set: there a missing browser is a failure. `make distcheck` (PS_DISTCHECK
set) builds from the tarball, which ships no node_modules: there a missing
playwright-core skips even in CI, as the main build has run this test.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.environ.get(
    "top_srcdir", os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "tests"))
import pstest  # noqa: E402
import webstack  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
NODE = shutil.which("node") or "/usr/bin/node"
# playwright-core's node_modules: tests/node, or $PS_NODE_DIR (a tree whose
# tests/node was installed, e.g. for a build from the release tarball).
NODE_DIR = os.environ.get("PS_NODE_DIR") or os.path.join(pstest.testsdir, "node")
SCRIPT = os.path.join(pstest.testsdir, "dashboard.mjs")
KEY = "dash-test-key"
FAILED = "NOSUCH1"
SYMBOLS = ["AAPL,10", "MSFT", "NVDA,4", "GOOGL", "AMZN", "TSLA", "META",
           "VOD.L,1200", "BP.L,300", "HSBA.L", "SAP.DE,5", FAILED,
           "IBM", "ORCL"]
WATCHDOG_S = 420
IN_CI = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def missing():
    why = []
    if not os.access(NODE, os.X_OK):
        why.append("no node")
    if not os.access(CHROMIUM, os.X_OK):
        why.append("no %s" % CHROMIUM)
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "playwright-core")):
        why.append("no tests/node/node_modules/playwright-core "
                   "(cd tests/node && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install)")
    if not os.access(pstest.cli_path(), os.X_OK) or not webstack.have_programs():
        why.append("the programs are not built")
    if not os.access(webstack.NGINX, os.X_OK) or not os.access(webstack.SPAWN, os.X_OK):
        why.append("no nginx or spawn-fcgi")
    return why


def cli(env, *args):
    rc, out, err = pstest.run_cli(list(args), env)
    return rc, out, err


def run_browser(cfg_path, stacks):
    env = dict(os.environ)
    env["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"
    env["PS_NODE_DIR"] = NODE_DIR
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    for k in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        env.pop(k, None)
    p = subprocess.Popen([NODE, SCRIPT, cfg_path], env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, bufsize=1)
    ended = False
    failed = False
    # A hung browser must not hang `make check`.
    watchdog = threading.Timer(WATCHDOG_S, p.kill)
    watchdog.start()
    try:
        for line in p.stdout:
            line = line.rstrip("\n")
            try:
                o = json.loads(line)
            except ValueError:
                pstest.diag(line)
                continue
            if "ok" in o:
                if not pstest.ok(o["ok"], o.get("name", "?")):
                    failed = True
                    if o.get("diag"):
                        pstest.diag(o["diag"][:2000])
            elif "skip" in o:
                pstest.skip(o["skip"], o.get("reason", ""))
            elif "diag" in o:
                pstest.diag(o["diag"])
            elif o.get("end"):
                ended = True
        p.wait(timeout=60)
    finally:
        watchdog.cancel()
        if p.poll() is None:
            p.kill()
            p.wait()
        err = p.stderr.read()
    pstest.ok(ended and p.returncode == 0, "dashboard.mjs ran to its end")
    if err.strip():
        pstest.diag("node stderr:\n" + err[-3000:])
    if failed or not ended:
        for st in stacks:
            pstest.diag(st.error_log_text()[-3000:])


def main():
    why = missing()
    if why:
        no_pw = not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "playwright-core"))
        if not IN_CI or (no_pw and os.environ.get("PS_DISTCHECK")):
            pstest.skip_all("; ".join(why))
        pstest.ok(False, "the browser test can run: " + "; ".join(why))
        return pstest.done()
    # A Node that playwright-core refuses fails here, by name, rather than
    # as a stack trace from inside dashboard.mjs.
    v = subprocess.run([NODE, os.path.join(pstest.testsdir, "node", "versions.mjs"), NODE_DIR],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, timeout=60)
    if not pstest.ok(v.returncode == 0, "Node and playwright-core fit: " + v.stdout.strip()):
        return pstest.done()
    top = tempfile.mkdtemp(prefix="ps-dash-")
    os.chmod(top, 0o755)  # nginx's workers (www-data) reach the stacks' sockets
    arts = os.path.join(pstest.builddir, "tests", "artifacts")
    os.makedirs(arts, exist_ok=True)
    try:
        with pstest.Fake(key=KEY) as fake:
            fake.control({"delay": 0})
            a_dir, b_dir = os.path.join(top, "a"), os.path.join(top, "b")
            os.makedirs(a_dir)
            os.makedirs(b_dir)
            small = {"batch_size": 2, "concurrency": 1}
            with webstack.Stack(a_dir, fake.url, key=KEY,
                               conf_extra=dict(small, min_interval_s=0)) as a, \
                    webstack.Stack(b_dir, fake.url, key=KEY, prefixes=("/pricesync/",),
                                  conf_extra=dict(small, min_interval_s=3600)) as b:
                csv = os.path.join(top, "symbols.csv")
                with open(csv, "w") as fh:
                    fh.write("symbol,quantity\n" + "\n".join(SYMBOLS) + "\n")
                rc, _o, e = cli(a.env, "import", csv)
                if not pstest.ok(rc == 0, "symbols imported into stack A"):
                    pstest.diag(e)
                rc, _o, e = cli(b.env, "import", csv)
                rc2, _o, e2 = cli(b.env, "sync", "--json")
                if not pstest.ok(rc == 0 and rc2 in (0, 3), "stack B synced once (its cooldown runs)"):
                    pstest.diag(e + e2)
                cfg = {"base": a.base_url + "/", "base2": b.base_url + "/pricesync/",
                       "fake": fake.url, "cli": pstest.cli_path(), "env": a.env,
                       "artifacts": arts, "www": os.path.join(pstest.srcdir, "www"),
                       "failed_symbol": FAILED}
                cfg_path = os.path.join(top, "dashboard.json")
                with open(cfg_path, "w") as fh:
                    json.dump(cfg, fh)
                run_browser(cfg_path, (a, b))
    finally:
        if os.environ.get("PS_KEEP"):
            pstest.diag("kept", top)
        else:
            shutil.rmtree(top, ignore_errors=True)
    return pstest.done()


if __name__ == "__main__":
    sys.exit(main())
