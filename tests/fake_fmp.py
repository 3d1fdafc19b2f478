#!/usr/bin/env python3
"""fake_fmp: a stand-in for Financial Modeling Prep (FMP), for tests.

Speaks the shapes of /work/shared/fmp-api.md and its fixtures (field names,
field order, JSON types, error bodies) with deterministic data, so the C
client can be driven end to end on 127.0.0.1 without a network or a key.
python3 standard library only.

Usage:
    python3 tests/fake_fmp.py --ready-file F [--port 0] [--delay S]
        [--key K] [--plan premium|starter|free]

Listens on 127.0.0.1 (port 0 = a free one), writes the port number to F
(atomically: a temp file renamed) once it accepts connections, and stops
cleanly on SIGTERM or SIGINT, or when its parent process goes away. HTTP/1.1 with keep-alive and an exact
Content-Length on every answer; one thread per connection.

Upstream endpoints (every one checks `apikey` when a key is configured):
    GET /stable/batch-quote?symbols=A,B,...     stable quote objects
    GET /stable/batch-quote-short?symbols=A,B   {symbol,price,change,volume}
    GET /stable/quote?symbol=X                  one stock or forex quote;
                                                a comma list answers 200 []
    GET /stable/quote-short?symbol=X
    GET /stable/profile?symbol=X                [{symbol, companyName,
    GET /api/v3/profile/X                         currency, exchange, ...}]
    GET /api/v3/quote/A,B,...                   v3 quote objects
    GET /api/v3/fx/PAIR                         [{ticker:"USD/GBP",bid,...}]
    GET /stable/historical-price-eod/light?symbol=X&from=D&to=D
                                                [{symbol,date,price,volume}]
    GET /stable/historical-price-eod/full?...   [{symbol,date,open,high,low,
                                                  close,volume,change,
                                                  changePercent,vwap}]
    GET /api/v3/historical-price-full/X?from=D&to=D[&serietype=line]
                                                {symbol, historical:[{date,
                                                 close}]} (line) or full rows
History (fmp-api.md §9): one row per weekday from `from` to `to` (both
inclusive, never after today UTC, never before the symbol's `listed` date),
newest first, `date` strings, closes from eod_close() below (a module
function, so a test can recompute them): every tenth day's close is a whole
number and printed as a JSON integer. An unknown symbol answers `[]`
(stable) or `{}` (v3); from > to answers `[]`.
Unknown symbols (any starting with "NOSUCH", or listed in `drop`) are left
out of the answer (single quote: 200 []). A 6-letter symbol made of two
known currency codes (USDGBP, EURGBP, ...) is a forex pair.

Data is a function of the symbol: price = 10 + (crc32(sym) % 50000) / 100
(".L" symbols: 100 + (crc32 % 90000) / 100, in pence, exchange "LSE");
name f"{sym} Holdings"; timestamp = the `quote_time` control value.

Test endpoints (never counted in the stats, never need a key):
    POST /_control   JSON object merged into the state (answers the state)
    GET  /_stats     {"requests": total, "by_path": {path: n},
                      "in_flight": n, "max_in_flight": n,
                      "log": [{"path", "symbols", "status", "t_start",
                               "t_end"}]}   (paths without the query, so
                      the apikey is never logged; t_* = time.monotonic())
    POST /_reset     clears the stats; body {"state": true} also resets
                     the state to the command-line defaults
    GET  /_state     the current state

Control keys (POST /_control):
    delay        float seconds added to every upstream answer (default 0)
    slow         {SYMBOL: seconds}: extra delay for a request naming SYMBOL
    key          the accepted apikey; null/"" = accept any (default --key)
    old_key_error  bool: a bad key answers 200 with the 2020-21 body
    quote_time   Unix seconds in every quote's `timestamp` (1762549202)
    fx_rate      the USDGBP rate (default 0.7891): stable price, v3 bid;
                 GBPUSD is its inverse
    rates        {PAIR: rate} for other pairs, e.g. {"EURGBP": 0.85}
                 (the inverse pair, GBPEUR, gets 1 / rate; pairs of known
                 currencies not listed get a rate from a hash, so CCYGBP
                 lookups work without set-up)
    refuse_pairs [PAIR]: an fx request (v3 fx, or a stable quote of the
                 pair) for one of them answers 402 Premium Query
                 Parameter/Special Endpoint, as a plan without that pair
                 does (free plans: GBPUSD, maybe not USDGBP)
    prices       {SYMBOL: price}: override the hashed price
    drop         [SYMBOL]: left out of every answer (quotes, fx, profiles)
    no_price     [SYMBOL]: their `price` is null
    strings      true: numbers as strings, as in old answers (timestamp
                 stays a number); "all": the timestamp too
    profiles     {SYMBOL: currency} for the profile endpoints; otherwise
                 ".L" -> "GBp", ".DE"/".PA"/".AS" -> "EUR", plain -> "USD"
    profile_fail bool: every profile request answers 500
    quota_spent  bool: every upstream request answers 429 with the
                 "Limit Reach" body and no Retry-After
    legacy       bool: every /api/v3/ path answers 403 "Legacy Endpoint"
    plan         "premium" (everything), "starter" (402 Restricted Endpoint
                 on /stable/batch-quote and /stable/batch-quote-short),
                 "free" (as starter, and /stable/quote for a symbol not in
                 free_sample answers 402 Premium Query Parameter/Special
                 Endpoint; forex pairs are always allowed)
    free_sample  [SYMBOL] allowed on the free plan (history too: on the
                 free plan a history request for another symbol, not a
                 forex pair, answers 402 Premium Query Parameter)
    listed       {SYMBOL: "YYYY-MM-DD"}: no history rows before that date
    eod_null     {SYMBOL: ["YYYY-MM-DD"]}: those rows carry a null close
    eod_refuse   [SYMBOL]: history requests for them answer 402 Premium
                 Query Parameter (a symbol outside the plan), any plan
    eod_empty    [SYMBOL]: history requests for them answer `[]` / `{}`
    text_402     bool: the Special Endpoint 402 as text/plain
    fail         [rule]: the first rule that matches a request and has
                 times != 0 decides its answer (times is then decremented).
                 A rule: {"match": ..., "status": 500, "body": null,
                 "content_type": "application/json", "retry_after": null,
                 "times": -1, "kind": "status", "path": null}
          match  SYMBOL: a quote, fx or history request naming it;
                 "history": any history request;
                 "*": any quote request (not fx, not profile);
                 "fx": any fx request (v3 fx, or a stable quote of a pair);
                 "profile": any profile request; "any": every request
          path   optional prefix the request path must start with
          times  how many requests it hits; -1 (the default) = forever
          kind   "status": answer status with body (null body -> the
                   matching FMP error body for 401/402/403, else
                   {"Error Message": "<reason phrase>"}); retry_after
                   sets a Retry-After header
                 "malformed": 200 with invalid JSON
                 "truncated": declares the full Content-Length, sends half
                   of the JSON, then closes the connection
                 "hang": never answers; waits until the client closes the
                   connection (its timeout) or the fake stops
                 "reset": closes the connection with a TCP reset
Order of checks for an upstream request: key, quota_spent, legacy,
profile_fail, plan, fail rules, then the normal answer (after delay).
"""

