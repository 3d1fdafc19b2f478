#!/usr/bin/env python3
"""t-metrics: GET …/metrics (SPEC §5) through nginx with the shipped
snippet. The text passes `promtool check metrics` (Debian's prometheus
package) before and after syncs; every SPEC family has # HELP and # TYPE;
values never known are left out (no NaN); after a sync with failures the
figures equal the status and prices documents; the counter of syncs by
result counts partial, error and complete syncs, survives a restart of
sync-status, and ignores a sync that never started; the snippet answers
metrics to localhost only (a client from 127.0.0.2 gets 403)."""

import calendar
import http.client
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), "tests"))
import pstest  # noqa: E402
import webclient  # noqa: E402
import webstack  # noqa: E402
from pstest import eq, ok  # noqa: E402

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
KEY = "metrics-test-key"
LIMIT = 5000
FAMILIES = {
    "pricesync_last_sync_timestamp_seconds": "gauge",
    "pricesync_last_sync_duration_seconds": "gauge",
    "pricesync_last_sync_updated": "gauge",
    "pricesync_last_sync_failed": "gauge",
    "pricesync_sync_running": "gauge",
    "pricesync_symbols": "gauge",
    "pricesync_symbols_failed": "gauge",
    "pricesync_symbols_stale": "gauge",
    "pricesync_upstream_requests_today": "gauge",
    "pricesync_daily_request_limit": "gauge",
    "pricesync_fx_rate": "gauge",
    "pricesync_portfolio_value_gbp": "gauge",
    "pricesync_syncs_total": "counter",
    "pricesync_build_info": "gauge",
}
SAMPLE_RE = re.compile(r'^([a-z_]+)(?:\{([^}]*)\})? (\S+)$')


def parse(text):
    """({(name, labels text): value}, {name: type}, {name: help}, bad lines)."""
    samples, types, helps, bad = {}, {}, {}, []
    for ln in text.splitlines():
        if ln.startswith("# HELP "):
            parts = ln.split(" ", 3)
            helps[parts[2]] = parts[3] if len(parts) > 3 else ""
        elif ln.startswith("# TYPE "):
            parts = ln.split(" ")
            types[parts[2]] = parts[3]
        elif ln.strip():
            m = SAMPLE_RE.match(ln)
            if not m:
                bad.append(ln)
                continue
            samples[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return samples, types, helps, bad


def get_metrics(st, source=None):
    c = http.client.HTTPConnection("127.0.0.1", st.port, timeout=30,
                                   source_address=(source, 0) if source else None)
    try:
        c.request("GET", "/api/metrics")
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, \
            r.read().decode("utf-8", "replace")
    finally:
        c.close()


def promtool(text, tag):
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=text,
                       capture_output=True, text=True, timeout=60)
    if not ok(p.returncode == 0, "%s: promtool check metrics passes" % tag):
        pstest.diag(p.stdout + p.stderr)


def scrape(st, tag):
    s, h, body = get_metrics(st)
    eq(s, 200, "%s: GET /api/metrics answers 200" % tag)
    eq(h.get("content-type"), "text/plain; version=0.0.4",
       "%s: Content-Type text/plain; version=0.0.4" % tag)
    promtool(body, tag)
    samples, types, helps, bad = parse(body)
    ok(not bad, "%s: every line is a comment or a sample (%r)" % (tag, bad[:3]))
    ok("nan" not in body.lower(), "%s: no NaN anywhere" % tag)
    missing = [n for n, t in FAMILIES.items()
               if types.get(n) != t or not helps.get(n)]
    ok(not missing, "%s: every SPEC family has # HELP and # TYPE (missing %r)"
       % (tag, missing))
    return samples


def val(samples, name, labels=""):
    return samples.get((name, labels))


def status(st):
    s, _h, d = webclient.jrequest("GET", st.base_url + "/api/sync/status")
    return d if s == 200 else {}


def prices(st):
    s, _h, d = webclient.jrequest("GET", st.base_url + "/api/prices")
    return d if s == 200 else {}


def counts(samples):
    return tuple(val(samples, "pricesync_syncs_total", 'result="%s"' % r)
                 for r in ("complete", "partial", "error"))


def restart_status(st):
    p = st.procs.pop("sync-status")
    pid = p.pid
    st._stop_proc(p, signal.SIGTERM)
    st._start_program("sync-status")
    return pid != st.procs["sync-status"].pid


