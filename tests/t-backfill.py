#!/usr/bin/env python3
"""t-backfill: issue 11's acceptance, end to end against the fake FMP.
`pricesync backfill` of 20 symbols (stable and v3) stores one point per
trading day with the fake's closes, oldest first in `history --daily`; a
second run sends no request; a symbol outside the plan fails alone (exit
3); a rejected key stops it (exit 1); a backfill that would pass
daily_request_limit does not start and says how many requests it needs; a
sync holding the lock keeps it out; 5xx, timeouts and malformed bodies
fail their symbol alone, a refused USDGBP comes as inverted GBPUSD. A day with a real quote keeps that
quote. …/portfolio/history (plain CGI sync-status) equals the value worked
out here from the fake's closes, quantities, GBp / 100 and the day's
USDGBP rate, including dates where one holding has no price yet."""
import calendar
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), "tests"))
import pstest as T  # noqa: E402
import fake_fmp  # noqa: E402

KEY = "K-hist"
DAY = 86400
HIST = "/stable/historical-price-eod/light"
V3HIST = "/api/v3/historical-price-full"


def today():
    return time.strftime("%Y-%m-%d", time.gmtime())


def date_add(d, n):
    t = calendar.timegm(time.strptime(d, "%Y-%m-%d")) + n * DAY
    return time.strftime("%Y-%m-%d", time.gmtime(t))


def trading_days(first, last):
    return list(reversed(fake_fmp.weekdays(first, last)))


def close(sym, d):
    return fake_fmp.eod_close(sym, d, T.fake_price(sym))


def backfill(w, *args):
    rc, out, err = w.cli("backfill", "--json", *args)
    return rc, T.parse_ndjson(out), err


def events_ok(ev, name):
    """§4's rules, but a backfill leaves last_synced as the syncs left it
    (null before the first sync)."""
    bad = [v for v in T.check_events(ev) if "last_synced null" not in v]
    if not T.ok(not bad, name):
        for b in bad[:10]:
            T.diag("  " + b)


def hist_requests(f):
    return [e for e in f.stats()["log"]
            if e["path"] in (HIST, V3HIST)]


def check_series(w, syms, first, name):
    want_days = trading_days(first, today())
    good = 0
    for s in syms:
        rc, doc, err = w.json("history", s, "--daily")
        pts = doc.get("points", []) if doc else []
        want = [{"time": d + "T00:00:00Z", "price": close(s, d)}
                for d in want_days]
        if pts == want:
            good += 1
        elif good == 0:
            T.diag("%s: %d points, want %d; first %r want %r"
                   % (s, len(pts), len(want), pts[:2], want[:2]))
    T.eq(good, len(syms), "%s: every symbol has one point per trading day, "
         "oldest first, with the fake's closes" % name)


def t_twenty(api):
    with T.Fake(key=KEY) as f:
        w = T.Workdir(f, api_key=KEY)
        w.write_conf(history_days=365, concurrency=4, fmp_api=api)
        syms = T.syms("H", 20)
        T.eq(w.import_symbols(syms)[0], 0, "import 20 symbols")
        f.reset()
        rc, ev, err = backfill(w)
        events_ok(ev, "%s: events follow §4" % api)
        t = T.terminal(ev)
        T.eq((rc, t.get("type"), t.get("total"), t.get("updated"),
              t.get("failed")), (0, "complete", 20, 20, 0),
             "%s: complete, 20 of 20, exit 0" % api)
        T.eq(len([e for e in ev if e["type"] == "progress"]), 20,
             "%s: one progress per symbol" % api)
        reqs = hist_requests(f)
        T.eq(sorted(x for e in reqs for x in e["symbols"]),
             sorted(syms + ["USDGBP"]),
             "%s: one request per symbol, and the USDGBP series" % api)
        T.ok(f.stats()["max_in_flight"] <= 4, "%s: at most concurrency in "
             "flight (%d)" % (api, f.stats()["max_in_flight"]))
        check_series(w, syms, date_add(today(), -365), api)
        rc, doc, err = w.json("status")
        T.eq(doc.get("requests_today") if doc else None, 21,
             "%s: the 21 requests are counted" % api)
        f.reset()
        rc, ev, err = backfill(w)
        T.eq((rc, T.terminal(ev).get("total"), f.stats()["requests"]),
             (0, 0, 0), "%s: a second run sends no request" % api)
        w.close()


def t_stable():
    """stable: 20 symbols, history_days = 365, then a second run"""
    t_twenty("stable")


def t_v3():
    """v3: the same"""
    t_twenty("v3")