import argparse
import datetime
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

BODY_INVALID_KEY = {
    "Error Message": "Invalid API KEY. Feel free to create a Free API Key or visit https://site.financialmodelingprep.com/faqs?search=why-is-my-api-key-invalid for more information."
}
BODY_INVALID_KEY_OLD = {
    "Error Message": "Invalid API KEY. Please retry or visit our documentation to create one FREE https://financialmodelingprep.com/developer/docs"
}
BODY_LIMIT_REACH = {
    "Error Message": "Limit Reach . Please upgrade your plan or visit our documentation for more details at https://site.financialmodelingprep.com/"
}
BODY_LEGACY = {
    "Error Message": "Legacy Endpoint : Due to Legacy endpoints being no longer supported - This endpoint is only available for legacy users who have valid subscriptions prior August 31, 2025. Please visit our subscription page to upgrade your plan or contact us at https://site.financialmodelingprep.com/developer/docs/pricing"
}
BODY_RESTRICTED = {
    "Error Message": "Restricted Endpoint: This endpoint is not available under your current subscription please visit our subscription page to upgrade your plan."
}
TEXT_SPECIAL = "Premium Query Parameter: 'Special Endpoint : This value set for 'symbol' is not available under your current subscription please visit our subscription page to upgrade your plan at https://site.financialmodelingprep.com/developer/docs/pricing'"
BODY_SPECIAL = {"Error Message": TEXT_SPECIAL}