def cli(st, *args, env=None):
    return pstest.run_cli(list(args), env or st.env)


def before_any_sync(st):
    m = scrape(st, "before any sync")
    absent = [n for n in ("pricesync_last_sync_timestamp_seconds",
                          "pricesync_last_sync_duration_seconds",
                          "pricesync_last_sync_updated",
                          "pricesync_last_sync_failed",
                          "pricesync_portfolio_value_gbp")
              if any(k[0] == n for k in m)]
    ok(not absent, "before any sync: values never known are left out (%r)"
       % absent)
    ok(not any(k[0] == "pricesync_fx_rate" for k in m),
       "before any sync: no fx rate sample")
    eq(counts(m), (0, 0, 0), "before any sync: syncs_total 0, 0, 0")
    eq(val(m, "pricesync_sync_running"), 0, "before any sync: not running")
    eq(val(m, "pricesync_daily_request_limit"), LIMIT,
       "daily_request_limit is the configured one")
    ok(any(k[0] == "pricesync_build_info" and 'version="' in k[1]
           and v == 1 for k, v in m.items()), "build_info{version} 1")


def after_partial(st, fake):
    """after a sync with failures, the figures are the status's"""
    fake.control({"quote_time": int(time.time()) - 4 * 86400})
    rc, out, err = cli(st, "sync", "--json")
    eq(rc, 3, "a sync with a failed symbol exits 3 (partial)")
    m = scrape(st, "after a partial sync")
    sd, pd = status(st), prices(st)
    lr = sd.get("last_result") or {}
    rows = pd.get("symbols") or []
    t = pstest.ISO_RE.match(str(sd.get("last_synced"))) and \
        calendar.timegm(time.strptime(sd["last_synced"], "%Y-%m-%dT%H:%M:%SZ"))
    eq(val(m, "pricesync_last_sync_timestamp_seconds"), t,
       "last_sync_timestamp_seconds is last_synced (%s)" % sd.get("last_synced"))
    ok(val(m, "pricesync_last_sync_duration_seconds") is not None and
       math.isclose(val(m, "pricesync_last_sync_duration_seconds"),
                    lr.get("duration_ms", -1) / 1000),
       "last_sync_duration_seconds is duration_ms / 1000 (%r ms)"
       % lr.get("duration_ms"))
    eq(val(m, "pricesync_last_sync_updated"), lr.get("updated"),
       "last_sync_updated is last_result.updated")
    eq(val(m, "pricesync_last_sync_failed"), lr.get("failed"),
       "last_sync_failed is last_result.failed")
    ok(lr.get("failed", 0) >= 1, "... and some failed (%r)" % lr.get("failed"))
    eq(val(m, "pricesync_symbols"), sd.get("symbols"), "symbols is status.symbols")
    eq(val(m, "pricesync_upstream_requests_today"), sd.get("requests_today"),
       "upstream_requests_today is status.requests_today (%r)"
       % sd.get("requests_today"))
    fx = sd.get("fx") or {}
    lab = 'pair="%s",basis="%s"' % (fx.get("pair"), fx.get("basis"))
    eq(val(m, "pricesync_fx_rate", lab), fx.get("rate"),
       "fx_rate{%s} is status.fx.rate" % lab)
    ok(val(m, "pricesync_portfolio_value_gbp") is not None and
       math.isclose(val(m, "pricesync_portfolio_value_gbp"),
                    pd.get("total_value_gbp") or -1),
       "portfolio_value_gbp is prices.total_value_gbp (%r)"
       % pd.get("total_value_gbp"))
    eq(val(m, "pricesync_symbols_failed"),
       sum(1 for r in rows if r.get("error")),
       "symbols_failed counts the symbols with an error")
    eq(val(m, "pricesync_symbols_stale"),
       sum(1 for r in rows if r.get("quote_time")),
       "symbols_stale counts the quotes 4 days old")
    eq(counts(m), (0, 1, 0), "syncs_total: one partial")
    fake.control({"quote_time": int(time.time())})


