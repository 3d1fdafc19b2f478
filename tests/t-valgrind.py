#!/usr/bin/env python3
"""t-valgrind: the CLI, the C unit tests and the FastCGI programs (under
spawn-fcgi, and as plain CGI) under valgrind; any error fails.

Runs `pricesync sync --json` against the fake (60 symbols, with a retried
503, a malformed batch, a truncated batch, a dropped symbol, a row without
a price and a profile lookup), a rejected key, `list --json`, `status`,
`history`, `backfill` (the same faults hit history requests) and
`history --daily`, and every C unit test binary tests/t-* of the build, each under
`valgrind --error-exitcode=99 --leak-check=full
--errors-for-leak-kinds=definite`. Skipped when valgrind is missing or the
build uses sanitizers (PS_SANITIZERS=1, or __asan symbols in the binary).
"""

import glob
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(
    os.environ.get("top_srcdir")
    or os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
import pstest as T  # noqa: E402

KEY = "K-test-valgrind"
VG = ["valgrind", "--error-exitcode=99", "--leak-check=full",
      "--errors-for-leak-kinds=definite", "--track-fds=no", "-q"]


def sanitized(binary):
    if os.environ.get("PS_SANITIZERS") == "1":
        return True
    try:
        out = subprocess.run(["nm", binary], capture_output=True, text=True,
                             timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "__asan" in out or "__ubsan" in out


# With -q valgrind prints only what is wrong; these lines are notes about
# big mappings (LMDB's map), not errors.
BENIGN = ("Warning: set address range perms", "Warning: noted but unhandled")


def vg_reports(err):
    return [ln for ln in (err or "").splitlines()
            if re.match(r"==\d+== \S", ln) and not any(b in ln for b in BENIGN)]


def vg_ok(rc, err, name):
    """No valgrind error: not its exit code 99, not a signal (valgrind
    passes a crash on: rc < 0), not a timeout, and no report on stderr."""
    reports = vg_reports(err)
    r = T.ok(rc is not None and rc >= 0 and rc != 99 and not reports, name)
    if not r:
        T.diag("exit %r" % (rc,))
        for ln in (reports or (err or "").splitlines())[:60]:
            T.diag(ln)
    return r


def test_cli():
    """the CLI under valgrind: sync with faults, list, status, history"""
    with T.Fake(key=KEY) as f, T.Workdir(f, api_key=KEY) as w:
        w.write_conf(batch_size=10, concurrency=4, retries=1, timeout_s=20)
        symbols = T.syms("V", 58) + ["VOD.L", "SAP.DE"]
        rc, out, err = w.import_symbols(symbols)
        vg_ok(rc, err, "import")
        T.eq(rc, 0, "import exits 0")
        f.control({"drop": ["V045"], "no_price": ["V050"],
                   "fail": [{"match": "V005", "status": 503, "times": 1},
                            {"match": "V015", "kind": "malformed", "times": -1},
                            {"match": "V025", "kind": "truncated", "times": -1}]})
        rc, out, err = w.cli("sync", "--json", timeout=600)
        ev = T.parse_ndjson(out)
        vg_ok(rc, err, "sync --json with faults: no valgrind error")
        T.events_ok(ev, "sync events follow the rules")
        T.eq(rc, 3, "sync exits 3 (some failed)")
        for args in (["list", "--json"], ["list"], ["status"],
                     ["history", "V000"], ["history", "V000", "--csv"],
                     ["backfill", "--json", "--days", "30"],
                     ["history", "V000", "--daily"],
                     ["add", "V000", "--quantity", "5"], ["remove", "V001"],
                     ["add", "bad symbol!"], ["frobnicate"], ["--help"]):
            rc, out, err = w.cli(*args, timeout=300)
            vg_ok(rc, err, "pricesync %s" % " ".join(args))
        f.control({"key": "other"})
        rc, out, err = w.cli("sync", "--json", timeout=600)
        vg_ok(rc, err, "sync with a rejected key")
        T.eq(T.terminal(T.parse_ndjson(out)).get("code"), "upstream_auth",
             "it ends upstream_auth")


def test_unit():
    """the C unit tests under valgrind"""
    bins = sorted(b for b in glob.glob(os.path.join(T.builddir, "tests", "t-*"))
                  if os.access(b, os.X_OK) and not os.path.splitext(b)[1])
    if not T.ok(bins, "C unit tests built in %s/tests" % T.builddir):
        return
    for b in bins:
        try:
            p = subprocess.run(VG + [b], capture_output=True, text=True,
                               timeout=900, cwd=T.builddir)
            rc, err = p.returncode, p.stderr
        except subprocess.TimeoutExpired:
            rc, err = None, "timed out"
        vg_ok(rc, err, "%s: no valgrind error" % os.path.basename(b))
        if rc not in (0, 99, None):
            T.diag("%s exits %d (its own test failures)" % (os.path.basename(b), rc))


def vg_log_ok(logs, name):
    """No report in valgrind's --log-file files (one per process)."""
    reports = []
    for path in logs:
        with open(path, errors="replace") as fh:
            reports += vg_reports(fh.read())
    r = T.ok(logs and not reports, "%s (%d valgrind logs)" % (name, len(logs)))
    for ln in reports[:60]:
        T.diag(ln)
    return r


def test_fcgi():
    """the two FastCGI programs under valgrind, in both modes"""
    import glob as g
    import socket
    import fcgiclient
    import webstack
    if not os.access(webstack.SPAWN, os.X_OK):
        T.skip_missing("spawn-fcgi is not installed")
    with T.Fake() as f, T.Workdir(f) as w:
        w.write_conf(batch_size=2, concurrency=2, min_interval_s=0)
        rc, _o, err = w.import_symbols(T.syms("F", 5) + ["NOSUCH1"])
        T.eq(rc, 0, "fcgi: symbols imported")
        wrap = ([shutil.which("valgrind")] + VG[1:] +
                ["--log-file=" + os.path.join(w.path, "vg-%p.log")])
        st = fcgiclient.Program(w.env, w.path, "sync-status", wrap=wrap, timeout=120)
        sy = fcgiclient.Program(w.env, w.path, "sync", wrap=wrap, timeout=120)
        try:
            s, h, b = sy.call("POST", "/api/sync", timeout=300)
            evs = T.parse_ndjson(b.decode(errors="replace"))
            T.ok(s == 200 and T.terminal(evs).get("type") == "complete",
                 "fcgi: POST sync streams a complete sync")
            f.control({"delay": 1.0})
            peer = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            peer.connect(sy.sock)
            peer.sendall(b"\x01")  # dropped after the read timeout
            first = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            first.connect(sy.sock)
            first.sendall(fcgiclient.fcgi_head(fcgiclient.cgi_params("POST", "/api/sync"))
                          + fcgiclient.fcgi_record(fcgiclient.FCGI_STDIN, 1))
            first.recv(1)  # the stream began: a sync holds the lock
            s, _h, b = sy.call("POST", "/api/sync", timeout=120)
            T.eq(s, 409, "fcgi: a second POST meanwhile gets 409")
            first.close()  # the client leaves; the sync goes on
            f.control({"delay": 0})
            etag = None
            for method, uri, want, extra in (
                    ("GET", "/api/sync/status", 200, {}),
                    ("GET", "/api/prices", 200, {}),
                    ("GET", "/api/prices/F000/history?limit=5", 200, {}),
                    ("HEAD", "/api/prices", 200, {}),
                    ("GET", "/api/prices/NOPE/history", 404, {}),
                    ("GET", "/api/prices/F000/history?from=%zz", 400, {}),
                    ("GET", "/api/a%00b", 400, {}),
                    ("POST", "/api/prices", 405, {}),
                    ("GET", "/api/metrics", 200, {}),
                    ("GET", "/api/nothing", 404, {})):
                s, h, _b = st.call(method, uri, **extra)
                T.eq(s, want, "fcgi: %s %s -> %d" % (method, uri, want))
                if uri == "/api/prices" and method == "GET":
                    etag = h.get("etag")
            s, _h, _b = st.call("GET", "/api/prices",
                                HTTP_IF_NONE_MATCH=etag or "x")
            T.eq(s, 304, "fcgi: If-None-Match -> 304")
            T.ok(T.wait_for(lambda: "dropped a connection" in sy.log_text(),
                            30), "fcgi: the one-byte peer was dropped")
            peer.close()
            T.ok(T.wait_for(lambda: sy.log_text().count("sync complete") >= 2,
                            120), "fcgi: the left client's sync completed")
            for prog in (st, sy):
                rc, dt = prog.term(120)
                T.eq(rc, 0, "fcgi: %s exits 0 on SIGTERM under valgrind "
                     "(99 would be a valgrind error)" % prog.name)
        finally:
            st.stop()
            sy.stop()
        # Plain CGI: sync detaches (a fork valgrind follows), status not.
        for prog, method, uri in (("sync-status", "GET", "/api/prices"),
                                  ("sync", "POST", "/api/sync")):
            env = dict(w.env)
            env.update(fcgiclient.cgi_params(method, uri))
            p = subprocess.run(wrap + [webstack.program(prog)], env=env,
                               stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=600)
            s = fcgiclient.parse_cgi(p.stdout)[0]
            T.ok(p.returncode == 0 and s == 200,
                 "cgi: %s %s under valgrind (exit %d, status %d)"
                 % (method, uri, p.returncode, s))
        # The detached sync's valgrind wrote its report before its exit
        # closed the pipe that the relay waited on.
        vg_log_ok(sorted(g.glob(os.path.join(w.path, "vg-*.log"))),
                  "fcgi and cgi: no valgrind report")


def main():
    if not shutil.which("valgrind"):
        T.skip_missing("valgrind not found")
    T.need_cli()
    if sanitized(T.cli_path()):
        T.skip_all("built with sanitizers")
    os.environ["PS_WRAPPER"] = " ".join(VG)
    T.scenario(test_cli)
    T.scenario(test_unit)
    T.scenario(test_fcgi)
    return T.done()


if __name__ == "__main__":
    sys.exit(main())
