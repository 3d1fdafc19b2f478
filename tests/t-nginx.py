#!/usr/bin/env python3
"""t-nginx: the two FastCGI programs behind a real nginx, configured from
the shipped etc/nginx-pricesync.conf (SPEC §5; issue 3's acceptance 1-5
and 7): the stream event by event, every status code and error body, one
`sync` process answering 409 at once, kill -9, a client that hangs up,
ETag/304/HEAD, the shapes of prices and history, a second URL prefix, and
the API key in no answer or log."""

import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), "tests"))
import pstest  # noqa: E402
import webchecks  # noqa: E402
import webclient  # noqa: E402
import webstack  # noqa: E402
from pstest import diag, eq, ok  # noqa: E402

KEY = "pskey-SECRET-0123456789abcdef"


def need():
    if not webstack.have_programs():
        pstest.skip_missing("cgi/sync and cgi/sync-status are not built")
    for tool in (webstack.NGINX, webstack.SPAWN):
        if not os.access(tool, os.X_OK):
            pstest.skip_missing("no %s" % tool)
    pstest.need_cli()


def workdir():
    return tempfile.mkdtemp(prefix="ps-nginx-")


def cleanup(d):
    if os.environ.get("PS_KEEP"):
        diag("kept", d)
    else:
        shutil.rmtree(d, ignore_errors=True)


def check_shapes(st):
    """Prices and history answer the stored data in §5's shapes."""
    b = st.base_url
    s, h, d = webclient.jrequest("GET", b + "/api/prices")
    ok(s == 200 and h.get("content-type", "").startswith("application/json"),
       "prices: 200 application/json")
    d = d or {}
    syms = d.get("symbols") or []
    eq([x.get("symbol") for x in syms], sorted(webchecks.SYMS),
       "prices: every symbol, sorted")
    want = ["symbol", "name", "exchange", "currency", "price", "change",
            "change_percent", "day_low", "day_high", "volume", "quote_time",
            "updated_at", "price_gbp", "quantity", "value_gbp", "error"]
    ok(syms and all(set(want) <= set(x) for x in syms),
       "prices: every row has the fields of §5")
    ok(syms and all(isinstance(x.get("price"), (int, float)) for x in syms),
       "prices: synced rows have a price")
    fx = d.get("fx") or {}
    ok(fx.get("pair") == "USDGBP" and isinstance(fx.get("rate"), float),
       "prices: fx pair and rate (%r)" % fx)
    ok("total_value_gbp" in d, "prices: total_value_gbp present")
    s, _h, d = webclient.jrequest("GET", b + "/api/prices/AAPL/history")
    pts = (d or {}).get("points") or []
    ok(s == 200 and d.get("symbol") == "AAPL" and len(pts) >= 1 and
       all(set(p) == {"time", "price"} and pstest.ISO_RE.match(p["time"])
           for p in pts),
       "history: {symbol, points:[{time, price}]} (%r)" % (d,))
    # percent-encoded and lower-case symbol
    s, _h, d2 = webclient.jrequest("GET", b + "/api/prices/%61apl/history")
    eq((s, (d2 or {}).get("symbol")), (200, "AAPL"),
       "history: the symbol is percent-decoded and upper-cased")
    s, _h, d2 = webclient.jrequest("GET", b + "/api/prices/AAPL/history?from=2000-01-01"
                           "&to=2100-01-01T00:00:00Z&limit=1")
    ok(s == 200 and len((d2 or {}).get("points", [])) == 1,
       "history: from, to and limit accepted (%r)" % (d2,))
    s, _h, d2 = webclient.jrequest("GET", b + "/api/prices/AAPL/history?to=2000-01-01")
    ok(s == 200 and (d2 or {}).get("points") == [],
       "history: to before every point -> no points")
    for q, name in (("from=yesterday", "from"), ("to=2026-13-01", "to"),
                    ("limit=0", "limit"), ("limit=100001", "limit"),
                    ("limit=ten", "limit"), ("limit=", "limit"),
                    ("from=%zz", "from")):
        s, h, d2 = webclient.jrequest("GET", b + "/api/prices/AAPL/history?" + q)
        ok(s == 400 and (d2 or {}).get("code") == "bad_request" and
           name in (d2 or {}).get("message", "") and
           h.get("content-type", "").startswith("application/json"),
           "history ?%s -> 400 bad_request naming %s" % (q, name))


