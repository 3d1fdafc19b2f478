"""webchecks: the end-to-end checks t-nginx.py and t-apache.py share,
each run against a webstack.Stack and the fake FMP and reported under
a tag naming the stack."""

import json
import os
import re
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pstest  # noqa: E402
from webclient import CurlStream, jrequest, request  # noqa: E402

SYMS = ["AAPL", "MSFT", "GOOGL", "NVDA", "TSLA", "AMZN"]


def add_symbols(st, syms=SYMS):
    rc, out, err = pstest.run_cli(["add"] + list(syms), st.env)
    pstest.eq(rc, 0, "pricesync add %d symbols to the stack's db" % len(syms))
    if rc != 0:
        pstest.diag(err)


def status_doc(st, prefix=""):
    s, _h, doc = jrequest("GET", st.base_url + prefix + "/api/sync/status")
    return doc if s == 200 else None


def check_streaming(st, fake, tag):
    """Acceptance 1: each line leaves before the next upstream answer."""
    fake.control({"delay": 0.8})
    fake.reset()
    cs = CurlStream(st.base_url + "/api/sync")
    try:
        cs.read_all(120)
    finally:
        cs.close()
    fake.control({"delay": 0})
    evs = cs.events()
    pstest.events_ok(evs, "%s: streamed events follow SPEC §4" % tag)
    pstest.eq(cs.status(), 200, "%s: POST /api/sync answers 200" % tag)
    hdr = cs.headers_text().lower()
    pstest.ok("content-type: application/x-ndjson" in hdr,
              "%s: Content-Type application/x-ndjson" % tag)
    pstest.ok("cache-control: no-store" in hdr, "%s: Cache-Control no-store" % tag)
    pstest.ok("content-length" not in hdr and "transfer-encoding: chunked" in hdr,
              "%s: chunked, no Content-Length" % tag)
    quotes = sorted((e for e in fake.stats()["log"]
                     if e["path"] == "/stable/batch-quote"),
                    key=lambda e: e["t_start"])
    if not pstest.ok(len(quotes) == 3 and len(cs.lines) >= 5,
                     "%s: 3 batches fetched, 5 lines received" % tag):
        pstest.diag("quotes %r lines %r" % (quotes, cs.lines))
        return
    t_start_line = cs.lines[0][0]
    pstest.ok(t_start_line < quotes[0]["t_end"],
              "%s: the start line arrives before the first batch is answered "
              "(%.3f s before)" % (tag, quotes[0]["t_end"] - t_start_line))
    for k in (1, 2):
        t = cs.lines[k][0]
        pstest.ok(evs[k].get("type") == "progress" and t < quotes[k]["t_end"],
                  "%s: progress %d arrives before batch %d is answered "
                  "(%.3f s before)" % (tag, k, k + 1, quotes[k]["t_end"] - t))


def check_one_process(st, fake, tag):
    """Acceptance 3: 409 at once from the same process, running/progress,
    and a kill -9 that leaves no sync 'running'."""
    fake.control({"delay": 0.8})
    pid = st.sync_pid
    cs = CurlStream(st.base_url + "/api/sync")
    try:
        first = cs.readline(60)
        pstest.ok(first and '"start"' in first[1], "%s: the sync started" % tag)
        t0 = time.monotonic()
        s, _h, doc = jrequest("POST", st.base_url + "/api/sync", timeout=30)
        dt = time.monotonic() - t0
        pstest.eq(s, 409, "%s: a second POST while a sync runs gets 409" % tag)
        pstest.ok(dt < 1.0, "%s: ... within one second (%.3f s)" % (tag, dt))
        pstest.eq((doc or {}).get("code"), "sync_in_progress",
                  "%s: ... with code sync_in_progress" % tag)
        pstest.eq(st.sync_pid, pid, "%s: ... from the same single process" % tag)
        d = status_doc(st) or {}
        pstest.eq(d.get("running"), True, "%s: status running while it runs" % tag)
        pstest.ok(isinstance(d.get("progress"), dict) and
                  d["progress"].get("type") in ("start", "progress"),
                  "%s: status shows the progress (%r)" % (tag, d.get("progress")))
        cs.read_all(120)
    finally:
        cs.close()
    pstest.eq((cs.events() or [{}])[-1].get("type"), "complete",
              "%s: the first sync completed" % tag)
    d = pstest.wait_for(lambda: (status_doc(st) or {}).get("running") is False
                        and status_doc(st), 10) or {}
    pstest.eq(d.get("running"), False, "%s: running false after it ends" % tag)
    pstest.ok(pstest.ISO_RE.match(str(d.get("last_synced"))),
              "%s: last_synced set (%r)" % (tag, d.get("last_synced")))
    # kill -9 in the middle of a sync
    cs = CurlStream(st.base_url + "/api/sync")
    try:
        first = cs.readline(60)
        pstest.ok(first and '"start"' in first[1], "%s: another sync started" % tag)
        d = status_doc(st) or {}
        pstest.eq(d.get("running"), True, "%s: running before the kill" % tag)
        st.kill_sync(signal.SIGKILL)
        cs.read_all(60)
    finally:
        cs.close()
    d = pstest.wait_for(lambda: (status_doc(st) or {}).get("running") is False
                        and status_doc(st), 10) or {}
    pstest.eq(d.get("running"), False, "%s: running false after kill -9" % tag)
    pstest.eq(d.get("progress"), None, "%s: no progress after kill -9" % tag)
    st.restart_sync()
    fake.control({"delay": 0})
    cs = CurlStream(st.base_url + "/api/sync")
    try:
        cs.read_all(120)
    finally:
        cs.close()
    evs = cs.events()
    pstest.eq((evs or [{}])[-1].get("type"), "complete",
              "%s: after a restart the next sync completes" % tag)


