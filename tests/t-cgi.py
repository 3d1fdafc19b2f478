#!/usr/bin/env python3
"""t-cgi: the two programs without a web server. As plain CGI (the request
in the environment, the answer on stdout), through `cgi-fcgi` against one
FastCGI process started by spawn-fcgi, and the process's life: SIGTERM ends
it after the request in hand, an idle one stops at once, and one process
answers a second request (409) while a sync runs on another thread."""

import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), "tests"))
import pstest  # noqa: E402
import webstack  # noqa: E402
from pstest import eq, ok  # noqa: E402

CGI_FCGI = "/usr/bin/cgi-fcgi"


def parse_cgi(out):
    """(status, {lower header: value}, body) of a CGI answer."""
    head, _, body = out.partition(b"\r\n\r\n")
    hdrs = {}
    for ln in head.decode(errors="replace").split("\r\n"):
        k, _, v = ln.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    st = int(hdrs.get("status", "0 x").split()[0] or 0)
    return st, hdrs, body


def cgi_env(w, method, uri, **extra):
    env = dict(w.env)
    env.update({"GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": method,
                "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "127.0.0.1"})
    if uri is not None:
        env["REQUEST_URI"] = uri
        env["QUERY_STRING"] = uri.partition("?")[2]
    env.update(extra)
    return env


def cgi(w, prog, method, uri, **extra):
    p = subprocess.run([webstack.program(prog)], env=cgi_env(w, method, uri, **extra),
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=120)
    return parse_cgi(p.stdout) + (p.returncode,)


def plain_cgi(w):
    s, h, b, rc = cgi(w, "sync-status", "GET", "/x/api/sync/status")
    ok(s == 200 and rc == 0 and h.get("etag") and
       b'"running":false' in b, "cgi: GET status 200 with an ETag")
    s2, h2, b2, _ = cgi(w, "sync-status", "GET", "/x/api/sync/status",
                        HTTP_IF_NONE_MATCH=h.get("etag", ""))
    ok(s2 == 304 and b2 == b"", "cgi: If-None-Match -> 304 without a body")
    s2, h2, b2, _ = cgi(w, "sync-status", "HEAD", "/x/api/sync/status")
    ok(s2 == 200 and b2 == b"" and h2.get("etag") == h.get("etag"),
       "cgi: HEAD -> headers only")
    s2, h2, b2, _ = cgi(w, "sync-status", "POST", "/x/api/sync/status")
    ok(s2 == 405 and h2.get("allow") == "GET, HEAD" and
       b'"method_not_allowed"' in b2, "cgi: POST status -> 405")
    s2, _h, b2, _ = cgi(w, "sync-status", "GET", "/x/api/whatever")
    ok(s2 == 404 and b'"not_found"' in b2, "cgi: unknown path -> 404")
    s2, _h, b2, _ = cgi(w, "sync-status", "GET", "/api/prices/AAPL/history?limit=0")
    ok(s2 == 400 and b'"bad_request"' in b2, "cgi: limit=0 -> 400")
    # no REQUEST_URI: SCRIPT_NAME + PATH_INFO, as some CGI servers send
    s2, _h, b2, _ = cgi(w, "sync-status", "GET", None,
                        SCRIPT_NAME="/cgi-bin/sync-status",
                        PATH_INFO="/api/prices")
    ok(s2 == 200 and b'"symbols"' in b2, "cgi: SCRIPT_NAME + PATH_INFO route")
    s2, h2, b2, rc = cgi(w, "sync", "POST", "/api/sync")
    evs = pstest.parse_ndjson(b2.decode())
    ok(s2 == 200 and h2.get("content-type") == "application/x-ndjson" and
       h2.get("x-accel-buffering") == "no", "cgi: POST sync 200 NDJSON")
    pstest.events_ok(evs, "cgi: the streamed events follow SPEC §4")
    eq(pstest.terminal(evs).get("type"), "complete", "cgi: the sync completed")
    s2, h2, b2, _ = cgi(w, "sync", "GET", "/api/sync")
    ok(s2 == 405 and h2.get("allow") == "POST", "cgi: GET sync -> 405")
    s2, _h, b2, _ = cgi(w, "sync", "POST", "/api/sync",
                        HTTP_ORIGIN="https://evil.example")
    ok(s2 == 403 and b'"forbidden_origin"' in b2, "cgi: foreign Origin -> 403")
    s2, _h, b2, _ = cgi(w, "sync", "POST", "/api/sync",
                        HTTP_ORIGIN="http://127.0.0.1:8080",
                        HTTP_HOST="127.0.0.1:8081")
    ok(s2 == 403, "cgi: same host, other port than Host's -> 403")
    s2, _h, b2, _ = cgi(w, "sync", "POST", "/api/sync",
                        HTTP_ORIGIN="null")
    ok(s2 == 403, "cgi: Origin null -> 403")
    s2, _h, b2, _ = cgi(w, "sync", "POST", "/deep/prefix/api/sync",
                        HTTP_ORIGIN="http://127.0.0.1",
                        HTTP_HOST="127.0.0.1")
    eq(s2, 200, "cgi: same-host Origin under a prefix -> 200")
    s2, _h, b2, _ = cgi(w, "sync", "POST", "/api/sync",
                        CONTENT_LENGTH="100000")
    ok(s2 == 413 and b'"bad_request"' in b2,
       "cgi: a 100000-byte body -> 413 bad_request")
    s2, _h, b2, _ = cgi(w, "sync-status", "GET", "/api/prices",
                        CONTENT_LENGTH="12x")
    ok(s2 == 400 and b'"bad_request"' in b2,
       "cgi: CONTENT_LENGTH 12x -> 400 bad_request")
    # not run by a server at all
    env = dict(w.env)
    p = subprocess.run([webstack.program("sync")], env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=30)
    ok(p.returncode == 2 and "pricesync-fcgi(8)" in p.stderr,
       "no CGI request and no socket: a usage message, exit 2")
    p = subprocess.run([webstack.program("sync-status"), "--version"],
                       capture_output=True, text=True, timeout=30)
    ok(p.returncode == 0 and "sync-status" in p.stdout, "--version")


def cgi_killed(w, fake):
    """A server that SIGKILLs its CGI once the client left (Apache,
    AH01259) does not stop the sync: it runs in a detached process."""
    before = status_of(w).get("last_synced")
    fake.control({"delay": 0.7})
    p = subprocess.Popen([webstack.program("sync")],
                         env=cgi_env(w, "POST", "/api/sync"),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    got = read_until(p, b'"start"')
    ok(b'"start"' in got, "cgi kill: the sync started")
    p.kill()
    p.wait()
    p.stdout.close()

    def moved():
        d = status_of(w)
        return (d.get("running") is False and d.get("last_synced")
                and d.get("last_synced") != before and d)

    d = pstest.wait_for(moved, 60)
    fake.control({"delay": 0})
    ok(d and d.get("progress") is None,
       "cgi kill: after SIGKILL of the CGI process the sync completed "
       "(last_synced %r -> %r), no progress left" %
       (before, (d or {}).get("last_synced")))


def status_of(w):
    s, _h, b, _rc = cgi(w, "sync-status", "GET", "/api/sync/status")
    try:
        return json.loads(b) if s == 200 else {}
    except ValueError:
        return {}


class Fcgi:
    """One program under spawn-fcgi -n on a unix socket."""

    def __init__(self, w, name):
        self.sock = os.path.join(w.path, name + ".sock")
        self.log = os.path.join(w.path, name + ".log")
        with open(self.log, "ab") as fh:
            self.p = subprocess.Popen([webstack.SPAWN, "-n", "-s", self.sock, "--",
                                       webstack.program(name)], env=w.env,
                                      stdin=subprocess.DEVNULL, stdout=fh,
                                      stderr=fh)
        pstest._live.append(self.p)
        up = pstest.wait_for(lambda: self.p.poll() is None and
                             webstack.connectable(self.sock), 30)
        if not up:
            raise RuntimeError("%s did not start" % name)

    def request(self, w, method, uri, **extra):
        """cgi-fcgi -bind: a Popen whose stdout is the CGI answer."""
        return subprocess.Popen([CGI_FCGI, "-bind", "-connect", self.sock],
                                env=cgi_env(w, method, uri, **extra),
                                stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)

    def run(self, w, method, uri, **extra):
        q = self.request(w, method, uri, **extra)
        out, _ = q.communicate(timeout=120)
        return parse_cgi(out)

    def stop(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def read_until(proc, needle, timeout=60):
    """Reads proc.stdout until needle is seen; returns what was read."""
    import select
    buf = b""
    end = time.monotonic() + timeout
    while needle not in buf and time.monotonic() < end:
        r, _, _ = select.select([proc.stdout], [], [], 0.2)
        if r:
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
    return buf


def fastcgi(w, fake):
    st = Fcgi(w, "sync-status")
    sy = Fcgi(w, "sync")
    try:
        s, h, b = st.run(w, "GET", "/api/prices")
        ok(s == 200 and b'"symbols"' in b and h.get("etag"),
           "cgi-fcgi: GET prices through FastCGI")
        s, h, b = sy.run(w, "POST", "/api/sync")
        evs = pstest.parse_ndjson(b.decode())
        ok(s == 200 and pstest.terminal(evs).get("type") == "complete",
           "cgi-fcgi: POST sync streams a complete sync")
        # one process, two requests: 409 while the first runs
        fake.control({"delay": 1.0})
        first = sy.request(w, "POST", "/api/sync")
        got = read_until(first, b'"start"')
        ok(b'"start"' in got, "cgi-fcgi: a slow sync started")
        t0 = time.monotonic()
        s, h, b = sy.run(w, "POST", "/api/sync")
        dt = time.monotonic() - t0
        ok(s == 409 and b'"sync_in_progress"' in b and dt < 1.0,
           "cgi-fcgi: the same process answers 409 at once (%.3f s)" % dt)
        # SIGTERM now: the sync in hand still ends, then the process
        sy.p.send_signal(signal.SIGTERM)
        rest, _ = first.communicate(timeout=120)
        evs = pstest.parse_ndjson((got + rest).decode(errors="replace")
                                  .partition("\r\n\r\n")[2])
        eq(pstest.terminal(evs).get("type"), "complete",
           "SIGTERM: the sync in hand runs to its end")
        try:
            rc = sy.p.wait(30)
        except subprocess.TimeoutExpired:
            rc = None
        eq(rc, 0, "SIGTERM: then the process exits 0")
        fake.control({"delay": 0})
        # an idle process stops at once
        t0 = time.monotonic()
        st.p.send_signal(signal.SIGTERM)
        try:
            rc = st.p.wait(10)
        except subprocess.TimeoutExpired:
            rc = None
        eq(rc, 0, "SIGTERM: an idle process exits 0 (%.2f s)"
           % (time.monotonic() - t0))
        with open(sy.log) as fh:
            lines = [ln for ln in fh.read().splitlines() if ln]
        # not vacuous: the log holds at least the start and a sync's end
        ok(any("ready" in ln for ln in lines) and
           any("sync complete" in ln for ln in lines) and
           all(ln.startswith("sync: ") for ln in lines),
           "every log line is prefixed with the program's name (%d lines, "
           "with ready and sync complete)" % len(lines))
    finally:
        st.stop()
        sy.stop()


def main():
    if not webstack.have_programs():
        pstest.skip_missing("cgi/sync and cgi/sync-status are not built")
    pstest.need_cli()
    with pstest.Fake() as fake, pstest.Workdir(fake) as w:
        w.write_conf(min_interval_s=0, batch_size=2, concurrency=1)
        rc, _o, err = w.import_symbols(["AAPL", "MSFT", "NVDA", "TSLA"])
        eq(rc, 0, "symbols imported")
        plain_cgi(w)
        cgi_killed(w, fake)
        missing = [t for t in (CGI_FCGI, webstack.SPAWN) if not os.access(t, os.X_OK)]
        if not missing:
            fastcgi(w, fake)
        elif os.environ.get("CI") == "true":
            ok(False, "the FastCGI half needs %s (under CI)" % missing)
        else:
            pstest.skip("the FastCGI half", "no %s" % missing)
    return pstest.done()


if __name__ == "__main__":
    sys.exit(main())