def main_stack(fake):
    d = workdir()
    try:
        with webstack.Stack(d, fake.url, "nginx", prefixes=("/", "/pricesync/"),
                     key=KEY, conf_extra={"batch_size": 2,
                                          "concurrency": 1}) as st:
            webchecks.add_symbols(st)
            webchecks.check_streaming(st, fake, "nginx")
            webchecks.check_one_process(st, fake, "nginx")
            webchecks.check_hangup(st, fake, "nginx")
            webchecks.check_basic_codes(st, "nginx")
            # an Origin naming this host is allowed (nginx passes Host
            # without the port)
            s, _h, body = webclient.request("POST", st.base_url + "/api/sync",
                                    headers={"Origin": st.base_url})
            eq(s, 200, "nginx: a same-host Origin may start a sync")
            check_shapes(st)
            webchecks.check_prefix(st, fake, "/pricesync", "nginx")
            webchecks.check_prefix(st, fake, "", "nginx")
            webchecks.check_no_key(st, KEY, "nginx")
    finally:
        cleanup(d)


def cooldown_stack(fake):
    d = workdir()
    try:
        with webstack.Stack(d, fake.url, "nginx", key=KEY,
                     conf_extra={"min_interval_s": 3600}) as st:
            webchecks.add_symbols(st, ["AAPL"])
            s, _h, _b = webclient.request("POST", st.base_url + "/api/sync")
            eq(s, 200, "cooldown: the first sync runs")
            s, h, d2 = webclient.jrequest("POST", st.base_url + "/api/sync")
            ra = h.get("retry-after", "")
            ok(s == 429 and (d2 or {}).get("code") == "cooldown",
               "cooldown: a second sync -> 429 cooldown (%r)" % (d2,))
            ok(ra.isdigit() and 0 < int(ra) <= 3600,
               "cooldown: Retry-After in seconds (%r)" % ra)
            ok(isinstance((d2 or {}).get("message"), str) and
               set(d2) == {"type", "code", "message"},
               "cooldown: a one-line error body of §5's shape")
    finally:
        cleanup(d)


def quota_stack(fake):
    d = workdir()
    try:
        with webstack.Stack(d, fake.url, "nginx", key=KEY,
                     conf_extra={"daily_request_limit": 1,
                                 "batch_size": 1}) as st:
            webchecks.add_symbols(st, ["AAPL", "MSFT", "NVDA"])
            s, h, d2 = webclient.jrequest("POST", st.base_url + "/api/sync")
            ok(s == 429 and (d2 or {}).get("code") == "upstream_quota",
               "quota: a sync over daily_request_limit -> 429 upstream_quota "
               "(%r %r)" % (s, d2))
            ok("retry-after" not in h, "quota: no Retry-After")
    finally:
        cleanup(d)


def config_stack(fake):
    d = workdir()
    try:
        with webstack.Stack(d, fake.url, "nginx",
                     conf_extra={"no_such_key": "1"}) as st:
            for m, path in (("POST", "/api/sync"), ("GET", "/api/sync/status"),
                            ("GET", "/api/prices")):
                s, _h, d2 = webclient.jrequest(m, st.base_url + path)
                ok(s == 500 and (d2 or {}).get("code") == "config" and
                   "no_such_key" in (d2 or {}).get("message", ""),
                   "bad config: %s %s -> 500 config naming the key (%r)"
                   % (m, path, d2))
            ok(re.search(r"^sync: .*no_such_key", st.program_log("sync"), re.M),
               "bad config: logged at start, prefixed with the program")
    finally:
        cleanup(d)


def store_stack(fake):
    d = workdir()
    try:
        notdir = os.path.join(d, "not-a-dir")
        with open(notdir, "w") as fh:
            fh.write("x")
        with webstack.Stack(d, fake.url, "nginx", key=KEY,
                     conf_extra={"db_path": notdir}) as st:
            for m, path in (("POST", "/api/sync"), ("GET", "/api/sync/status")):
                s, _h, d2 = webclient.jrequest(m, st.base_url + path)
                ok(s == 500 and (d2 or {}).get("code") == "store",
                   "bad store: %s %s -> 500 store (%r)" % (m, path, d2))
    finally:
        cleanup(d)


def main():
    need()
    with pstest.Fake(key=KEY) as fake:
        main_stack(fake)
        fake.control({"delay": 0})
        cooldown_stack(fake)
        quota_stack(fake)
        config_stack(fake)
        store_stack(fake)
    return pstest.done()


if __name__ == "__main__":
    sys.exit(main())
