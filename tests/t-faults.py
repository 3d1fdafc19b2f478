#!/usr/bin/env python3
"""t-faults: upstream faults end to end (acceptance 4 and 5, SPEC §4, §8).

First a self-test of the fake itself (its shapes and fault kinds), which
runs even before the CLI is built; then `pricesync sync --json` against
the fake with a rejected key, a spent quota, retried 503 and 429, malformed
and truncated bodies, a reset connection, an fx failure, a closed port, a
hung request, plan refusals and the daily request limit. The API key used
is distinctive, and is looked for in every output and in every process's
argv while a sync runs.
"""

import http.client
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(
    os.environ.get("top_srcdir")
    or os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
import pstest as T  # noqa: E402

KEY = "SECRETKEY123"
WRONG = "WRONGKEY987"
RATE = 0.7891
SPECIAL = {"Error Message": "Premium Query Parameter: 'Special Endpoint : This value set for 'symbol' is not available under your current subscription please visit our subscription page to upgrade your plan at https://site.financialmodelingprep.com/developer/docs/pricing'"}


# ---- the fake itself ----
def fake_selftest():
    """the fake speaks FMP's shapes and its faults"""
    with T.Fake(key="K") as f:
        g = lambda p: T.http("GET", f.url + p)  # noqa: E731
        st, b = g("/stable/batch-quote?symbols=AAPL,VOD.L,NOSUCH1&apikey=K")
        rows = json.loads(b)
        T.eq((st, [r["symbol"] for r in rows]), (200, ["AAPL", "VOD.L"]),
             "fake: batch-quote leaves the unknown symbol out")
        T.eq(list(rows[0]), ["symbol", "name", "price", "changePercentage",
                             "change", "volume", "dayLow", "dayHigh",
                             "yearHigh", "yearLow", "marketCap", "priceAvg50",
                             "priceAvg200", "exchange", "open",
                             "previousClose", "timestamp"],
             "fake: stable quote fields in FMP's order")
        T.eq((rows[1]["exchange"], rows[0]["timestamp"]), ("LSE", 1762549202),
             "fake: LSE exchange, fixed timestamp")
        st, b = g("/api/v3/quote/AAPL?apikey=K")
        r = json.loads(b)[0]
        T.ok("changesPercentage" in r and "eps" in r and "avgVolume" in r
             and "changePercentage" not in r, "fake: v3 quote shape")
        st, b = g("/api/v3/fx/USDGBP?apikey=K")
        r = json.loads(b)[0]
        T.eq((r["ticker"], r["bid"]), ("USD/GBP", RATE), "fake: v3 fx bid = rate")
        st, b = g("/stable/quote?symbol=USDGBP&apikey=K")
        r = json.loads(b)[0]
        T.eq((r["symbol"], r["price"], r["marketCap"], r["exchange"]),
             ("USDGBP", RATE, None, "FOREX"), "fake: stable forex quote")
        T.eq(g("/stable/quote?symbol=AAPL,MSFT&apikey=K"), (200, "[]"),
             "fake: comma list on /stable/quote answers []")
        st, b = g("/stable/profile?symbol=VOD.L&apikey=K")
        T.eq(json.loads(b)[0]["currency"], "GBp", "fake: profile currency GBp")
        st, b = g("/stable/quote?symbol=AAPL&apikey=nope")
        T.ok(st == 401 and json.loads(b)["Error Message"].startswith("Invalid API KEY"),
             "fake: bad key -> 401 Invalid API KEY")
        f.control({"fail": [{"match": "*", "status": 429, "retry_after": "1", "times": 1}]})
        c = http.client.HTTPConnection("127.0.0.1", f.port, timeout=5)
        c.request("GET", "/stable/batch-quote?symbols=AAPL&apikey=K")
        r = c.getresponse()
        r.read()
        T.eq((r.status, r.getheader("Retry-After")), (429, "1"), "fake: 429 Retry-After")
        c.request("GET", "/stable/batch-quote?symbols=AAPL&apikey=K")
        r = c.getresponse()
        r.read()
        T.eq(r.status, 200, "fake: rule spent, then 200 on the same connection")
        f.control({"fail": [{"match": "AAPL", "kind": "truncated", "times": 1}]})
        c = http.client.HTTPConnection("127.0.0.1", f.port, timeout=5)
        c.request("GET", "/stable/batch-quote?symbols=AAPL&apikey=K")
        r = c.getresponse()
        try:
            r.read()
            T.ok(False, "fake: truncated body")
        except http.client.IncompleteRead:
            T.ok(True, "fake: truncated body")
        f.control({"fail": [{"match": "AAPL", "kind": "malformed", "times": 1}]})
        st, b = g("/stable/batch-quote?symbols=AAPL&apikey=K")
        try:
            json.loads(b)
            T.ok(False, "fake: malformed body")
        except ValueError:
            T.ok(st == 200, "fake: malformed body")
        f.control({"fail": [{"match": "AAPL", "kind": "hang", "times": 1}]})
        s = socket.create_connection(("127.0.0.1", f.port))
        s.sendall(b"GET /stable/quote?symbol=AAPL&apikey=K HTTP/1.1\r\nHost: x\r\n\r\n")
        T.ok(T.wait_for(lambda: f.stats()["in_flight"] == 1, 5), "fake: hang holds the request")
        s.close()
        T.ok(T.wait_for(lambda: f.stats()["in_flight"] == 0, 5), "fake: hang ends when the client leaves")
        f.control({"quota_spent": True})
        st, b = g("/api/v3/fx/USDGBP?apikey=K")
        T.ok(st == 429 and "Limit Reach" in b, "fake: quota spent -> 429 Limit Reach")
        f.control({"quota_spent": False, "legacy": True})
        st, b = g("/api/v3/quote/AAPL?apikey=K")
        T.ok(st == 403 and "Legacy Endpoint" in b, "fake: legacy -> 403")
        f.control({"legacy": False, "plan": "free"})
        st, b = g("/stable/batch-quote?symbols=AAPL&apikey=K")
        T.ok(st == 402 and "Restricted Endpoint" in b, "fake: free plan batch -> 402")
        st, b = g("/stable/quote?symbol=ZZZZ&apikey=K")
        T.ok(st == 402 and "Special Endpoint" in b, "fake: free plan other symbol -> 402")
        T.eq(g("/stable/quote?symbol=AAPL&apikey=K")[0], 200, "fake: free plan sample symbol")
        stats = f.stats()
        T.ok(stats["requests"] > 10 and "apikey" not in json.dumps(stats),
             "fake: stats count requests and never log the key")
        f.reset(state=True)
        T.eq(f.stats()["requests"], 0, "fake: reset clears stats")


# ---- helpers ----
def new_case(f, n=30, **conf):
    w = T.Workdir(f, api_key=KEY)
    conf.setdefault("batch_size", 10)
    w.write_conf(**conf)
    symbols = T.syms("S", n)
    rc, out, err = w.import_symbols(symbols)
    T.eq(rc, 0, "import %d symbols" % n)
    return w, symbols


def secret_free(texts, name):
    bad = [t for t in texts if KEY in t or WRONG in t]
    T.ok(not bad, name)


def last_synced(w):
    rc, stt, err = w.json("status")
    return (stt or {}).get("last_synced")


def keyed_fake():
    f = T.Fake().start()
    f.control({"key": KEY})  # not on the fake's argv: we scan every argv
    return f


def quote_log(f):
    return [e for e in f.stats()["log"]
            if e["path"] in ("/stable/batch-quote", "/stable/quote", "/api/v3/quote")
            and e["symbols"] != ["USDGBP"]]


# ---- acceptance 4 ----
def test_bad_key():
    """acceptance 4: a rejected key stops with upstream_auth"""
    f = keyed_fake()
    try:
        w, symbols = new_case(f, 40, batch_size=5, concurrency=1)
        f.control({"delay": 0.15})
        p = T.popen_cli(["sync", "--json"], w.env)
        seen_pid = False
        hits = []
        while p.poll() is None:
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    with open("/proc/%s/cmdline" % pid, "rb") as fh:
                        cmd = fh.read()
                except OSError:
                    continue
                if int(pid) == p.pid:
                    seen_pid = True
                if KEY.encode() in cmd:
                    hits.append(cmd.replace(b"\0", b" ").decode(errors="replace"))
            time.sleep(0.05)
        out, err = p.communicate()
        f.control({"delay": 0})
        ev = T.parse_ndjson(out)
        T.events_ok(ev, "good sync: events follow the rules")
        T.eq(p.returncode, 0, "good sync with the right key exits 0")
        T.ok(seen_pid, "the sync's /proc/PID/cmdline was read while it ran")
        T.ok(not hits, "the key is in no process's argv")
        for h in hits[:3]:
            T.diag("argv: " + h)
        first = last_synced(w)
        T.ok(first is not None, "last_synced set by the good sync")
        outs = [out, err]

        w.env["FMP_API_KEY"] = WRONG
        rc, out, err = w.cli("sync", "--json")
        outs += [out, err]
        ev = T.parse_ndjson(out)
        T.events_ok(ev, "rejected key: events follow the rules")
        T.eq(rc, 1, "rejected key exits 1")
        t = T.terminal(ev)
        T.eq((t.get("type"), t.get("code")), ("error", "upstream_auth"), "error upstream_auth")
        T.ok(len(quote_log(f)) <= 40 // 5 + 4 + 1, "it stops early")
        T.eq(last_synced(w), first, "a rejected key leaves last_synced alone")

        f.control({"old_key_error": True})
        rc, out, err = w.cli("sync", "--json")
        outs += [out, err]
        t = T.terminal(T.parse_ndjson(out))
        T.eq((rc, t.get("code")), (1, "upstream_auth"),
             "old-style 200 Invalid API KEY body -> upstream_auth")

        # the key from a file named in the config, with no env var
        del w.env["FMP_API_KEY"]
        kf = w.file("key", KEY + "\n")
        w.write_conf(batch_size=10, fmp_api_key_file=kf)
        f.control({"old_key_error": False})
        rc, out, err = w.cli("sync", "--json")
        outs += [out, err]
        T.eq(rc, 0, "key from fmp_api_key_file: sync exits 0")
        for args in (["status"], ["list", "--json"], ["list"]):
            rc, out, err = w.cli(*args)
            outs += [out, err]
        secret_free(outs, "the key appears in no stdout or stderr")
        w.close()
    finally:
        f.stop()


def test_quota():
    """acceptance 4: a spent quota stops with upstream_quota"""
    f = keyed_fake()
    try:
        w, symbols = new_case(f, 30)
        rc, ev, err = w.sync()
        T.eq(rc, 0, "good sync first")
        first = last_synced(w)
        f.control({"quota_spent": True})
        rc, out, err = w.cli("sync", "--json")
        ev = T.parse_ndjson(out)
        T.events_ok(ev, "quota: events follow the rules")
        T.eq(rc, 1, "quota spent exits 1")
        t = T.terminal(ev)
        T.eq((t.get("type"), t.get("code")), ("error", "upstream_quota"), "error upstream_quota")
        T.eq(last_synced(w), first, "a spent quota leaves last_synced alone")
        secret_free([out, err], "no key in the output")
        w.close()
    finally:
        f.stop()


# ---- acceptance 5 ----
def test_retry_503():
    """acceptance 5: 503 once, then the retry succeeds"""
    f = keyed_fake()
    try:
        w, symbols = new_case(f, 30, retries=2)
        f.control({"fail": [{"match": "S015", "status": 503, "times": 1}]})
        rc, ev, err = w.sync()
        T.events_ok(ev, "503: events follow the rules")
        T.eq(rc, 0, "503 once: exit 0")
        t = T.terminal(ev)
        T.eq((t.get("updated"), t.get("failed")), (30, 0), "all 30 updated")
        hits = [e["status"] for e in quote_log(f) if "S015" in e["symbols"]]
        T.eq(hits, [503, 200], "the batch was tried twice: 503 then 200")
        w.close()
    finally:
        f.stop()


def test_retry_after():
    """acceptance 5: 429 with Retry-After: 1, then success"""
    f = keyed_fake()
    try:
        w, symbols = new_case(f, 30, retries=2)
        f.control({"fail": [{"match": "S015", "status": 429, "retry_after": "1",
                             "times": 1}]})
        t0 = time.monotonic()
        rc, ev, err = w.sync()
        took = time.monotonic() - t0
        T.events_ok(ev, "429: events follow the rules")
        T.eq(rc, 0, "429 once: exit 0")
        t = T.terminal(ev)
        T.eq((t.get("updated"), t.get("failed")), (30, 0), "all 30 updated")
        T.ok(took >= 1.0, "the sync took >= 1 s (%.2f s)" % took)
        hits = [e for e in quote_log(f) if "S015" in e["symbols"]]
        T.eq([e["status"] for e in hits], [429, 200], "429 then 200")
        if len(hits) == 2:
            gap = hits[1]["t_start"] - hits[0]["t_end"]
            T.ok(gap >= 0.95, "retried after Retry-After (%.2f s)" % gap)
        w.close()
    finally:
        f.stop()


def batch_fault(kind):
    f = keyed_fake()
    try:
        w, symbols = new_case(f, 30, retries=1)
        f.control({"fail": [{"match": "S015", "kind": kind, "times": -1}]})
        rc, ev, err = w.sync()
        T.events_ok(ev, "%s: events follow the rules" % kind)
        T.eq(rc, 3, "%s: exit 3" % kind)
        t = T.terminal(ev)
        reqs = [e for e in quote_log(f) if "S015" in e["symbols"]]
        batch = set(reqs[0]["symbols"]) if reqs else set()
        # An empty batch (the fault never hit) would make the checks below
        # hold trivially.
        T.eq(len(batch), 10, "%s: the faulty batch was requested, 10 "
             "symbols" % kind)
        T.eq((t.get("type"), t.get("updated"), t.get("failed")),
             ("complete", 30 - len(batch), len(batch)),
             "%s: only its batch (%d symbols) failed" % (kind, len(batch)))
        T.eq(sorted(t.get("failed_symbols") or []), sorted(batch),
             "%s: failed_symbols are that batch" % kind)
        perr = [p.get("error") for p in ev
                if p.get("type") == "progress" and p.get("error")]
        T.eq(len(perr), 1, "%s: one progress event with a batch error" % kind)
        if perr:
            T.diag("%s error: %s" % (kind, perr[0]))
        rc, doc, err = w.json("list", "--json")
        rows = T.by_symbol(doc)
        T.ok(all((rows.get(s) or {}).get("error") for s in batch),
             "%s: each failed symbol has its error stored" % kind)
        w.close()
    finally:
        f.stop()


def test_malformed():
    """acceptance 5: a malformed body fails only its batch"""
    batch_fault("malformed")


def test_truncated():
    """acceptance 5: a truncated body fails only its batch"""
    batch_fault("truncated")


def test_reset():
    """a connection reset mid-request fails only its batch"""
    batch_fault("reset")


def test_fx_failure():
    """acceptance 5: an fx failure keeps the previous rate"""
    f = keyed_fake()
    try:
        w, symbols = new_case(f, 12)
        rc, ev, err = w.sync()
        T.eq(rc, 0, "good sync first")
        for name, ctl in (("500", {"fail": [{"match": "fx", "status": 500}]}),
                          ("no row", {"fail": [], "drop": ["USDGBP"]})):
            f.control(dict(ctl, fx_rate=0.9))
            rc, ev, err = w.sync()
            T.events_ok(ev, "fx %s: events follow the rules" % name)
            T.eq(rc, 0, "fx %s: exit 0 (no symbol failed)" % name)
            t = T.terminal(ev)
            T.eq(t.get("type"), "complete", "fx %s: complete" % name)
            T.eq(t.get("fx_rate"), None, "fx %s: fx_rate null" % name)
            T.ok(isinstance(t.get("fx_error"), str) and t["fx_error"],
                 "fx %s: fx_error %r" % (name, t.get("fx_error")))
            T.eq(t.get("updated"), 12, "fx %s: symbols still updated" % name)
            rc, stt, err = w.json("status")
            fx = (stt or {}).get("fx") or {}
            T.ok(T.approx(fx.get("rate"), RATE), "fx %s: previous rate kept (%r)"
                 % (name, fx.get("rate")))
        w.close()
    finally:
        f.stop()


def test_unavailable():
    """nothing listening: upstream_unavailable"""
    with T.Workdir(None, api_key=KEY) as w:
        w.write_conf(fmp_base_url="http://127.0.0.1:%d" % T.free_port(),
                     batch_size=10, retries=1)
        w.import_symbols(T.syms("S", 30))
        t0 = time.monotonic()
        rc, ev, err = w.sync()
        T.events_ok(ev, "unavailable: events follow the rules")
        T.eq(rc, 1, "unavailable: exit 1")
        t = T.terminal(ev)
        T.eq((t.get("type"), t.get("code")), ("error", "upstream_unavailable"),
             "error upstream_unavailable")
        T.ok(time.monotonic() - t0 < 30, "it gives up in reasonable time")
        T.eq(last_synced(w), None, "last_synced still null")


def test_timeout():
    """a hung request fails its batch after timeout_s"""
    f = keyed_fake()
    try:
        w, symbols = new_case(f, 30, timeout_s=1, retries=0)
        f.control({"fail": [{"match": "S005", "kind": "hang"}]})
        t0 = time.monotonic()
        rc, ev, err = w.sync()
        took = time.monotonic() - t0
        T.events_ok(ev, "timeout: events follow the rules")
        T.eq(rc, 3, "timeout: exit 3")
        t = T.terminal(ev)
        T.eq((t.get("updated"), t.get("failed")), (20, 10), "only the hung batch failed")
        perr = [p.get("error") or "" for p in ev
                if p.get("type") == "progress" and p.get("error")]
        T.ok(len(perr) == 1 and ("timeout" in perr[0].lower()
                                 or "timed out" in perr[0].lower()),
             "the batch error names the timeout: %r" % perr)
        T.ok(1.0 <= took < 10, "timed out after ~1 s (%.2f s)" % took)
        T.ok(T.wait_for(lambda: f.stats()["in_flight"] == 0, 5),
             "the client closed the hung connection")
        w.close()
    finally:
        f.stop()


# ---- SPEC §8 plan answers ----
def test_plans():
    """plan refusals: legacy v3, starter, free, a symbol outside the plan"""
    f = keyed_fake()
    try:
        w, symbols = new_case(f, 12, batch_size=5, fmp_api="v3")
        f.control({"legacy": True})
        rc, ev, err = w.sync()
        T.events_ok(ev, "legacy: events follow the rules")
        t = T.terminal(ev)
        T.eq((rc, t.get("code")), (1, "upstream_plan"), "legacy v3 -> upstream_plan")
        T.ok("stable" in (t.get("message") or ""), "message says to use stable: %r"
             % t.get("message"))
        w.close()

        f.control({"legacy": False, "plan": "starter"})
        w, symbols = new_case(f, 12, batch_size=5, fmp_batch="batch")
        rc, ev, err = w.sync()
        T.events_ok(ev, "starter+batch: events follow the rules")
        T.eq((rc, T.terminal(ev).get("code")), (1, "upstream_plan"),
             "starter plan, fmp_batch = batch -> upstream_plan")
        w.close()

        w, symbols = new_case(f, 12, batch_size=5)
        f.reset()
        rc, ev, err = w.sync()
        T.events_ok(ev, "starter+auto: events follow the rules")
        t = T.terminal(ev)
        T.eq((rc, t.get("mode"), t.get("updated")), (0, "single", 12),
             "starter plan, auto: falls back to single, all updated")
        T.eq(len([e for e in ev if e.get("type") == "progress"]), 3,
             "progress still per batch_size symbols")
        f.reset()
        rc, ev, err = w.sync()
        T.eq((rc, T.terminal(ev).get("mode")), (0, "single"), "second sync: single")
        T.eq(f.stats()["by_path"].get("/stable/batch-quote", 0), 0,
             "the refusal is remembered: no batch-quote tried again")
        w.close()

        f.control({"plan": "free"})
        w = T.Workdir(f, api_key=KEY)
        w.write_conf(batch_size=5)
        w.cli("add", "AAPL", "MSFT", "ZZZZ")
        rc, ev, err = w.sync()
        T.events_ok(ev, "free: events follow the rules")
        t = T.terminal(ev)
        T.eq((rc, t.get("updated"), t.get("failed_symbols")), (3, 2, ["ZZZZ"]),
             "free plan: the symbol outside the sample fails alone")
        rc, doc, err = w.json("list", "--json")
        e = (T.by_symbol(doc).get("ZZZZ") or {}).get("error") or ""
        T.ok("plan" in e.lower(), "its error names the plan: %r" % e)
        w.close()

        f.control({"plan": "premium",
                   "fail": [{"match": "ZZZZ", "status": 402,
                             "body": json.dumps(SPECIAL)}]})
        w = T.Workdir(f, api_key=KEY)
        w.write_conf(batch_size=5)
        w.cli("add", "AAPL", "MSFT", "ZZZZ", "GOOGL")
        rc, ev, err = w.sync()
        T.events_ok(ev, "special in batch: events follow the rules")
        t = T.terminal(ev)
        T.eq((rc, t.get("updated"), t.get("failed_symbols"), t.get("mode")),
             (3, 3, ["ZZZZ"], "batch"),
             "Special Endpoint in a batch: retried single, only ZZZZ fails")
        w.close()
    finally:
        f.stop()


def test_daily_limit():
    """a sync that would pass daily_request_limit does not start"""
    f = keyed_fake()
    try:
        w, symbols = new_case(f, 30, daily_request_limit=2)
        rc, ev, err = w.sync()
        T.events_ok(ev, "limit: events follow the rules")
        T.eq(rc, 1, "limit: exit 1")
        T.eq([(e.get("type"), e.get("code")) for e in ev],
             [("error", "upstream_quota")], "only an upstream_quota error, no start")
        T.eq(f.stats()["requests"], 0, "no upstream request made")
        w.close()
    finally:
        f.stop()


def main():
    # Not a silent skip of the CLI scenarios: under CI a missing CLI fails.
    T.need_cli()
    T.scenario(fake_selftest)
    for fn in (test_bad_key, test_quota, test_retry_503, test_retry_after,
               test_malformed, test_truncated, test_reset, test_fx_failure,
               test_unavailable, test_timeout, test_plans, test_daily_limit):
        T.scenario(fn)
    return T.done()


if __name__ == "__main__":
    sys.exit(main())