def restart_and_more(st, fake, w):
    """the counter across restarts, a refused sync, an error, a complete"""
    ok(restart_status(st), "sync-status restarted (a new process)")
    m = scrape(st, "after a restart of sync-status")
    eq(counts(m), (0, 1, 0), "the counter survives the restart")
    # A sync that never starts (over the daily limit) is no sync.
    conf = os.path.join(w, "limited.conf")
    with open(st.conf) as fh, open(conf, "w") as out:
        out.write(re.sub(r"(?m)^daily_request_limit = .*$",
                         "daily_request_limit = 1", fh.read()))
    env = dict(st.env, PRICESYNC_CONFIG=conf)
    rc, out, _e = cli(st, "sync", "--json", env=env)
    ok(rc == 1 and "upstream_quota" in out,
       "a sync over the daily limit does not start (%r)" % out.strip()[:120])
    eq(counts(scrape(st, "after a refused sync")), (0, 1, 0),
       "a sync that never started is not counted")
    # A rejected key stops a started sync with an error.
    fake.control({"key": "another-key"})
    rc, out, _e = cli(st, "sync", "--json")
    fake.control({"key": KEY})
    ok(rc == 1 and "upstream_auth" in out, "a rejected key stops the sync")
    eq(counts(scrape(st, "after an error")), (0, 1, 1),
       "syncs_total: one partial, one error")
    rc, _o, _e = cli(st, "remove", "NOSUCH1")
    cs = webclient.CurlStream(st.base_url + "/api/sync")
    try:
        cs.read_all(120)
    finally:
        cs.close()
    eq((cs.events() or [{}])[-1].get("type"), "complete",
       "a clean sync through the web completes")
    m = scrape(st, "after a complete sync")
    eq(counts(m), (1, 1, 1), "syncs_total: complete, partial, error 1 each")
    eq(val(m, "pricesync_symbols_failed"), 0, "no symbol failed now")
    restart_status(st)
    eq(counts(scrape(st, "after a second restart")), (1, 1, 1),
       "the counter survives a second restart")


def methods_and_access(st):
    """HEAD, 405, and metrics to localhost only"""
    s, h, b = webclient.request("HEAD", st.base_url + "/api/metrics")
    ok(s == 200 and b == b"" and h.get("content-type", "").startswith("text/plain"),
       "HEAD /api/metrics: headers, no body")
    s, h, d = webclient.jrequest("POST", st.base_url + "/api/metrics")
    ok(s == 405 and h.get("allow") == "GET, HEAD",
       "POST /api/metrics -> 405, Allow: GET, HEAD")
    try:
        s, _h, _b = get_metrics(st, source="127.0.0.2")
    except OSError as e:
        pstest.skip("metrics from 127.0.0.2", "cannot bind 127.0.0.2: %s" % e)
        return
    eq(s, 403, "the shipped nginx snippet refuses metrics to 127.0.0.2")
    s, _h, _b = webclient.request("GET", st.base_url + "/api/sync/status")
    eq(s, 200, "... while the API stays open to it")


def scenario(fn, *args):
    def run():
        fn(*args)
    run.__doc__ = fn.__doc__
    pstest.scenario(run)


def main():
    if not os.access(PROMTOOL, os.X_OK):
        pstest.skip_missing("no promtool (apt-get install prometheus)")
    if not webstack.have_programs() or not os.access(pstest.cli_path(), os.X_OK):
        pstest.skip_missing("the programs are not built")
    if not os.access(webstack.NGINX, os.X_OK) or not os.access(webstack.SPAWN, os.X_OK):
        pstest.skip_missing("no nginx or spawn-fcgi")
    top = tempfile.mkdtemp(prefix="ps-metrics-")
    os.chmod(top, 0o755)  # the web server's workers (www-data) reach the sockets
    try:
        with pstest.Fake(key=KEY) as fake, \
                webstack.Stack(os.path.join(top, "st"), fake.url, key=KEY,
                        conf_extra={"batch_size": 2,
                                    "daily_request_limit": LIMIT}) as st:
            before_any_sync(st)
            for sym, qty in (("AAPL", "10"), ("MSFT", None), ("VOD.L", "100"),
                             ("NOSUCH1", "5")):
                args = ["add", sym] + (["--quantity", qty] if qty else [])
                rc, _o, e = cli(st, *args)
                if rc != 0:
                    pstest.diag(e)
            scenario(after_partial, st, fake)
            scenario(restart_and_more, st, fake, top)
            scenario(methods_and_access, st)
    finally:
        if os.environ.get("PS_KEEP"):
            pstest.diag("kept", top)
        else:
            shutil.rmtree(top, ignore_errors=True)
    return pstest.done()


if __name__ == "__main__":
    sys.exit(main())