def t_plan_key_limit():
    """a symbol outside the plan fails alone; a rejected key stops it; the
    daily limit; the lock"""
    with T.Fake(key=KEY) as f:
        w = T.Workdir(f, api_key=KEY)
        w.write_conf(history_days=30)
        syms = T.syms("P", 5)
        w.import_symbols(syms)
        f.control({"eod_refuse": ["P002"]})
        rc, ev, err = backfill(w)
        events_ok(ev, "plan: events follow §4")
        t = T.terminal(ev)
        T.eq((rc, t.get("updated"), t.get("failed_symbols")),
             (3, 4, ["P002"]), "plan: P002 fails alone, exit 3")
        bad = [e for e in ev if e.get("failed_symbols") == ["P002"]
               and e["type"] == "progress"]
        T.eq(bad[0].get("error") if bad else None, "not in your FMP plan",
             "plan: its progress says why")
        rc, doc, err = w.json("history", "P002", "--daily")
        T.eq(doc["points"] if doc else None, [], "plan: P002 has no points")
        f.control({"eod_refuse": []})
        f.reset()
        rc, ev, err = backfill(w)
        T.eq((rc, T.terminal(ev).get("total"),
              [x for e in hist_requests(f) for x in e["symbols"]]),
             (0, 1, ["P002"]), "plan: the next run asks only for P002")

        w.env["FMP_API_KEY"] = "wrong"
        w.cli("add", "Q1", "Q2")
        rc, ev, err = backfill(w)
        t = T.terminal(ev)
        T.eq((rc, t.get("type"), t.get("code")), (1, "error", "upstream_auth"),
             "a rejected key stops it: upstream_auth, exit 1")
        w.env["FMP_API_KEY"] = KEY

        w.write_conf(history_days=30, daily_request_limit=2)
        f.reset()
        rc, ev, err = backfill(w)
        t = T.terminal(ev)
        T.eq((rc, len(ev), t.get("code")), (1, 1, "upstream_quota"),
             "over daily_request_limit: only an upstream_quota error, exit 1")
        T.ok("needs 2 upstream requests" in (t.get("message") or "")
             and "0 of today's" in (t.get("message") or ""),
             "... saying how many it needs: %r" % t.get("message"))
        T.eq(f.stats()["requests"], 0, "... and sending none")
        rc, ev, err = backfill(w, "--days", "5000", "Q1")
        T.ok("needs 6 upstream" in (T.terminal(ev).get("message") or ""),
             "--days 5000: 3 windows of <= 5 years for Q1 and for USDGBP "
             "(asked further back than before): %r"
             % T.terminal(ev).get("message"))

        w.write_conf(history_days=30)
        f.control({"delay": 0.5})
        p = T.popen_cli(["sync", "--json"], w.env)
        try:
            running = T.wait_for(lambda: (w.json("status")[1] or {})
                                 .get("running"), 20)
            rc, ev, err = backfill(w)
            T.eq((running, rc, T.terminal(ev).get("code")),
                 (True, 1, "sync_in_progress"),
                 "a backfill never runs with a sync")
        finally:
            p.communicate(timeout=60)
        f.control({"delay": 0})
        rc, out, err = w.cli("backfill", "--bogus")
        T.eq(rc, 2, "an unknown option: exit 2")
        rc, out, err = w.cli("backfill", "--days", "0")
        T.ok(rc == 1 and "--days" in err, "--days 0: exit 1 naming it")
        rc, ev, err = backfill(w, "NOSUCH1")
        T.eq((rc, T.terminal(ev).get("code")), (1, "invalid"),
             "a named symbol not tracked: an error before the start")
        w.cli("add", "NOSUCH1")
        rc, ev, err = backfill(w, "NOSUCH1")
        T.eq((rc, T.terminal(ev).get("updated")), (0, 1),
             "an unknown upstream symbol ([]) is no rows, not a failure")
        w.close()