def check_hangup(st, fake, tag):
    """Acceptance 4: a client that leaves does not stop the sync."""
    before = (status_doc(st) or {}).get("last_synced")
    done_before = st.program_log("sync").count("sync complete")
    fake.control({"delay": 0.8})
    cs = CurlStream(st.base_url + "/api/sync")
    try:
        first = cs.readline(60)
        pstest.ok(first and '"start"' in first[1], "%s: sync started" % tag)
    finally:
        cs.close()  # hangs up after the first event

    def moved():
        d = status_doc(st) or {}
        return (d.get("running") is False and d.get("last_synced")
                and d.get("last_synced") != before and d)

    d = pstest.wait_for(moved, 60)
    fake.control({"delay": 0})
    pstest.ok(d, "%s: after the client hung up the sync completed and "
              "last_synced moved (%r -> %r)"
              % (tag, before, (status_doc(st) or {}).get("last_synced")))
    pstest.ok(pstest.wait_for(lambda: st.program_log("sync").count(
        "sync complete") > done_before, 10),
        "%s: the sync program logged the completed sync" % tag)
    pstest.eq(st.procs["sync"].poll(), None, "%s: the sync process lives on" % tag)


def check_cgi_hangup(st, fake, tag):
    """Plain CGI (issue 9, defect 2): Apache kills the CGI process of a
    client that left (SIGTERM, then SIGKILL); the sync must still run to
    its end and commit, and leave no progress behind."""
    before = (status_doc(st) or {}).get("last_synced")
    fake.control({"delay": 1.5})
    cs = CurlStream(st.base_url + "/api/sync")
    try:
        first = cs.readline(60)
        pstest.ok(first and '"start"' in first[1], "%s: sync started" % tag)
        s, _h, doc = jrequest("POST", st.base_url + "/api/sync", timeout=30)
        pstest.ok(s == 409 and (doc or {}).get("code") == "sync_in_progress",
                  "%s: a second POST meanwhile gets 409 (%r)" % (tag, s))
    finally:
        cs.close()  # hangs up after the first event
    t0 = time.monotonic()

    def moved():
        d = status_doc(st) or {}
        return (d.get("running") is False and d.get("last_synced")
                and d.get("last_synced") != before and d)

    d = pstest.wait_for(moved, 90)
    fake.control({"delay": 0})
    pstest.ok(d, "%s: after the client hung up the sync completed and "
              "last_synced moved (%r -> %r, %.1f s after)"
              % (tag, before, (d or {}).get("last_synced"),
                 time.monotonic() - t0))
    pstest.eq((d or {}).get("progress"), None,
              "%s: ... and its progress is cleared" % tag)
    res = (d or {}).get("last_result") or {}
    pstest.eq((res.get("updated"), res.get("failed")), (len(SYMS), 0),
              "%s: ... every symbol updated, none failed" % tag)
    log = st.error_log_text()
    if "AH01259" in log or "didn't exit" in log:
        pstest.diag("%s: Apache did kill the CGI process (AH01259)" % tag)


def check_prefix(st, fake, prefix, tag):
    s, _h, d = jrequest("GET", st.base_url + prefix + "/api/sync/status")
    pstest.ok(s == 200 and isinstance(d, dict) and "running" in d,
              "%s: %sapi/sync/status answers" % (tag, prefix + "/"))
    s, _h, d = jrequest("GET", st.base_url + prefix + "/api/prices")
    pstest.ok(s == 200 and isinstance(d, dict) and "symbols" in d,
              "%s: %s/api/prices answers" % (tag, prefix))
    s, _h, d = jrequest("GET", st.base_url + prefix + "/api/prices/AAPL/history")
    pstest.ok(s == 200 and (d or {}).get("symbol") == "AAPL",
              "%s: %s/api/prices/AAPL/history answers" % (tag, prefix))
    cs = CurlStream(st.base_url + prefix + "/api/sync")
    try:
        cs.read_all(120)
    finally:
        cs.close()
    pstest.eq((cs.events() or [{}])[-1].get("type"), "complete",
              "%s: POST %s/api/sync streams a sync" % (tag, prefix))
    s, h, _b = request("GET", st.base_url + prefix + "/")
    pstest.ok(s == 200 and "text/html" in h.get("content-type", ""),
              "%s: the dashboard at %s/" % (tag, prefix))


