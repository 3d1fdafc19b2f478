#!/usr/bin/env python3
"""bench/sync.py: N symbols synced against the slowed fake FMP.

Imports N symbols (default 10,000), slows every fake answer by 0.1 s, and
runs `pricesync sync --json` with batch_size 50 and concurrency 4 under
bench/peakrss (a small C program that forks it and reports its peak RSS
and CPU time with wait4: a child forked from Python would start with
Python's peak RSS as its own). 10,000 symbols are 200 batches, so no
client can finish before ceil(200 / 4) x 0.1 = 5.0 s (the floor). Prints
wall time, the ratio to the floor, CPU, peak RSS and the most requests the
fake saw in flight at once, beside the targets of issue 10. bench/bench.py
runs it at every size of `make bench`. A benchmark, not a test: it exits 0
unless the sync itself failed (or could not run).

    python3 bench/sync.py --builddir BUILD [--symbols N] [--delay S]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
import pstest as T  # noqa: E402

KEY = "K-bench"


class BenchError(Exception):
    """Something the bench needed did not run."""


def peakrss_path():
    return os.path.join(T.builddir, "bench", "peakrss")


def need_peakrss():
    if not os.access(peakrss_path(), os.X_OK):
        raise BenchError("no %s: build it with `make bench` (or `make "
                         "bench/peakrss bench/floor`)" % peakrss_path())


def peakrss(cmd, env, stdin=None, stdout=None, timeout=3600):
    """Runs cmd under bench/peakrss; returns (report dict, stdout bytes or
    None, stderr bytes). stdin/stdout: file paths or None (stdout is then
    piped back)."""
    need_peakrss()
    fd, rep = tempfile.mkstemp(prefix="ps-bench-rss-")
    os.close(fd)
    args = [peakrss_path(), "-r", rep]
    if stdin:
        args += ["-i", stdin]
    if stdout:
        args += ["-o", stdout]
    try:
        p = subprocess.run(args + ["--"] + list(cmd), env=env,
                           stdin=subprocess.DEVNULL,
                           stdout=None if stdout else subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        with open(rep) as fh:
            text = fh.read().strip()
    finally:
        os.unlink(rep)
    if not text:
        raise BenchError("peakrss reported nothing for %s: %s"
                         % (cmd[0], p.stderr.decode(errors="replace")[-300:]))
    r = {}
    for kv in text.split():
        k, _, v = kv.partition("=")
        r[k] = int(v) if k in ("maxrss_kib", "exit") else float(v)
    r["cpu_s"] = r["user_s"] + r["sys_s"]
    return r, p.stdout, p.stderr


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


def floor_s(symbols, batch_size, concurrency, delay):
    batches = -(-symbols // batch_size)
    return batches, -(-batches // concurrency) * delay


def run_sync(f, w, symbols, delay=0.1, batch_size=50, concurrency=4,
             prefix="B"):
    """Imports `symbols` symbols into w's fresh store, slows the fake f by
    delay and runs one sync under peakrss. Returns a dict of figures;
    raises BenchError when the import or the sync failed."""
    w.write_conf(batch_size=batch_size, concurrency=concurrency,
                 retries=0, timeout_s=60)
    rc, out, err = w.import_symbols(T.syms(prefix, symbols, 6))
    if rc != 0:
        raise BenchError("import of %d symbols failed (%s): %s"
                         % (symbols, rc, err.strip()[:300]))
    f.control({"delay": delay})
    f.reset()
    ru, out, err = peakrss(T.cli_cmd(["sync", "--json"]), w.env)
    st = f.stats()
    ev = T.parse_ndjson(out.decode(errors="replace"))
    term = T.terminal(ev)
    if term.get("type") != "complete" or ru["exit"] not in (0, 3):
        raise BenchError("the sync of %d symbols failed (exit %s): %s"
                         % (symbols, ru["exit"],
                            err.decode(errors="replace").strip()[:500]))
    batches, floor = floor_s(symbols, batch_size, concurrency, delay)
    under, span = underfilled(st["log"], concurrency)
    return {"symbols": symbols, "batches": batches, "floor_s": floor,
            "wall_s": ru["wall_s"],
            "ratio": ru["wall_s"] / floor if floor else float("nan"),
            "cpu_s": ru["cpu_s"], "user_s": ru["user_s"],
            "sys_s": ru["sys_s"], "maxrss_kib": ru["maxrss_kib"],
            "requests": st["requests"], "max_in_flight": st["max_in_flight"],
            "underfilled_s": under, "span_s": span,
            "updated": term.get("updated"), "failed": term.get("failed"),
            "rule_violations": T.check_events(ev)[:5], "rc": ru["exit"]}


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
    try:
        with T.Fake(key=KEY) as f, T.Workdir(f, api_key=KEY) as w:
            r = run_sync(f, w, a.symbols, a.delay, a.batch_size,
                         a.concurrency)
    except BenchError as e:
        print("bench: %s" % e, file=sys.stderr)
        return 1
    conc = a.concurrency
    rows = [
        ("symbols", "%d" % r["symbols"], ""),
        ("batches (size %d)" % a.batch_size, "%d" % r["batches"], ""),
        ("upstream requests", "%d" % r["requests"], ""),
        ("floor (ceil(%d/%d) x %.2f s)" % (r["batches"], conc, a.delay),
         "%.3f s" % r["floor_s"], ""),
        ("wall time", "%.3f s" % r["wall_s"], ""),
        ("ratio wall/floor", "%.3f" % r["ratio"], "<= 1.10"),
        ("CPU user+sys", "%.3f s" % r["cpu_s"], "<= 2 s at 100,000"),
        ("  user / sys", "%.3f / %.3f s" % (r["user_s"], r["sys_s"]), ""),
        ("peak RSS", "%.1f MiB" % (r["maxrss_kib"] / 1024), "<= 16 MiB"),
        ("max in flight", "%d" % r["max_in_flight"], "<= %d" % conc),
        ("time < %d in flight" % conc,
         "%.3f s of %.3f s" % (r["underfilled_s"], r["span_s"]), "small"),
        ("result", "updated=%s failed=%s" % (r["updated"], r["failed"]),
         "complete"),
    ]
    print("%-30s %-24s %s" % ("measure", "value", "target"))
    print("-" * 66)
    for row in rows:
        print("%-30s %-24s %s" % row)
    if r["rule_violations"]:
        print("event rule violations: %s" % "; ".join(r["rule_violations"]))
    if os.environ.get("BENCH_JSON"):
        with open(os.environ["BENCH_JSON"], "w") as fh:
            json.dump(r, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
