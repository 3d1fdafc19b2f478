#!/usr/bin/env python3
"""t-auth: the basic-auth block of the shipped snippets, switched on
(tests/webstack.py uncomments it and points it at a password file made with
htpasswd), through a real nginx and a real Apache: 401 with a
WWW-Authenticate challenge without credentials or with a wrong password,
200 with them, for the dashboard, the read-only API and the sync stream;
metrics stay open to localhost without a password and closed to 127.0.0.2.
Then the dashboard syncs behind it in headless Chromium (tests/dashboard.mjs,
its "acceptance 1" test, with httpCredentials), through both servers.
"""

import base64
import http.client
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), "tests"))
import pstest  # noqa: E402
import webclient  # noqa: E402
import webstack  # noqa: E402
from pstest import eq, ok  # noqa: E402

HTPASSWD = shutil.which("htpasswd") or "/usr/bin/htpasswd"
KEY = "auth-test-key"
USER, PASSWORD = "alice", "s3cret pass"


def _dashboard():
    """tests/t-dashboard.py as a module: its browser runner and symbols."""
    spec = importlib.util.spec_from_file_location(
        "t_dashboard", os.path.join(pstest.testsdir, "t-dashboard.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def basic(user, password):
    tok = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    return {"Authorization": "Basic " + tok}


def get(st, path, headers=None, method="GET", source=None):
    c = http.client.HTTPConnection("127.0.0.1", st.port, timeout=30,
                                   source_address=(source, 0) if source else None)
    try:
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def check_codes(st, tag):
    good, bad = basic(USER, PASSWORD), basic(USER, "wrong")
    for method, path in (("GET", "/"), ("GET", "/api/sync/status"),
                         ("GET", "/api/prices"), ("POST", "/api/sync")):
        s, h, _b = get(st, path, method=method)
        ok(s == 401 and h.get("www-authenticate", "").lower().startswith("basic"),
           "%s: %s %s without credentials -> 401 with a Basic challenge (%s)"
           % (tag, method, path, s))
        s, _h, _b = get(st, path, bad, method=method)
        eq(s, 401, "%s: %s %s with a wrong password -> 401" % (tag, method, path))
        if method == "GET":
            s, _h, _b = get(st, path, good)
            eq(s, 200, "%s: GET %s with the credentials -> 200" % (tag, path))
    hdr = ["Authorization: " + good["Authorization"]]
    cs = webclient.CurlStream(st.base_url + "/api/sync", headers=hdr)
    try:
        cs.read_all(120)
    finally:
        cs.close()
    ok(cs.status() == 200 and (cs.events() or [{}])[-1].get("type") == "complete",
       "%s: POST /api/sync with the credentials streams a sync to its end" % tag)
    s, h, body = get(st, "/api/metrics")
    ok(s == 200 and b"pricesync_syncs_total" in body,
       "%s: /api/metrics from 127.0.0.1 needs no password (%s)" % (tag, s))
    try:
        s, _h, _b = get(st, "/api/metrics", good, source="127.0.0.2")
    except OSError as e:
        pstest.skip("%s: metrics from 127.0.0.2" % tag, "cannot bind: %s" % e)
        return
    eq(s, 403, "%s: /api/metrics from 127.0.0.2 -> 403, even with the password"
       % tag)


def browser(dash, st, fake, top, tag):
    cfg = {"base": st.base_url + "/", "fake": fake.url, "cli": pstest.cli_path(),
           "env": st.env, "artifacts": os.path.join(pstest.builddir, "tests",
                                                    "artifacts", "auth-" + tag),
           "www": os.path.join(pstest.srcdir, "www"),
           "failed_symbol": dash.FAILED,
           "credentials": {"username": USER, "password": PASSWORD}}
    path = os.path.join(top, "dash-%s.json" % tag)
    with open(path, "w") as fh:
        json.dump(cfg, fh)
    os.environ["DASH_ONLY"] = "acceptance 1"
    try:
        pstest.diag("--- %s: the dashboard behind basic auth" % tag)
        dash.run_browser(path, (st,))
    finally:
        del os.environ["DASH_ONLY"]


def one_server(server, dash, fake, top, htpasswd, csv):
    d = os.path.join(top, server)
    with webstack.Stack(d, fake.url, server=server, key=KEY, htpasswd=htpasswd,
                 conf_extra={"batch_size": 2, "concurrency": 1}) as st:
        rc, _o, e = pstest.run_cli(["import", csv], st.env)
        if not ok(rc == 0, "%s: symbols imported" % server):
            pstest.diag(e)
        check_codes(st, server)
        if dash is not None:
            browser(dash, st, fake, top, server)


def main():
    for prog, why in ((HTPASSWD, "no htpasswd (apache2-utils)"),
                      (webstack.NGINX, "no nginx"), (webstack.APACHE, "no apache2"),
                      (webstack.SPAWN, "no spawn-fcgi")):
        if not os.access(prog, os.X_OK):
            pstest.skip_missing(why)
    if not webstack.have_programs() or not os.access(pstest.cli_path(), os.X_OK):
        pstest.skip_missing("the programs are not built")
    dash = _dashboard()
    why = dash.missing()
    if why:
        if dash.IN_CI and not os.environ.get("PS_DISTCHECK"):
            ok(False, "the browser part can run: " + "; ".join(why))
        else:
            pstest.diag("no browser part: " + "; ".join(why))
        dash = None
    top = tempfile.mkdtemp(prefix="ps-auth-")
    os.chmod(top, 0o755)
    try:
        htpasswd = os.path.join(top, "htpasswd")
        p = subprocess.run([HTPASSWD, "-c", "-b", htpasswd, USER, PASSWORD],
                           capture_output=True, text=True)
        ok(p.returncode == 0, "htpasswd made the password file")
        os.chmod(htpasswd, 0o644)  # Apache's workers run as www-data
        csv = os.path.join(top, "symbols.csv")
        with open(csv, "w") as fh:
            fh.write("symbol,quantity\n" + "\n".join(
                (dash.SYMBOLS if dash else ["AAPL,10", "MSFT", "NOSUCH1"])) + "\n")
        with pstest.Fake(key=KEY) as fake:
            for server in ("nginx", "apache"):
                def run():
                    one_server(server, dash, fake, top, htpasswd, csv)
                run.__doc__ = "%s with the basic-auth block on" % server
                pstest.scenario(run)
                fake.control({"delay": 0})
    finally:
        if os.environ.get("PS_KEEP"):
            pstest.diag("kept", top)
        else:
            shutil.rmtree(top, ignore_errors=True)
    return pstest.done()


if __name__ == "__main__":
    sys.exit(main())