CURRENCIES = {
    "USD", "GBP", "EUR", "JPY", "CHF", "CAD", "AUD", "NZD", "SEK", "NOK",
    "DKK", "HKD", "SGD", "CNY", "INR", "ZAR", "MXN", "PLN", "CZK", "HUF",
}
SUFFIX_CCY = {
    "L": "GBp", "DE": "EUR", "PA": "EUR", "AS": "EUR", "MI": "EUR",
    "MC": "EUR", "BR": "EUR", "SW": "CHF", "TO": "CAD", "HK": "HKD",
    "T": "JPY", "AX": "AUD", "ST": "SEK", "OL": "NOK", "CO": "DKK",
}
SUFFIX_EXCHANGE = {
    "L": "LSE", "DE": "XETRA", "PA": "EURONEXT", "AS": "EURONEXT",
    "SW": "SIX", "TO": "TSX", "HK": "HKSE", "T": "JPX", "AX": "ASX",
}
DEFAULT_FREE_SAMPLE = ["AAPL", "MSFT", "GOOGL", "AMZN", "TSLA", "META",
                       "NVDA", "VOD.L", "BP.L"]
EOD_PATHS = ("/stable/historical-price-eod/light",
             "/stable/historical-price-eod/full")
V3_EOD = "/api/v3/historical-price-full/"
QUOTE_PATHS = ("/stable/batch-quote", "/stable/batch-quote-short",
               "/stable/quote", "/stable/quote-short")
BATCH_PATHS = ("/stable/batch-quote", "/stable/batch-quote-short")


def default_state(args):
    return {
        "delay": float(args.delay),
        "slow": {},
        "key": args.key,
        "old_key_error": False,
        "quote_time": 1762549202,
        "fx_rate": 0.7891,
        "rates": {},
        "prices": {},
        "drop": [],
        "no_price": [],
        "strings": False,
        "profiles": {},
        "profile_fail": False,
        "quota_spent": False,
        "legacy": False,
        "plan": args.plan,
        "free_sample": list(DEFAULT_FREE_SAMPLE),
        "refuse_pairs": [],
        "text_402": False,
        "fail": [],
        "listed": {},
        "eod_null": {},
        "eod_refuse": [],
        "eod_empty": [],
    }


def is_pair(sym):
    return (len(sym) == 6 and sym.isalpha() and sym.isupper()
            and sym[:3] in CURRENCIES and sym[3:] in CURRENCIES)


def suffix(sym):
    return sym.rsplit(".", 1)[1] if "." in sym else ""


def h(sym):
    return zlib.crc32(sym.encode())


EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()


def eod_close(sym, date, base):
    """The close of sym on date ("YYYY-MM-DD"), around base (the symbol's
    quote price): deterministic, > 0, 2 decimals (forex 5); every tenth day
    (days since 1970 % 10 == 3) a whole number, returned as an int, as FMP
    prints some closes ("low": 127) -- not for a pair, where a rate of 0.79
    rounded to 1 would move every USD holding by a quarter that day."""
    day = datetime.date(int(date[:4]), int(date[5:7]),
                        int(date[8:10])).toordinal() - EPOCH_ORDINAL
    wiggle = ((h(sym + "@" + date) % 2001) - 1000) / 20000.0
    c = base * (1 + wiggle)
    if day % 10 == 3 and not is_pair(sym):
        return max(1, int(round(c)))
    return round(c, 5 if is_pair(sym) else 2)


def weekdays(first, last):
    """Weekday dates from first to last (date strings), newest first."""
    d0 = datetime.date.fromisoformat(first).toordinal()
    d = datetime.date.fromisoformat(last).toordinal()
    out = []
    while d >= d0:
        if d % 7 not in (0, 6):  # ordinal % 7: 0 is Sunday, 6 Saturday
            out.append(datetime.date.fromordinal(d).isoformat())
        d -= 1
    return out