def check_basic_codes(st, tag):
    b = st.base_url
    s, h, d = jrequest("GET", b + "/api/sync")
    pstest.ok(s == 405 and h.get("allow") == "POST" and
              (d or {}).get("code") == "method_not_allowed",
              "%s: GET /api/sync -> 405, Allow: POST" % tag)
    s, h, d = jrequest("POST", b + "/api/sync/status")
    pstest.ok(s == 405 and h.get("allow") == "GET, HEAD" and
              (d or {}).get("code") == "method_not_allowed",
              "%s: POST /api/sync/status -> 405, Allow: GET, HEAD" % tag)
    s, h, d = jrequest("POST", b + "/api/sync",
                       headers={"Origin": "http://evil.example"})
    pstest.ok(s == 403 and (d or {}).get("code") == "forbidden_origin"
              and h.get("content-type", "").startswith("application/json"),
              "%s: a foreign Origin -> 403 forbidden_origin" % tag)
    s, _h, d = jrequest("GET", b + "/api/nope")
    pstest.ok(s == 404 and (d or {}).get("code") == "not_found",
              "%s: unknown path -> 404 not_found" % tag)
    s, _h, d = jrequest("GET", b + "/api/prices/NOSUCH/history")
    pstest.ok(s == 404 and (d or {}).get("code") == "not_found",
              "%s: unknown symbol -> 404 not_found" % tag)
    for path in ("/api/sync/status", "/api/prices", "/api/prices/AAPL/history"):
        s, h, body = request("GET", b + path)
        et = h.get("etag", "")
        pstest.ok(s == 200 and re.match(r'^"[0-9a-f]{16}"$', et) and
                  h.get("cache-control") == "no-cache",
                  "%s: %s has an ETag and no-cache (%s)" % (tag, path, et))
        s2, h2, body2 = request("GET", b + path, headers={"If-None-Match": et})
        pstest.ok(s2 == 304 and body2 == b"" and h2.get("etag") == et,
                  "%s: %s If-None-Match -> 304, no body" % (tag, path))
        s3, h3, body3 = raw_head(st, path)
        pstest.ok(s3 == 200 and body3 == b"" and h3.get("etag") == et,
                  "%s: HEAD %s: headers, no body (%d bytes after them)"
                  % (tag, path, len(body3)))


def raw_head(st, path):
    """HEAD over a raw connection read to its end, so that bytes after the
    headers are seen (http.client reads no body for HEAD, whatever comes):
    (status, {lower header: value}, what followed the headers)."""
    s = socket.create_connection(("127.0.0.1", st.port), timeout=30)
    buf = b""
    try:
        s.sendall(b"HEAD %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                  b"Connection: close\r\n\r\n" % (path.encode(), st.port))
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    finally:
        s.close()
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    hdrs = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        status = 0
    return status, hdrs, rest


def check_no_key(st, key, tag):
    """Acceptance 7: the key in no body, header or log line."""
    texts = []
    b = st.base_url
    for m, path in (("GET", "/api/sync/status"), ("GET", "/api/prices"),
                    ("GET", "/api/prices/AAPL/history"), ("GET", "/api/sync"),
                    ("GET", "/api/nope"), ("HEAD", "/api/prices")):
        s, h, body = request(m, b + path)
        texts.append(json.dumps(h) + body.decode(errors="replace"))
    cs = CurlStream(b + "/api/sync")
    try:
        cs.read_all(120)
    finally:
        cs.close()
    texts.append(cs.headers_text() + "\n".join(l for _, l in cs.lines))
    pstest.eq((cs.events() or [{}])[-1].get("type"), "complete",
              "%s: a sync with a key configured completes" % tag)
    leaks = [t[:200] for t in texts if key in t]
    pstest.ok(not leaks, "%s: the API key is in no response seen (%d)"
              % (tag, len(texts)))
    for t in leaks[:3]:
        pstest.diag("leak: " + t)
    log = st.error_log_text()
    # not vacuous: the logs read hold the programs' own lines
    pstest.ok("sync complete" in log and "sync-status: ready" in log and
              key not in log,
              "%s: the API key is in no server or program log (%d bytes "
              "read)" % (tag, len(log)))
    for name, p in st.procs.items():
        try:
            with open("/proc/%d/cmdline" % p.pid, "rb") as fh:
                argv = fh.read().decode(errors="replace")
        except OSError:
            argv = ""
        pstest.ok(name in argv and key not in argv,
                  "%s: the key is not in %s's argv (%r)" % (tag, name, argv))
