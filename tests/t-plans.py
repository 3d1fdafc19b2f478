#!/usr/bin/env python3
"""t-plans: every FMP plan (issue "upstream fidelity"): auto falls back to
single mode on a plan without batch quotes and remembers it; free-plan
symbols outside the sample fail alone; fmp_batch = batch says what to
change; listing currencies from profiles; daily_request_limit."""
import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), "tests"))
import pstest as T  # noqa: E402

KEY = "K-plans"


def case(f, symbols, **conf):
    w = T.Workdir(f, api_key=KEY)
    conf.setdefault("batch_size", 50)
    conf.setdefault("concurrency", 4)
    w.write_conf(**conf)
    rc, out, err = w.import_symbols(symbols)
    T.eq(rc, 0, "import %d symbols" % len(symbols))
    return w


def paths(stats):
    return [e["path"] for e in stats["log"]]


def t_starter_auto():
    """starter plan, fmp_batch = auto: 120 symbols all updated in single mode"""
    with T.Fake(key=KEY, plan="starter") as f:
        w = case(f, T.syms("S", 120))
        f.control({"delay": 0.02})
        f.reset()
        rc, ev, err = w.sync()
        T.events_ok(ev, "events follow the rules")
        t = T.terminal(ev)
        T.eq((rc, t.get("type"), t.get("updated"), t.get("failed"), t.get("mode")),
             (0, "complete", 120, 0, "single"), "complete, 120 updated, mode single")
        st = f.stats()
        T.ok(st["max_in_flight"] <= 4,
             "never more than concurrency in flight (%d)" % st["max_in_flight"])
        T.eq(len([e for e in ev if e["type"] == "progress"]), 3,
             "progress still one event per batch_size symbols")
        rc, doc, err = w.json("status")
        T.eq(doc["last_result"]["mode"], "single", "status says mode single")
        f.reset()
        rc, ev, err = w.sync()
        T.eq((rc, T.terminal(ev).get("mode")), (0, "single"), "next sync: single")
        T.ok("/stable/batch-quote" not in paths(f.stats()),
             "the next sync does not touch the batch endpoint")
        w.close()


def t_free():
    """free plan: symbols outside the sample fail alone, the rest update"""
    with T.Fake(key=KEY, plan="free") as f:
        sample = ["AAPL", "MSFT", "NVDA", "VOD.L"]
        others = ["ZZA", "ZZB", "ZZC"]
        w = case(f, sample + others, batch_size=3)
        rc, ev, err = w.sync()
        T.events_ok(ev, "events follow the rules")
        t = T.terminal(ev)
        T.eq((rc, t.get("updated"), sorted(t.get("failed_symbols", []))),
             (3, 4, others), "sample updated, the others failed alone")
        rows = T.by_symbol(w.json("list", "--json")[1])
        T.ok(all(rows[s]["error"] == "not in your FMP plan" for s in others),
             "each says 'not in your FMP plan'")
        T.ok(all(rows[s]["error"] is None and rows[s]["price"] for s in sample),
             "the sample symbols have prices")
        w.close()


def t_batch_forced():
    """fmp_batch = batch on a starter key: upstream_plan naming fmp_batch"""
    with T.Fake(key=KEY, plan="starter") as f:
        w = case(f, T.syms("S", 10), fmp_batch="batch")
        rc, ev, err = w.sync()
        T.events_ok(ev, "events follow the rules")
        t = T.terminal(ev)
        T.eq((rc, t.get("type"), t.get("code")), (1, "error", "upstream_plan"),
             "error upstream_plan")
        T.ok("fmp_batch" in t.get("message", ""), "message names fmp_batch: %s"
             % t.get("message"))
        w.close()