def t_faults():
    """5xx, timeouts, malformed bodies fail their symbol alone; a 429 is
    retried; a spent quota stops it; a refused USDGBP comes as GBPUSD"""
    with T.Fake(key=KEY) as f:
        w = T.Workdir(f, api_key=KEY)
        w.write_conf(history_days=10, retries=1, timeout_s=2)
        w.import_symbols(["F1", "F2", "F3", "F4", "F5"])
        f.control({"eod_refuse": ["USDGBP"], "fail": [
            {"match": "F1", "status": 503},
            {"match": "F2", "kind": "malformed"},
            {"match": "F3", "kind": "hang"},
            {"match": "F4", "status": 429, "retry_after": 0, "times": 1}]})
        rc, ev, err = backfill(w)
        events_ok(ev, "faults: events follow §4")
        t = T.terminal(ev)
        T.eq((rc, sorted(t.get("failed_symbols") or []), t.get("updated")),
             (3, ["F1", "F2", "F3"], 2),
             "503, malformed and a timeout fail alone; the 429 is retried")
        why = {e["failed_symbols"][0]: e.get("error") for e in ev
               if e["type"] == "progress" and e.get("failed_symbols")}
        T.ok("503" in (why.get("F1") or "") and "malformed" in
             (why.get("F2") or "") and "timeout" in (why.get("F3") or ""),
             "each says why: %r" % why)
        asked = [x for e in hist_requests(f) for x in e["symbols"]]
        T.ok("GBPUSD" in asked and t.get("fx_error") is None,
             "USDGBP refused: GBPUSD asked instead")
        d = trading_days(date_add(today(), -9), today())[-1]
        want = 1 / fake_fmp.eod_close("GBPUSD", d, T.fake_price("GBPUSD"))
        T.ok(T.approx(t.get("fx_rate"), want),
             "... and inverted (%r, want %r)" % (t.get("fx_rate"), want))
        f.control({"fail": [], "quota_spent": True})
        rc, ev, err = backfill(w)
        t = T.terminal(ev)
        T.eq((rc, t.get("type"), t.get("code")), (1, "error", "upstream_quota"),
             "FMP's Limit Reach stops it: upstream_quota, exit 1")
        w.close()


def t_real_quote_wins():
    """a day with a real quote keeps that quote"""
    with T.Fake(key=KEY) as f:
        w = T.Workdir(f, api_key=KEY)
        w.write_conf(history_days=20)
        d = trading_days(date_add(today(), -8), date_add(today(), -3))[0]
        qt = calendar.timegm(time.strptime(d, "%Y-%m-%d")) + 21 * 3600
        f.control({"quote_time": qt})
        w.import_symbols(["RQ1", "RQ2"])
        rc, ev, err = w.sync()
        T.eq(rc, 0, "a sync with quote time %s" % d)
        rc, ev, err = backfill(w)
        T.eq(rc, 0, "backfill after it")
        for s in ("RQ1", "RQ2"):
            rc, doc, err = w.json("history", s, "--daily")
            pts = doc["points"]
            days = [p["time"][:10] for p in pts]
            T.eq(len(days), len(set(days)), "%s: no doubled date" % s)
            that = [p for p in pts if p["time"].startswith(d)]
            T.eq(that, [{"time": d + "T21:00:00Z",
                         "price": T.fake_price(s)}],
                 "%s: %s keeps the real quote" % (s, d))
            rc, doc, err = w.json("history", s)
            T.eq(len([p for p in doc["points"] if p["time"].startswith(d)]),
                 1, "%s: the backfill added nothing for %s" % (s, d))
        w.close()


def t_sync_rate():
    """each sync's rate is a point of the USDGBP series: today's value
    uses the sync's rate and quote, earlier days the backfilled ones"""
    with T.Fake(key=KEY) as f:
        w = T.Workdir(f, api_key=KEY)
        w.write_conf(history_days=10)
        w.cli("add", "SR1", "--quantity", "4")
        w.cli("add", "SRE", "--currency", "EUR")
        rc, ev, err = backfill(w)
        T.eq(rc, 0, "backfill")
        T.eq(sorted(x for e in hist_requests(f) for x in e["symbols"]),
             ["EURGBP", "SR1", "SRE", "USDGBP"],
             "the fx series in use: USDGBP, and EURGBP for a EUR symbol")
        now = int(time.time()) - 5
        day = time.strftime("%Y-%m-%d", time.gmtime(now))
        f.control({"fx_rate": 0.5, "quote_time": now})
        rc, ev, err = w.sync()
        T.eq(rc, 0, "a sync with USDGBP at 0.5")
        st, h, body = cgi(w, "/api/portfolio/history?from=%s&to=%s"
                          % (date_add(day, -1), day))
        pts = json.loads(body)["points"] if st == 200 else []
        base = T.fake_price("USDGBP")
        prev = fake_fmp.weekdays(date_add(day, -10), date_add(day, -1))[0]
        want0 = 4 * close("SR1", prev) * fake_fmp.eod_close("USDGBP", prev,
                                                              base)
        want1 = 4 * T.fake_price("SR1", 0.5) * 0.5
        T.ok(len(pts) == 2 and T.approx(pts[0]["value_gbp"], want0)
             and T.approx(pts[1]["value_gbp"], want1),
             "yesterday %r (want %r), today %r (want %r)"
             % ([p["value_gbp"] for p in pts][:1], want0,
                [p["value_gbp"] for p in pts][1:], want1))
        w.close()


def cgi(w, uri, **extra):
    env = dict(w.env)
    env.update({"GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "GET",
                "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "127.0.0.1",
                "REQUEST_URI": uri, "QUERY_STRING": uri.partition("?")[2]})
    env.update(extra)
    p = subprocess.run([os.path.join(T.builddir, "cgi", "sync-status")],
                       env=env, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=60)
    head, _, body = p.stdout.partition(b"\r\n\r\n")
    hdrs = {}
    for ln in head.decode(errors="replace").split("\r\n"):
        k, _, v = ln.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    status = int((hdrs.get("status") or "0").split()[0])
    return status, hdrs, body.decode()


