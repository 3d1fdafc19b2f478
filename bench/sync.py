#!/usr/bin/env python3
"""bench/sync.py: 10,000 symbols synced against the slowed fake FMP.

Imports 10,000 symbols, slows every fake answer by 0.1 s, and runs
`pricesync sync --json` with batch_size 50 and concurrency 4: 200 batches,
so no client can finish before 200 / 4 x 0.1 = 5.0 s (the floor). Prints
wall time, the ratio to the floor, the CPU time and peak RSS of the sync
process alone (os.wait4 on its pid), and the most requests the fake saw in
flight at once, beside the targets. A benchmark, not a test: it exits 0
unless the sync itself failed (or could not run).

    python3 bench/sync.py --builddir BUILD [--symbols N] [--delay S]
"""

import argparse
import json
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
import pstest as T  # noqa: E402

KEY = "K-bench"


def underfilled(log, conc):
    """Seconds, between the first request's start and the last one's end,
    during which the fake had fewer than conc requests in flight: time the
    client spent not asking (parsing, committing) rather than waiting."""
    if not log:
        return 0.0, 0.0
    marks = sorted([(e["t_start"], 1) for e in log] + [(e["t_end"], -1) for e in log])
    cur, last, under = 0, marks[0][0], 0.0
    for t, d in marks:
        if cur < conc:
            under += t - last
        cur += d
        last = t
    return under, marks[-1][0] - marks[0][0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--builddir", default=os.getcwd())
    ap.add_argument("--symbols", type=int, default=10000)
    ap.add_argument("--delay", type=float, default=0.1)
    ap.add_argument("--batch-size", type=int, default=50)
    ap.add_argument("--concurrency", type=int, default=4)
    a = ap.parse_args()
    T.builddir = os.path.abspath(a.builddir)
    if not os.access(T.cli_path(), os.X_OK):
        print("bench: no %s (run make first)" % T.cli_path(), file=sys.stderr)
        return 1

    batches = -(-a.symbols // a.batch_size)
    floor = -(-batches // a.concurrency) * a.delay
    with T.Fake(key=KEY) as f, T.Workdir(f, api_key=KEY) as w:
        w.write_conf(batch_size=a.batch_size, concurrency=a.concurrency,
                     retries=0, timeout_s=60)
        rc, out, err = w.import_symbols(T.syms("B", a.symbols, 5))
        if rc != 0:
            print("bench: import failed (%s): %s" % (rc, err.strip()), file=sys.stderr)
            return 1
        f.control({"delay": a.delay})
        f.reset()

        p = T.popen_cli(["sync", "--json"], w.env)
        chunks = {}

        def drain(name, fh):
            chunks[name] = fh.read()

        ts = [threading.Thread(target=drain, args=(n, fh))
              for n, fh in (("out", p.stdout), ("err", p.stderr))]
        t0 = time.monotonic()
        for t in ts:
            t.start()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        for t in ts:
            t.join()
        st = f.stats()

    under, span = underfilled(st["log"], a.concurrency)
    ev = T.parse_ndjson(chunks.get("out", ""))
    term = T.terminal(ev)
    bad = T.check_events(ev)
    cpu = ru.ru_utime + ru.ru_stime
    ratio = wall / floor if floor else float("nan")
    rows = [
        ("symbols", "%d" % a.symbols, ""),
        ("batches (size %d)" % a.batch_size, "%d" % batches, ""),
        ("upstream requests", "%d" % st["requests"], ""),
        ("floor (%d/%d x %.2f s)" % (batches, a.concurrency, a.delay),
         "%.3f s" % floor, ""),
        ("wall time", "%.3f s" % wall, ""),
        ("ratio wall/floor", "%.3f" % ratio, "<= 1.15"),
        ("CPU user+sys", "%.3f s" % cpu, "<= 0.5 s"),
        ("  user / sys", "%.3f / %.3f s" % (ru.ru_utime, ru.ru_stime), ""),
        ("peak RSS", "%d KiB" % ru.ru_maxrss, ""),
        ("max in flight", "%d" % st["max_in_flight"], "<= %d" % a.concurrency),
        ("time < %d in flight" % a.concurrency,
         "%.3f s of %.3f s" % (under, span), "small"),
        ("result", "%s updated=%s failed=%s" % (term.get("type"), term.get("updated"),
                                               term.get("failed")), "complete"),
    ]
    print("%-28s %-26s %s" % ("measure", "value", "target"))
    print("-" * 64)
    for r in rows:
        print("%-28s %-26s %s" % r)
    verdict = [ratio <= 1.15, cpu <= 0.5, st["max_in_flight"] <= a.concurrency]
    print("-" * 64)
    print("targets met: %d of 3" % sum(verdict))
    if bad:
        print("event rule violations: %s" % "; ".join(bad[:5]))
    if os.environ.get("BENCH_JSON"):
        with open(os.environ["BENCH_JSON"], "w") as fh:
            json.dump({"wall_s": wall, "floor_s": floor, "ratio": ratio,
                       "cpu_s": cpu, "maxrss_kib": ru.ru_maxrss,
                       "max_in_flight": st["max_in_flight"],
                       "underfilled_s": under,
                       "requests": st["requests"], "rc": p.returncode}, fh)
    if term.get("type") != "complete" or p.returncode not in (0, 3):
        print("bench: the sync failed (exit %s): %s" % (p.returncode,
              (chunks.get("err") or "").strip()[:500]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