def t_currencies():
    """profiles: a .L listing in USD, a failed profile, EUR with EURGBP"""
    with T.Fake(key=KEY) as f:
        f.control({"profiles": {"VUSA.L": "USD", "SAP.DE": "EUR"},
                   "rates": {"EURGBP": 0.85}})
        w = case(f, ["VUSA.L", "SAP.DE", "AAPL"])
        w.cli("add", "ISF.L", "--currency", "GBP")
        rc, ev, err = w.sync()
        T.eq(rc, 0, "sync complete")
        rows = T.by_symbol(w.json("list", "--json")[1])
        v = rows["VUSA.L"]
        T.eq(v["currency"], "USD", ".L symbol whose profile says USD is USD")
        T.ok(T.approx(v["price_gbp"], v["price"] * 0.7891), "valued price x USDGBP")
        s = rows["SAP.DE"]
        T.eq(s["currency"], "EUR", "EUR listing")
        T.ok(T.approx(s["price_gbp"], s["price"] * 0.85), "valued with the stored EURGBP")
        T.eq(rows["ISF.L"]["currency"], "GBP", "--currency wins over the suffix")
        profiled = {x for e in f.stats()["log"] if e["path"] == "/stable/profile"
                    for x in e["symbols"]}
        T.ok("ISF.L" not in profiled and "AAPL" not in profiled,
             "no profile call for a user currency or a plain ticker")
        w.close()
    with T.Fake(key=KEY) as f:
        f.control({"profile_fail": True})
        w = case(f, ["VOD.L"])
        rc, ev, err = w.sync()
        v = T.by_symbol(w.json("list", "--json")[1])["VOD.L"]
        T.ok(rc == 0 and v["currency"] == "GBp" and T.approx(v["price_gbp"], v["price"] / 100),
             "a failed profile falls back to the suffix rule (GBp / 100)")
        f.control({"profile_fail": False, "profiles": {"VOD.L": "USD"}})
        rc, out, err = w.cli("add", "VOD.L", "--refresh-profile")
        v = T.by_symbol(w.json("list", "--json")[1])["VOD.L"]
        T.ok(rc == 0 and v["currency"] == "USD",
             "add --refresh-profile reads the profile now (%s %s)" % (rc, err.strip()))
        w.close()


def t_daily_limit():
    """daily_request_limit = 10: 600 tickers stop before the first request"""
    with T.Fake(key=KEY) as f:
        w = case(f, T.syms("S", 600), daily_request_limit=10, fmp_batch="batch")
        f.reset()
        rc, ev, err = w.sync()
        T.eq([e["type"] for e in ev], ["error"], "only an error event, no start")
        t = T.terminal(ev)
        T.eq((rc, t.get("code")), (1, "upstream_quota"), "upstream_quota")
        msg = t.get("message", "")
        T.ok("13" in msg and "10" in msg, "says it needs 13 and 10 are left: %s" % msg)
        T.eq(f.stats()["requests"], 0, "no upstream request was made")
        w.close()
        w = case(f, T.syms("S", 400), daily_request_limit=10, fmp_batch="batch")
        rc, ev, err = w.sync()
        T.eq((rc, T.terminal(ev).get("type")), (0, "complete"), "400 symbols (9 requests) run")
        rc, doc, err = w.json("status")
        T.eq(doc["requests_today"], 9, "status counts 9 requests today")
        rc, ev, err = w.sync()
        t = T.terminal(ev)
        T.ok(rc == 1 and t.get("code") == "upstream_quota" and "1 of" in t.get("message", ""),
             "a second sync would pass the limit: %s" % t.get("message"))
        w.close()