class Fake:
    """State, stats and the answers; shared by all handler threads."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.state = default_state(args)
        self.reset_stats()

    def reset_stats(self):
        self.requests = 0
        self.by_path = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self.log = []

    # ---- data ----
    def known(self, sym, st):
        return bool(sym) and not sym.startswith("NOSUCH") \
            and sym not in st["drop"]

    def rate(self, pair, st):
        if pair == "USDGBP":
            return float(st["fx_rate"])
        if pair == "GBPUSD":
            return 1.0 / float(st["fx_rate"])
        if pair in st["rates"]:
            return float(st["rates"][pair])
        if pair[3:] + pair[:3] in st["rates"]:
            return 1.0 / float(st["rates"][pair[3:] + pair[:3]])
        if pair[:3] == pair[3:]:
            return 1.0
        return round(0.2 + (h(pair) % 18000) / 10000.0, 5)

    def base_price(self, sym, st):
        if sym in st["prices"]:
            return float(st["prices"][sym])
        if is_pair(sym):
            return self.rate(sym, st)
        if suffix(sym) == "L":
            return round(100 + (h(sym) % 90000) / 100.0, 2)
        return round(10 + (h(sym) % 50000) / 100.0, 2)

    def num(self, v, st, is_time=False):
        if v is None:
            return None
        s = st["strings"]
        if s == "all" or (s and not is_time):
            return str(v)
        return v

    def stock_numbers(self, sym, st):
        p = self.base_price(sym, st)
        x = h(sym + "#")
        chg = round(p * (((x % 801) - 400) / 10000.0), 4)
        prev = round(p - chg, 4)
        pct = round(chg / prev * 100.0, 5) if prev else 0.0
        vol = 0 if is_pair(sym) else 1000 + x % 50000000
        lo = round(min(p, prev) * 0.99, 4)
        hi = round(max(p, prev) * 1.01, 4)
        return {
            "price": p, "change": chg, "pct": pct, "volume": vol,
            "dayLow": lo, "dayHigh": hi,
            "yearHigh": round(hi * 1.2, 4), "yearLow": round(lo * 0.7, 4),
            "marketCap": None if is_pair(sym) else int(p * (1e6 + x % 10**10)),
            "priceAvg50": round(p * 0.98, 4),
            "priceAvg200": round(p * 0.93, 4),
            "open": round(prev * 1.001, 4), "previousClose": prev,
        }

    def exchange(self, sym):
        if is_pair(sym):
            return "FOREX"
        return SUFFIX_EXCHANGE.get(suffix(sym), "NASDAQ")

    def name(self, sym):
        if is_pair(sym):
            return sym[:3] + "/" + sym[3:]
        return f"{sym} Holdings"

    def stable_row(self, sym, st):
        n = self.stock_numbers(sym, st)
        price = None if sym in st["no_price"] else n["price"]
        f = lambda v: self.num(v, st)  # noqa: E731
        return {
            "symbol": sym,
            "name": self.name(sym),
            "price": f(price),
            "changePercentage": f(n["pct"]),
            "change": f(n["change"]),
            "volume": f(n["volume"]),
            "dayLow": f(n["dayLow"]),
            "dayHigh": f(n["dayHigh"]),
            "yearHigh": f(n["yearHigh"]),
            "yearLow": f(n["yearLow"]),
            "marketCap": f(n["marketCap"]),
            "priceAvg50": f(n["priceAvg50"]),
            "priceAvg200": f(n["priceAvg200"]),
            "exchange": self.exchange(sym),
            "open": f(n["open"]),
            "previousClose": f(n["previousClose"]),
            "timestamp": self.num(int(st["quote_time"]), st, True),
        }

    def short_row(self, sym, st):
        n = self.stock_numbers(sym, st)
        price = None if sym in st["no_price"] else n["price"]
        return {"symbol": sym, "price": self.num(price, st),
                "change": self.num(n["change"], st),
                "volume": self.num(n["volume"], st)}

    def v3_row(self, sym, st):
        n = self.stock_numbers(sym, st)
        x = h(sym + "v3")
        price = None if sym in st["no_price"] else n["price"]
        f = lambda v: self.num(v, st)  # noqa: E731
        pair = is_pair(sym)
        return {
            "symbol": sym,
            "name": self.name(sym),
            "price": f(price),
            "changesPercentage": f(n["pct"]),
            "change": f(n["change"]),
            "dayLow": f(n["dayLow"]),
            "dayHigh": f(n["dayHigh"]),
            "yearHigh": f(n["yearHigh"]),
            "yearLow": f(n["yearLow"]),
            "marketCap": f(n["marketCap"]),
            "priceAvg50": f(n["priceAvg50"]),
            "priceAvg200": f(n["priceAvg200"]),
            "exchange": self.exchange(sym),
            "volume": f(n["volume"]),
            "avgVolume": f(n["volume"] + x % 1000000),
            "open": f(n["open"]),
            "previousClose": f(n["previousClose"]),
            "eps": None if pair or x % 5 == 0 else f(round((x % 2000) / 100.0 - 3, 2)),
            "pe": None if pair or x % 5 == 0 else f(round(5 + (x % 4000) / 100.0, 2)),
            "earningsAnnouncement": None if pair or x % 3 == 0 else "2026-01-29T21:30:00.000+0000",
            "sharesOutstanding": None if pair else f(1000000 + x % 10**10),
            "timestamp": self.num(int(st["quote_time"]), st, True),
        }

    def fx_v3_row(self, pair, st):
        r = self.rate(pair, st)
        date = time.strftime("%Y-%m-%d %H:%M:%S",
                             time.gmtime(int(st["quote_time"])))
        sfmt = (lambda v: "%.5f" % v) if st["strings"] else (lambda v: v)
        return {
            "ticker": pair[:3] + "/" + pair[3:],
            "bid": sfmt(r),
            "ask": sfmt(round(r + 0.00015, 6)),
            "open": sfmt(round(r * 0.999, 6)),
            "low": sfmt(round(r * 0.998, 6)),
            "high": sfmt(round(r * 1.002, 6)),
            "changes": 0.10257,
            "date": date,
        }

    def eod_rows(self, sym, q, st):
        """(symbol, [(date, close or None)]) newest first, for a history
        request's from/to; None when the symbol is unknown."""
        one = lambda k: (q.get(k) or [""])[0]  # noqa: E731
        if not self.known(sym, st) or sym in (st.get("eod_empty") or []):
            return None
        today = time.strftime("%Y-%m-%d", time.gmtime())
        first = one("from") or "1990-01-01"
        last = min(one("to") or today, today)
        listed = (st.get("listed") or {}).get(sym)
        if listed and listed > first:
            first = listed
        try:
            days = weekdays(first, last) if first <= last else []
        except ValueError:
            days = []
        nulls = set((st.get("eod_null") or {}).get(sym) or [])
        base = self.base_price(sym, st)
        return [(d, None if d in nulls else eod_close(sym, d, base))
                for d in days]

    def eod_body(self, path, sym, q, st):
        rows = self.eod_rows(sym, q, st)
        v3 = path.startswith(V3_EOD)
        if rows is None:
            return {} if v3 else []
        x = h(sym + "#vol")
        out = []
        for d, c in rows:
            vol = 1000 + (x + h(d)) % 5000000
            if path.endswith("/light"):
                out.append({"symbol": sym, "date": d, "price": c,
                            "volume": vol})
                continue
            o = None if c is None else round(c * 0.997, 2)
            full = {"date": d, "open": o,
                    "high": None if c is None else round(max(c, o) * 1.01, 2),
                    "low": None if c is None else round(min(c, o) * 0.99, 2),
                    "close": c}
            if v3 and (q.get("serietype") or [""])[0] == "line":
                out.append({"date": d, "close": c})
                continue
            if v3:
                full["adjClose"] = c
            full["volume"] = vol
            chg = None if c is None else round(c - o, 4)
            if v3:
                full["unadjustedVolume"] = vol
            full["change"] = chg
            full["changePercent"] = None if c is None else round(chg / o * 100, 5)
            full["vwap"] = None if c is None else round((o + full["high"] + full["low"] + c) / 4, 4)
            if v3:
                full["label"] = time.strftime("%B %d, %y", time.strptime(d, "%Y-%m-%d"))
                full["changeOverTime"] = None if c is None else round(chg / o, 7)
            else:
                full = {"symbol": sym, **full}
            out.append(full)
        if v3:
            return {"symbol": sym, "historical": out}
        return out

    def currency(self, sym, st):
        if sym in st["profiles"]:
            return st["profiles"][sym]
        sx = suffix(sym)
        if not sx:
            return "USD"
        return SUFFIX_CCY.get(sx, "USD")

    def profile_row(self, sym, st, v3):
        p = self.base_price(sym, st)
        ex = self.exchange(sym)
        row = {
            "symbol": sym,
            "price": p,
            "companyName": self.name(sym),
            "currency": self.currency(sym, st),
            "isin": "XX%010d" % (h(sym) % 10**10),
            "country": "GB" if suffix(sym) == "L" else "US",
            "isEtf": False,
            "isActivelyTrading": True,
        }
        if v3:
            row["exchange"] = {"LSE": "London Stock Exchange",
                               "NASDAQ": "NASDAQ Global Select"}.get(ex, ex)
            row["exchangeShortName"] = ex
        else:
            row["exchangeFullName"] = {"LSE": "London Stock Exchange",
                                       "NASDAQ": "NASDAQ Global Select"}.get(ex, ex)
            row["exchange"] = ex
        return row


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def version_string(self):
        return "fake_fmp/1"

    def log_message(self, fmt, *a):  # quiet: request lines carry the apikey
        pass

    def setup(self):
        super().setup()
        # Headers and body go out in two writes; without TCP_NODELAY the
        # second waits for the client's delayed ACK (40 ms), a stall real
        # FMP does not have and that would swamp the benchmark.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # ---- plumbing ----
    @property
    def fake(self):
        return self.server.fake

    def send_body(self, status, body, ctype="application/json", extra=None):
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body, indent=2)
        if isinstance(body, str):
            # surrogateescape: a test can send bytes that are not UTF-8
            # (a rule's body "\udcff" goes out as the byte 0xff)
            body = body.encode("utf-8", "surrogateescape")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return status

    def read_json(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if not raw.strip():
            return {}
        return json.loads(raw)

    def do_POST(self):
        path = urlsplit(self.path).path
        f = self.fake
        try:
            data = self.read_json()
        except ValueError as e:
            return self.send_body(400, {"error": "bad JSON: %s" % e})
        if path == "/_control":
            if not isinstance(data, dict):
                return self.send_body(400, {"error": "want a JSON object"})
            with f.lock:
                f.state.update(data)
                # copies, so decrementing times never edits a caller's list
                f.state["fail"] = [dict(r) for r in f.state.get("fail") or []]
                st = json.loads(json.dumps(f.state))
            return self.send_body(200, st)
        if path == "/_reset":
            with f.lock:
                f.reset_stats()
                if isinstance(data, dict) and data.get("state"):
                    f.state = default_state(f.args)
            return self.send_body(200, {"ok": True})
        return self.send_body(404, {"Error Message": "not found"})

    def do_GET(self):
        u = urlsplit(self.path)
        path = u.path
        f = self.fake
        if path == "/_stats":
            with f.lock:
                out = {"requests": f.requests, "by_path": dict(f.by_path),
                       "in_flight": f.in_flight,
                       "max_in_flight": f.max_in_flight,
                       "log": list(f.log)}
            return self.send_body(200, out)
        if path == "/_state":
            with f.lock:
                return self.send_body(200, f.state)
        self.upstream(u)

    do_HEAD = do_GET

    # ---- upstream requests ----
    def classify(self, u):
        """Returns (category, symbols, params) for an upstream path."""
        q = parse_qs(u.query, keep_blank_values=True)
        path = u.path
        one = lambda k: (q.get(k) or [""])[0]  # noqa: E731
        split = lambda s: [x for x in s.split(",") if x]  # noqa: E731
        if path in BATCH_PATHS:
            syms = split(one("symbols"))
            return "quote", syms, q
        if path in ("/stable/quote", "/stable/quote-short"):
            syms = split(one("symbol"))
            cat = "fx" if len(syms) == 1 and is_pair(syms[0]) else "quote"
            return cat, syms, q
        if path == "/stable/profile":
            return "profile", split(one("symbol")), q
        if path in EOD_PATHS:
            return "history", split(one("symbol")), q
        if path.startswith(V3_EOD):
            return "history", split(unquote(path[len(V3_EOD):])), q
        if path.startswith("/api/v3/quote/") or path == "/api/v3/quote":
            syms = split(unquote(path[len("/api/v3/quote/"):]))
            return "quote", syms, q
        if path.startswith("/api/v3/fx"):
            pair = unquote(path[len("/api/v3/fx/"):]) if path.startswith("/api/v3/fx/") else ""
            return "fx", [pair] if pair else [], q
        if path.startswith("/api/v3/profile/"):
            return "profile", split(unquote(path[len("/api/v3/profile/"):])), q
        return None, [], q

    def log_path(self, path):
        # Keep the log short for paths that carry symbols.
        for p in ("/api/v3/quote/", "/api/v3/fx/", "/api/v3/profile/",
                  V3_EOD):
            if path.startswith(p):
                return p.rstrip("/")
        return path

    def upstream(self, u):
        f = self.fake
        cat, syms, q = self.classify(u)
        lpath = self.log_path(u.path)
        t0 = time.monotonic()
        with f.lock:
            f.requests += 1
            f.by_path[lpath] = f.by_path.get(lpath, 0) + 1
            f.in_flight += 1
            f.max_in_flight = max(f.max_in_flight, f.in_flight)
            st = json.loads(json.dumps(f.state))
        status = 0
        try:
            status = self.answer(u, cat, syms, q, st)
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True
        finally:
            with f.lock:
                f.in_flight -= 1
                f.log.append({"path": lpath, "symbols": syms,
                              "status": status, "t_start": t0,
                              "t_end": time.monotonic()})

    def take_rule(self, path, cat, syms):
        f = self.fake
        with f.lock:
            for r in f.state.get("fail") or []:
                if r.get("times", -1) == 0:
                    continue
                if r.get("path") and not path.startswith(r["path"]):
                    continue
                m = r.get("match", "*")
                hit = ((m == "any") or (m == "*" and cat == "quote")
                       or (m == "fx" and cat == "fx")
                       or (m == "profile" and cat == "profile")
                       or (m == "history" and cat == "history")
                       or (cat in ("quote", "fx", "history") and m in syms))
                if not hit:
                    continue
                if r.get("times", -1) > 0:
                    r["times"] -= 1
                return dict(r)
        return None

    def wait(self, seconds):
        if seconds and seconds > 0:
            self.fake.stop.wait(seconds)

    def answer(self, u, cat, syms, q, st):
        path = u.path
        self.query = q  # for build(): history reads from/to
        if cat is None:
            return self.send_body(404, {"Error Message": "not found: " + path})
        key = st.get("key")
        if key and (q.get("apikey") or [""])[0] != key:
            if st.get("old_key_error"):
                return self.send_body(200, BODY_INVALID_KEY_OLD)
            return self.send_body(401, BODY_INVALID_KEY)
        if st.get("quota_spent"):
            return self.send_body(429, BODY_LIMIT_REACH)
        if st.get("legacy") and path.startswith("/api/v3/"):
            return self.send_body(403, BODY_LEGACY)
        if cat == "profile" and st.get("profile_fail"):
            return self.send_body(500, {"Error Message": "Internal Server Error"})
        plan = st.get("plan") or "premium"
        if plan in ("starter", "free") and path in BATCH_PATHS:
            return self.send_body(402, BODY_RESTRICTED)
        if (plan == "free" and path in ("/stable/quote", "/stable/quote-short")
                and len(syms) == 1 and not is_pair(syms[0])
                and syms[0] not in (st.get("free_sample") or [])):
            if st.get("text_402"):
                return self.send_body(402, TEXT_SPECIAL, "text/plain")
            return self.send_body(402, BODY_SPECIAL)
        if cat == "history" and len(syms) == 1 and (
                syms[0] in (st.get("eod_refuse") or [])
                or (plan == "free" and not is_pair(syms[0])
                    and syms[0] not in (st.get("free_sample") or []))):
            if st.get("text_402"):
                return self.send_body(402, TEXT_SPECIAL, "text/plain")
            return self.send_body(402, BODY_SPECIAL)
        if cat == "fx" and any(p in (st.get("refuse_pairs") or [])
                               for p in syms):
            return self.send_body(402, BODY_SPECIAL)

        delay = float(st.get("delay") or 0)
        for s in syms:
            delay += float((st.get("slow") or {}).get(s, 0))
        rule = self.take_rule(path, cat, syms)
        if rule is not None:
            self.wait(delay)
            return self.fail(rule, path, cat, syms, st)
        body = self.build(path, cat, syms, st)
        self.wait(delay)
        return self.send_body(200, body)

    def build(self, path, cat, syms, st):
        f = self.fake
        known = [s for s in syms if f.known(s, st)]
        if path in ("/stable/quote", "/stable/quote-short") and len(syms) != 1:
            return []
        if cat == "history":
            if len(syms) != 1:  # a comma list: 200 [] (fmp-api.md §9)
                return {} if path.startswith(V3_EOD) else []
            return f.eod_body(path, syms[0], self.query, st)
        if cat == "profile":
            if len(known) != 1 or is_pair(known[0]):
                return []
            return [f.profile_row(known[0], st, path.startswith("/api/v3/"))]
        if path.startswith("/api/v3/fx"):
            pairs = known if syms else [p for p in ("USDGBP", "EURGBP", "EURUSD")
                                        if f.known(p, st)]
            return [f.fx_v3_row(p, st) for p in pairs if is_pair(p)]
        if path.startswith("/api/v3/quote"):
            return [f.v3_row(s, st) for s in known]
        if path.endswith("-short"):
            return [f.short_row(s, st) for s in known]
        return [f.stable_row(s, st) for s in known]

    def fail(self, rule, path, cat, syms, st):
        kind = rule.get("kind") or "status"
        if kind == "status":
            code = int(rule.get("status") or 500)
            body = rule.get("body")
            if body is None:
                body = {401: BODY_INVALID_KEY, 402: BODY_RESTRICTED,
                        403: BODY_LEGACY}.get(code)
                if body is None:
                    phrase = self.responses.get(code, ("Error",))[0]
                    body = {"Error Message": phrase}
            extra = {}
            if rule.get("retry_after") is not None:
                extra["Retry-After"] = str(rule["retry_after"])
            return self.send_body(code, body,
                                  rule.get("content_type") or "application/json",
                                  extra)
        if kind == "malformed":
            good = json.dumps(self.build(path, cat, syms, st))
            return self.send_body(200, '[{"symbol": "' + (syms[0] if syms else "X")
                                  + '", "price": 12.5,, }' + good[:20])
        if kind == "truncated":
            good = json.dumps(self.build(path, cat, syms, st), indent=2).encode()
            if len(good) < 8:
                good = b'[{"symbol": "X", "price": 1.0}]'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(good)))
            self.end_headers()
            self.wfile.write(good[: len(good) // 2])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return 200
        if kind == "hang":
            self.close_connection = True
            sock = self.connection
            deadline = time.monotonic() + 3600
            while not self.fake.stop.is_set() and time.monotonic() < deadline:
                r, _, _ = select.select([sock], [], [], 0.05)
                if r:
                    try:
                        data = sock.recv(1, socket.MSG_PEEK)
                    except OSError:
                        break
                    if not data:
                        break
                    time.sleep(0.05)
            return 0
        if kind == "reset":
            self.close_connection = True
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.connection.close()
            except OSError:
                pass
            return 0
        return self.send_body(500, {"Error Message": "fake: unknown kind " + kind})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def handle_error(self, request, client_address):
        # A client that went away mid-answer is normal in fault tests.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, OSError)):
            return
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description="fake FMP upstream for tests")
    ap.add_argument("--ready-file", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--key", default=None)
    ap.add_argument("--plan", default="premium",
                    choices=("premium", "starter", "free"))
    args = ap.parse_args()

    fake = Fake(args)
    srv = Server(("127.0.0.1", args.port), Handler)
    srv.fake = fake

    def on_signal(signum, frame):
        fake.stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1},
                         daemon=True)
    t.start()
    tmp = args.ready_file + ".tmp.%d" % os.getpid()
    with open(tmp, "w") as fh:
        fh.write("%d\n" % srv.server_address[1])
    os.rename(tmp, args.ready_file)
    parent = os.getppid()
    while not fake.stop.wait(0.1):
        if os.getppid() != parent:  # the test died (even of SIGKILL): go too
            break
    srv.shutdown()
    srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