def expected_value(holdings, listed, d):
    """The portfolio's GBP value on date d, from the fake's closes: the
    last trading day on or before d (not before a listing), GBp / 100, USD
    x that day's USDGBP close."""
    def last_close(sym, first):
        days = fake_fmp.weekdays(first, d)
        return (days[0], close(sym, days[0])) if days else (None, None)

    start = date_add(today(), -365)
    _, rate = last_close("USDGBP", start)
    total, n, missing = 0.0, 0, []
    for sym, qty in holdings:
        _, c = last_close(sym, max(start, listed.get(sym, start)))
        if c is None or rate is None:
            missing.append(sym)
            continue
        factor = 1 / 100.0 if sym.endswith(".L") else rate
        total += qty * c * factor
        n += 1
    return total, n, sorted(missing)


def t_portfolio():
    """…/portfolio/history against the value worked out from the fake"""
    with T.Fake(key=KEY) as f:
        w = T.Workdir(f, api_key=KEY)
        w.write_conf(history_days=365)
        holdings = [("PA", 12.5), ("PB", 3), ("PV.L", 250), ("PN", 7)]
        listed = {"PN": date_add(today(), -20)}
        for s, q in holdings:
            w.cli("add", s, "--quantity", str(q))
        w.cli("add", "PX")  # no quantity: not a holding
        f.control({"listed": listed})
        rc, ev, err = backfill(w)
        T.eq(rc, 0, "backfill the holdings")
        frm, to = date_add(today(), -40), today()
        st, h, body = cgi(w, "/api/portfolio/history?from=%s&to=%s"
                          % (frm, to))
        doc = json.loads(body) if st == 200 else {}
        pts = doc.get("points", [])
        T.eq((st, doc.get("currency"), len(pts)), (200, "GBP", 41),
             "200, GBP, one point per date")
        bad, saw_missing = [], False
        for p in pts:
            v, n, miss = expected_value(holdings, listed, p["date"])
            saw_missing |= miss == ["PN"]
            if not (T.approx(p["value_gbp"], v, 1e-9) and p["symbols"] == n
                    and p["missing"] == miss):
                bad.append((p, v, n, miss))
        T.ok(not bad, "every date equals the independent value (1e-9)")
        for b in bad[:3]:
            T.diag("  got %r, want %r %r %r" % b)
        T.ok(saw_missing, "dates before PN's listing name it in missing")
        T.eq([p["date"] for p in pts][:2], [frm, date_add(frm, 1)],
             "dates from `from`, oldest first")
        st2, h2, b2 = cgi(w, "/api/portfolio/history?from=%s&to=%s"
                          % (frm, to), HTTP_IF_NONE_MATCH=h.get("etag", "x"))
        T.eq((st2, b2), (304, ""), "If-None-Match -> 304")
        st, h, body = cgi(w, "/api/portfolio/history")
        n = len(json.loads(body).get("points", [])) if st == 200 else 0
        T.eq((st, n), (200, 366), "default: 365 days before today, to today")
        for q, name in (("from=2026-02-30", "from"), ("to=yesterday", "to"),
                        ("from=2026-01-01T00:00:00Z", "from")):
            st, h, body = cgi(w, "/api/portfolio/history?" + q)
            e = json.loads(body) if body else {}
            T.ok(st == 400 and e.get("code") == "bad_request"
                 and ("parameter " + name) in e.get("message", ""),
                 "%s -> 400 bad_request naming %s" % (q, name))
        st, h, body = cgi(w, "/api/portfolio/history?from=2026-02-01&"
                          "to=2026-01-01")
        T.eq(st, 400, "from after to -> 400")
        st, h, body = cgi(w, "/api/prices/PA/history?interval=day&limit=5")
        doc = json.loads(body) if st == 200 else {}
        want = trading_days(date_add(today(), -365), today())[-5:]
        T.eq([p["time"][:10] for p in doc.get("points", [])], want,
             "interval=day&limit=5: the last 5 dates")
        st, h, body = cgi(w, "/api/prices/PA/history?interval=week")
        T.ok(st == 400 and "interval" in body, "interval=week -> 400 naming it")
        w.close()


def main():
    T.need_cli()
    T.scenario(t_stable)
    T.scenario(t_v3)
    T.scenario(t_plan_key_limit)
    T.scenario(t_faults)
    T.scenario(t_sync_rate)
    T.scenario(t_real_quote_wins)
    T.scenario(t_portfolio)
    return T.done()


if __name__ == "__main__":
    sys.exit(main())