def t_limit_every_request():
    """daily_request_limit holds for every request: single-mode switch,
    retries, profiles and add --refresh-profile (issue 9, defect 3)"""
    with T.Fake(key=KEY, plan="starter") as f:
        w = case(f, T.syms("S", 10), daily_request_limit=5)
        f.reset()
        rc, ev, err = w.sync()
        T.events_ok(ev, "starter, 10 symbols, limit 5: events follow the rules")
        t = T.terminal(ev)
        T.eq((rc, t.get("type"), t.get("code")), (1, "error", "upstream_quota"),
             "the switch to single mode stops at the limit: upstream_quota")
        T.ok("daily_request_limit" in t.get("message", ""),
             "the message names daily_request_limit: %s" % t.get("message"))
        rc, doc, err = w.json("status")
        T.eq(doc["requests_today"], 5, "requests_today is 5, not 12")
        T.eq(f.stats()["requests"], 5, "the fake saw 5 requests")
        T.eq(doc["running"], False, "not running after the stop")
        w.close()
    with T.Fake(key=KEY) as f:
        w = case(f, ["A", "B", "C"], daily_request_limit=4, retries=5)
        f.control({"fail": [{"match": "*", "status": 503, "retry_after": 0}]})
        f.reset()
        rc, ev, err = w.sync()
        t = T.terminal(ev)
        T.eq((rc, t.get("code")), (1, "upstream_quota"),
             "retries stop at the limit with upstream_quota")
        T.eq(f.stats()["requests"], 4, "4 requests reached the fake, not 7")
        T.eq(w.json("status")[1]["requests_today"], 4, "requests_today 4")
        w.close()
    with T.Fake(key=KEY) as f:
        w = case(f, ["A.DE", "B.DE", "C.DE"], daily_request_limit=3,
                 fmp_batch="batch")
        f.reset()
        rc, ev, err = w.sync()
        t = T.terminal(ev)
        # 1 batch + 1 fx + 3 profiles = 5, refused before the start
        T.eq((rc, [e["type"] for e in ev], t.get("code")),
             (1, ["error"], "upstream_quota"), "profiles count in the estimate")
        rc, out, err = w.cli("add", "X.DE", "Y.DE", "Z.DE", "W.DE",
                             "--refresh-profile")
        T.ok(rc == 1 and "daily_request_limit" in err and "4" in err,
             "add --refresh-profile of 4 with 3 left does not start (%d %s)"
             % (rc, err.strip()))
        T.eq(f.stats()["requests"], 0, "no request sent")
        rc, out, err = w.cli("add", "X.DE", "Y.DE", "--refresh-profile")
        T.eq(rc, 0, "2 profiles with 3 left: read")
        rc, out, err = w.cli("add", "Z.DE", "W.DE", "--refresh-profile")
        T.ok(rc == 1 and "only 1 of" in err,
             "2 more with 1 left: refused (%s)" % err.strip())
        T.eq(f.stats()["requests"], 2, "2 profile requests in all")
        T.eq(w.json("status")[1]["requests_today"], 2, "requests_today 2")
        w.close()


def t_profile_remembered():
    """a suffix symbol FMP never returns: its profile is asked once, not on
    every sync (issue 9, defect 8)"""
    with T.Fake(key=KEY) as f:
        w = case(f, ["NOSUCH.DE", "SAP.DE"])
        f.reset()
        rc, ev, err = w.sync()
        T.eq(rc, 3, "first sync: NOSUCH.DE fails alone")
        prof = lambda: sorted(x for e in f.stats()["log"]  # noqa: E731
                              if e["path"] == "/stable/profile"
                              for x in e["symbols"])
        T.eq(prof(), ["NOSUCH.DE", "SAP.DE"], "first sync asks both profiles")
        f.reset()
        rc, ev, err = w.sync()
        T.eq(rc, 3, "second sync: NOSUCH.DE fails alone again")
        T.eq(prof(), [], "second sync asks no profile")
        rc, doc, err = w.json("status")
        T.eq(doc["requests_today"], 8,
             "2 syncs: 2 batches, 2 fx, 2 EURGBP rates, 2 profiles")
        w.close()


def fx_paths(f):
    return [(e["path"], e["symbols"], e["status"]) for e in f.stats()["log"]
            if e["path"] in ("/stable/quote", "/api/v3/fx")
            and any(len(x) == 6 and x.isalpha() for x in e["symbols"])]


