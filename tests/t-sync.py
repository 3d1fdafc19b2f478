#!/usr/bin/env python3
"""t-sync: `pricesync sync` end to end against the fake FMP.

Acceptance 3 (500 symbols, one batch failing, one symbol left out),
6 (one history point per upstream quote time), 8 (the event rules, zero
symbols) and 9 (v3 shapes, the fx basis, pence and dollars in GBP). Every
scenario has its own fake and its own temp dir; every event stream is
checked against SPEC §4's rules.
"""

import os
import sys

sys.path.insert(0, os.path.join(
    os.environ.get("top_srcdir")
    or os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
import pstest as T  # noqa: E402

KEY = "K-test-sync"
RATE = 0.7891


def quote_requests(stats):
    return [e for e in stats["log"]
            if e["path"] in ("/stable/batch-quote", "/api/v3/quote",
                             "/stable/quote")
            and not (len(e["symbols"]) == 1 and e["symbols"][0] == "USDGBP")]


def acceptance3(retries):
    with T.Fake(key=KEY) as f, T.Workdir(f, api_key=KEY) as w:
        w.write_conf(batch_size=50, concurrency=4, retries=retries)
        symbols = T.syms("T", 500)
        rc, out, err = w.import_symbols(symbols)
        if not T.eq(rc, 0, "import 500 symbols"):
            T.diag(err)
            return
        f.control({"fail": [{"match": "T100", "status": 500, "times": -1}],
                   "drop": ["T250"]})
        rc, ev, err = w.sync()
        tag = "(retries=%d)" % retries
        T.events_ok(ev, "events follow the rules " + tag)
        T.eq(rc, 3, "exit 3: complete with failures " + tag)
        term = T.terminal(ev)
        T.eq(term.get("type"), "complete", "ends with complete " + tag)
        T.eq(term.get("total"), 500, "total 500")
        T.eq(term.get("updated"), 449, "updated 449 " + tag)
        T.eq(term.get("failed"), 51, "failed 51 " + tag)
        T.eq(term.get("mode"), "batch", "mode batch")
        T.ok(T.approx(term.get("fx_rate"), RATE), "fx_rate %r" % term.get("fx_rate"))
        T.eq(term.get("fx_error"), None, "no fx_error")
        T.ok(T.ISO_RE.match(str(term.get("last_synced"))), "last_synced set")

        st = f.stats()
        reqs = quote_requests(st)
        bad = [e for e in reqs if "T100" in e["symbols"]]
        T.eq(len(bad), retries + 1, "the failing batch was tried 1 + retries times")
        failed_batch = set(bad[0]["symbols"]) if bad else set()
        T.eq(len(failed_batch), 50, "the failing batch holds 50 symbols")
        T.ok("T250" not in failed_batch, "dropped symbol is in another batch")
        T.eq(sorted(term.get("failed_symbols") or []),
             sorted(failed_batch | {"T250"}),
             "complete.failed_symbols names the 51 failed symbols")
        T.ok(st["max_in_flight"] <= 4, "at most concurrency=4 in flight (%d)"
             % st["max_in_flight"])
        T.ok(all(len(e["symbols"]) <= 50 for e in reqs), "no request above batch_size")
        T.eq(len({s for e in reqs for s in e["symbols"]}), 500,
             "every symbol requested")

        prog = [e for e in ev if e.get("type") == "progress"]
        errp = [p for p in prog if p.get("error")]
        T.eq(len(errp), 1, "one progress event carries a batch error")
        if errp:
            T.eq(sorted(errp[0].get("failed_symbols") or []), sorted(failed_batch),
                 "its failed_symbols are the batch")
        lone = [p for p in prog if "T250" in (p.get("failed_symbols") or [])]
        T.ok(len(lone) == 1 and not lone[0].get("error"),
             "T250 fails alone in a batch without a batch error")

        rc, doc, err = w.json("list", "--json")
        T.eq(rc, 0, "list --json exits 0")
        rows = T.by_symbol(doc)
        T.eq(len(rows), 500, "list has 500 symbols")
        T.eq([r.get("symbol") for r in (doc or {}).get("symbols", [])],
             sorted(symbols), "list sorted by symbol")
        errs = {s for s, r in rows.items() if r.get("error")}
        T.eq(sorted(errs), sorted(failed_batch | {"T250"}),
             "the failed symbols, and only they, carry an error")
        e250 = (rows.get("T250") or {}).get("error") or ""
        T.ok("not returned" in e250.lower(), "T250 error says not returned: %r" % e250)
        e100 = (rows.get("T100") or {}).get("error") or ""
        T.ok(e100 != "" and KEY not in e100, "T100 error stored: %r" % e100)
        good = rows.get("T000") or {}
        want = T.fake_price("T000")
        T.ok(T.approx(good.get("price"), want), "T000 price %r == %r"
             % (good.get("price"), want))
        T.eq(good.get("currency"), "USD", "T000 currency USD")
        T.ok(T.approx(good.get("price_gbp"), want * RATE), "T000 price_gbp = price x rate")
        T.ok(T.ISO_RE.match(str(good.get("updated_at"))), "T000 updated_at")
        T.eq(good.get("quote_time"), "2025-11-07T21:00:02Z", "quote_time from timestamp")
        T.eq((rows.get("T100") or {}).get("price"), None, "a never-synced failed symbol has no price")

        rc, stt, err = w.json("status")
        T.eq(rc, 0, "status exits 0")
        stt = stt or {}
        T.eq(stt.get("last_synced"), term.get("last_synced"), "status.last_synced")
        fx = stt.get("fx") or {}
        T.eq(fx.get("pair"), "USDGBP", "fx pair")
        T.ok(T.approx(fx.get("rate"), RATE), "fx rate stored")
        T.eq(fx.get("basis"), "price", "stable fx basis is price")
        T.ok(T.ISO_RE.match(str(fx.get("at"))), "fx at")
        lr = stt.get("last_result") or {}
        T.eq((lr.get("updated"), lr.get("failed")), (449, 51), "last_result counts")
        T.eq(sorted(lr.get("failed_symbols") or []), sorted(failed_batch | {"T250"}),
             "last_result.failed_symbols")
        T.eq(stt.get("symbols"), 500, "status symbols 500")
        T.eq(stt.get("running"), False, "not running")
        T.eq(stt.get("progress"), None, "no progress")
        T.ok(isinstance(stt.get("requests_today"), int)
             and stt["requests_today"] >= len(reqs),
             "requests_today %r >= %d" % (stt.get("requests_today"), len(reqs)))


def test_acceptance3_no_retries():
    """acceptance 3: 500 symbols, a batch failing with 500, retries 0"""
    acceptance3(0)


def test_acceptance3_retries():
    """acceptance 3: the failing batch retried once and failing again"""
    acceptance3(1)


def test_history():
    """acceptance 6: one history point per (symbol, quote time)"""
    with T.Fake(key=KEY) as f, T.Workdir(f, api_key=KEY) as w:
        w.write_conf()
        rc, out, err = w.cli("add", "AAPL", "MSFT", "VOD.L")
        T.eq(rc, 0, "add 3 symbols")
        for i in (1, 2):
            rc, ev, err = w.sync()
            T.events_ok(ev, "sync %d events" % i)
            T.eq(rc, 0, "sync %d exits 0" % i)
        rc, doc, err = w.json("history", "AAPL")
        T.eq(rc, 0, "history exits 0")
        pts = (doc or {}).get("points") or []
        T.eq((doc or {}).get("symbol"), "AAPL", "history symbol")
        T.eq(len(pts), 1, "two syncs, same quote time: one point")
        if pts:
            T.eq(pts[0].get("time"), "2025-11-07T21:00:02Z", "point time")
            T.ok(T.approx(pts[0].get("price"), T.fake_price("AAPL")), "point price")
        rc, out, err = w.cli("history", "AAPL", "--csv")
        lines = out.strip().splitlines()
        T.eq(rc, 0, "history --csv exits 0")
        T.eq(lines[:1], ["time,price"], "csv header")
        T.eq(len(lines), 2, "csv: one point")
        if len(lines) == 2 and pts:
            # The same digits as the JSON: shortest round trip, not %.17g.
            T.eq(lines[1].split(",")[1], repr(float(pts[0].get("price"))),
                 "csv price printed as the JSON prints it")

        f.control({"quote_time": 1762549202 + 86400, "prices": {"AAPL": 300.5}})
        rc, ev, err = w.sync()
        T.events_ok(ev, "sync 3 events")
        rc, doc, err = w.json("history", "AAPL")
        pts = (doc or {}).get("points") or []
        T.eq(len(pts), 2, "new quote time: two points")
        T.eq([p.get("time") for p in pts],
             ["2025-11-07T21:00:02Z", "2025-11-08T21:00:02Z"], "oldest first")
        if len(pts) == 2:
            T.ok(T.approx(pts[1].get("price"), 300.5), "new point has the new price")
        rc, doc, err = w.json("history", "VOD.L")
        T.eq(len((doc or {}).get("points") or []), 2, "VOD.L has two points too")
        rc, doc, err = w.json("list", "--json")
        T.ok(T.approx(T.by_symbol(doc).get("AAPL", {}).get("price"), 300.5),
             "list shows the new price")
        rc, out, err = w.cli("history", "NOSUCHSYM")
        T.eq(rc, 1, "history of an unknown symbol exits 1")


def test_zero_symbols():
    """acceptance 8: zero symbols -> start then complete"""
    with T.Fake(key=KEY) as f, T.Workdir(f, api_key=KEY) as w:
        w.write_conf()
        rc, ev, err = w.sync()
        T.events_ok(ev, "events follow the rules")
        T.eq(rc, 0, "exit 0")
        T.eq([e.get("type") for e in ev], ["start", "complete"], "start then complete")
        if ev:
            T.eq((ev[0].get("total"), ev[0].get("batches")), (0, 0), "start total 0 batches 0")
            t = ev[-1]
            T.eq((t.get("total"), t.get("updated"), t.get("failed")), (0, 0, 0),
                 "complete counts 0")
            T.eq(t.get("failed_symbols"), [], "no failed symbols")
            T.ok(T.ISO_RE.match(str(t.get("last_synced"))), "last_synced set with no symbols")
        rc, stt, err = w.json("status")
        T.eq((stt or {}).get("symbols"), 0, "status symbols 0")
        T.ok((stt or {}).get("last_synced") is not None, "status last_synced set")
        T.eq(len(quote_requests(f.stats())), 0, "no quote request for no symbols")


def prices_check(api):
    with T.Fake(key=KEY) as f, T.Workdir(f, api_key=KEY) as w:
        w.write_conf(fmp_api=api)
        for args in (["AAPL", "--quantity", "10"], ["VOD.L", "--quantity", "100"],
                     ["SAP.DE", "VUSA.L"], ["XYZ.L", "--currency", "GBP"]):
            rc, out, err = w.cli("add", *args)
            T.eq(rc, 0, "add %s" % " ".join(args))
        f.control({"profiles": {"VUSA.L": "USD"}, "rates": {"EURGBP": 0.85}})
        rc, ev, err = w.sync()
        T.events_ok(ev, "%s: events follow the rules" % api)
        T.eq(rc, 0, "%s: exit 0" % api)
        term = T.terminal(ev)
        T.eq((term.get("updated"), term.get("failed")), (5, 0), "%s: 5 updated" % api)
        T.ok(T.approx(term.get("fx_rate"), RATE), "%s: fx_rate" % api)

        st = f.stats()
        paths = set(st["by_path"])
        if api == "v3":
            T.ok(all(p.startswith("/api/v3/") for p in paths),
                 "v3: only /api/v3/ paths (%s)" % sorted(paths))
            T.ok("/api/v3/fx" in paths, "v3: fx from /api/v3/fx")
            prof = "/api/v3/profile"
        else:
            T.ok(all(p.startswith("/stable/") for p in paths),
                 "stable: only /stable/ paths (%s)" % sorted(paths))
            T.ok("/stable/batch-quote" in paths, "stable: batch-quote used")
            prof = "/stable/profile"
        profiled = {s for e in st["log"] if e["path"] == prof for s in e["symbols"]}
        T.ok({"VOD.L", "SAP.DE", "VUSA.L"} <= profiled,
             "%s: profiles fetched for suffixed symbols (%s)" % (api, sorted(profiled)))
        T.ok("AAPL" not in profiled, "%s: no profile call for a plain ticker" % api)

        rc, stt, err = w.json("status")
        fx = (stt or {}).get("fx") or {}
        T.eq(fx.get("basis"), "bid" if api == "v3" else "price", "%s: fx basis" % api)
        T.ok(T.approx(fx.get("rate"), RATE), "%s: fx rate" % api)

        rc, doc, err = w.json("list", "--json")
        rows = T.by_symbol(doc)
        want = {"AAPL": ("USD", RATE), "VOD.L": ("GBp", 0.01),
                "SAP.DE": ("EUR", 0.85), "VUSA.L": ("USD", RATE),
                "XYZ.L": ("GBP", 1.0)}
        total = 0.0
        for s, (ccy, mult) in want.items():
            r = rows.get(s) or {}
            p = T.fake_price(s)
            T.eq(r.get("currency"), ccy, "%s: %s currency %s" % (api, s, ccy))
            T.ok(T.approx(r.get("price"), p), "%s: %s price %r == %r"
                 % (api, s, r.get("price"), p))
            T.ok(T.approx(r.get("price_gbp"), p * mult, 1e-9),
                 "%s: %s price_gbp %r == %r" % (api, s, r.get("price_gbp"), p * mult))
            T.eq(r.get("error"), None, "%s: %s no error" % (api, s))
        for s, q in (("AAPL", 10), ("VOD.L", 100)):
            r = rows.get(s) or {}
            v = T.fake_price(s) * want[s][1] * q
            total += v
            T.ok(T.approx(r.get("value_gbp"), v), "%s: %s value_gbp" % (api, s))
        T.eq((rows.get("SAP.DE") or {}).get("value_gbp"), None,
             "%s: no quantity, no value" % api)
        T.ok(T.approx((doc or {}).get("total_value_gbp"), total, 1e-9),
             "%s: total_value_gbp %r == %r" % (api, (doc or {}).get("total_value_gbp"), total))
        T.eq((rows.get("VOD.L") or {}).get("exchange"), "LSE", "%s: VOD.L exchange LSE" % api)

        if api == "v3":
            f.control({"strings": True, "quote_time": 1762549202 + 3600})
            rc, ev, err = w.sync()
            T.events_ok(ev, "v3 strings: events follow the rules")
            T.eq(rc, 0, "v3 with numbers as strings: exit 0")
            rc, doc, err = w.json("list", "--json")
            r = T.by_symbol(doc).get("AAPL") or {}
            T.ok(T.approx(r.get("price"), T.fake_price("AAPL")),
                 "v3 strings: AAPL price read from a string")
            rc, stt, err = w.json("status")
            T.ok(T.approx(((stt or {}).get("fx") or {}).get("rate"), RATE),
                 "v3 strings: bid read from a string")


def test_v3():
    """acceptance 9: fmp_api = v3, basis bid, GBp and USD in GBP"""
    prices_check("v3")


def test_stable():
    """acceptance 9 on stable: basis price, profiles, other currencies"""
    prices_check("stable")


def test_no_price():
    """a row without a usable price fails its symbol alone"""
    with T.Fake(key=KEY) as f, T.Workdir(f, api_key=KEY) as w:
        w.write_conf()
        w.cli("add", "AAPL", "MSFT")
        f.control({"no_price": ["MSFT"]})
        rc, ev, err = w.sync()
        T.events_ok(ev, "events follow the rules")
        T.eq(rc, 3, "exit 3")
        t = T.terminal(ev)
        T.eq(t.get("failed_symbols"), ["MSFT"], "MSFT failed alone")
        rc, doc, err = w.json("list", "--json")
        e = (T.by_symbol(doc).get("MSFT") or {}).get("error") or ""
        T.ok("price" in e.lower(), "its error names the price: %r" % e)


def main():
    T.need_cli()
    for fn in (test_zero_symbols, test_acceptance3_no_retries,
               test_acceptance3_retries, test_history, test_v3, test_stable,
               test_no_price):
        T.scenario(fn)
    return T.done()


if __name__ == "__main__":
    sys.exit(main())