def t_fx_pairs():
    """fx_pair GBPUSD is stored inverted; a pair the plan refuses is fetched
    the other way round and inverted, for CCYGBP rates too (issue 9,
    defect 9)"""
    with T.Fake(key=KEY) as f:
        w = case(f, ["AAPL"], fx_pair="GBPUSD")
        f.reset()
        rc, ev, err = w.sync()
        t = T.terminal(ev)
        T.ok(rc == 0 and T.approx(t.get("fx_rate"), 0.7891),
             "fx_pair GBPUSD: fx_rate is USD->GBP, 1 / GBPUSD (%r)"
             % t.get("fx_rate"))
        T.eq([p[1] for p in fx_paths(f)], [["GBPUSD"]], "GBPUSD was fetched")
        fx = w.json("status")[1]["fx"]
        T.eq((fx["pair"], fx["basis"]), ("USDGBP", "inverse"),
             "stored as USDGBP, basis inverse")
        a = T.by_symbol(w.json("list", "--json")[1])["AAPL"]
        T.ok(T.approx(a["price_gbp"], a["price"] * 0.7891),
             "USD valued price x 0.7891, not x 1.267 (%r)" % a["price_gbp"])
        w.write_conf(fx_pair="EURGBP", batch_size=50, concurrency=4)
        rc, ev, err = w.sync()
        T.ok(rc == 1 and T.terminal(ev).get("code") == "config"
             and "USDGBP or GBPUSD" in T.terminal(ev).get("message", ""),
             "fx_pair EURGBP is a config error: %s"
             % T.terminal(ev).get("message"))
        w.close()
    for api in ("stable", "v3"):
        with T.Fake(key=KEY) as f:
            f.control({"refuse_pairs": ["USDGBP", "EURGBP"],
                       "rates": {"EURGBP": 0.85},
                       "profiles": {"SAP.DE": "EUR"}})
            w = case(f, ["AAPL", "SAP.DE"], fmp_api=api)
            f.reset()
            rc, ev, err = w.sync()
            t = T.terminal(ev)
            T.ok(rc == 0 and T.approx(t.get("fx_rate"), 0.7891)
                 and t.get("fx_error") is None,
                 "%s: USDGBP refused: GBPUSD fetched and inverted (%r %r)"
                 % (api, t.get("fx_rate"), t.get("fx_error")))
            got = [(p[1][0], p[2]) for p in fx_paths(f)]
            T.ok(("USDGBP", 402) in got and ("GBPUSD", 200) in got
                 and ("EURGBP", 402) in got and ("GBPEUR", 200) in got,
                 "%s: each refused pair, then its inverse: %s" % (api, got))
            fx = w.json("status")[1]["fx"]
            T.eq((fx["pair"], fx["basis"]), ("USDGBP", "inverse"),
                 "%s: basis inverse" % api)
            rows = T.by_symbol(w.json("list", "--json")[1])
            s = rows["SAP.DE"]
            T.ok(T.approx(s["price_gbp"], s["price"] * 0.85),
                 "%s: EUR valued with 1 / GBPEUR (%r)" % (api, s["price_gbp"]))
            w.close()
    with T.Fake(key=KEY) as f:
        f.control({"refuse_pairs": ["USDGBP", "GBPUSD"]})
        w = case(f, ["AAPL"])
        rc, ev, err = w.sync()
        t = T.terminal(ev)
        T.ok(rc == 0 and t.get("fx_rate") is None and
             "Special Endpoint" in (t.get("fx_error") or ""),
             "both ways refused: fx_rate null, fx_error says why (%r)"
             % t.get("fx_error"))
        T.eq(len(fx_paths(f)), 2, "one try each way, no loop")
        w.close()


def main():
    T.need_cli()
    for fn in (t_starter_auto, t_free, t_batch_forced, t_currencies, t_daily_limit,
               t_limit_every_request, t_profile_remembered, t_fx_pairs):
        T.scenario(fn)
    return T.done()


if __name__ == "__main__":
    sys.exit(main())
