#!/usr/bin/env python3
"""t-exclusive: one sync at a time, and a killed sync leaves a usable store
(acceptance 7).

A slow sync (the fake delays every answer) holds the lock; a second
`pricesync sync --json` must fail at once with sync_in_progress and no
start event. Then a sync is killed with SIGKILL after its first progress
event: the next sync must run to complete, and the symbols committed
before the kill must keep their prices.
"""

import os
import queue
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(
    os.environ.get("top_srcdir")
    or os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
import pstest as T  # noqa: E402

KEY = "K-test-lock"


class Lines:
    """Reads a process's stdout on a thread, one event per line."""

    def __init__(self, proc):
        self.q = queue.Queue()
        self.events = []
        self.t = threading.Thread(target=self._run, args=(proc.stdout,),
                                  daemon=True)
        self.t.start()

    def _run(self, fh):
        for ln in fh:
            self.q.put(ln)
        self.q.put(None)

    def until(self, pred, timeout):
        """Collects events until pred(event) or EOF/timeout; returns the
        matching event or None."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            try:
                ln = self.q.get(timeout=left)
            except queue.Empty:
                return None
            if ln is None:
                return None
            ev = T.parse_ndjson(ln)
            self.events += ev
            for e in ev:
                if pred(e):
                    return e


def setup(w, n):
    w.write_conf(batch_size=5, concurrency=1, retries=0, min_interval_s=0)
    rc, out, err = w.import_symbols(T.syms("L", n))
    T.eq(rc, 0, "import %d symbols" % n)


def kill(p):
    if p.poll() is None:
        p.kill()
    p.wait()


def test_second_sync_refused():
    """acceptance 7: a second sync fails at once with sync_in_progress"""
    with T.Fake(key=KEY) as f, T.Workdir(f, api_key=KEY) as w:
        setup(w, 20)
        f.control({"delay": 0.5})  # 4 batches one at a time: about 2 s
        p = T.popen_cli(["sync", "--json"], w.env)
        try:
            lines = Lines(p)
            start = lines.until(lambda e: e.get("type") == "start", 30)
            T.ok(start is not None, "first sync started")
            t0 = time.monotonic()
            rc, out, err = w.cli("sync", "--json")
            took = time.monotonic() - t0
            ev = T.parse_ndjson(out)
            T.eq(rc, 1, "second sync exits 1")
            T.eq([(e.get("type"), e.get("code")) for e in ev],
                 [("error", "sync_in_progress")],
                 "second sync prints only a sync_in_progress error")
            T.events_ok(ev, "second sync: events follow the rules")
            # a wrapper (valgrind) adds its own start-up time
            limit = 1.0 + (5.0 if T.wrapper() else 0.0)
            T.ok(took < limit, "it answered at once (%.2f s)" % took)
            rc, stt, err = w.json("status")
            T.eq((stt or {}).get("running"), True, "status: running while it runs")
            T.ok(((stt or {}).get("progress") or {}).get("type") in ("start", "progress"),
                 "status: progress holds the latest event")
            end = lines.until(lambda e: e.get("type") in ("complete", "error"), 60)
            p.wait(30)
            T.events_ok(lines.events, "first sync: events follow the rules")
            T.eq((p.returncode, (end or {}).get("type"), (end or {}).get("updated")),
                 (0, "complete", 20), "first sync completes undisturbed")
            rc, stt, err = w.json("status")
            T.eq(((stt or {}).get("running"), (stt or {}).get("progress")),
                 (False, None), "status: not running after")
            f.control({"delay": 0})
            rc, ev, err = w.sync()
            T.eq(rc, 0, "a sync after it runs normally")
        finally:
            kill(p)


def test_kill9():
    """acceptance 7: kill -9 mid-sync, then the next sync completes"""
    with T.Fake(key=KEY) as f, T.Workdir(f, api_key=KEY) as w:
        setup(w, 30)
        f.control({"delay": 0.4})
        p = T.popen_cli(["sync", "--json"], w.env)
        try:
            lines = Lines(p)
            prog = lines.until(lambda e: e.get("type") == "progress", 60)
            T.ok(prog is not None, "a progress event arrived")
            os.kill(p.pid, signal.SIGKILL)
            p.wait(10)
            T.eq(p.returncode, -signal.SIGKILL, "the sync died of SIGKILL")
        finally:
            kill(p)
        seen = prog.get("updated", 0) if prog else 0
        rc, doc, err = w.json("list", "--json")
        T.eq(rc, 0, "list --json works after the kill")
        rows = T.by_symbol(doc)
        upd = {s: r for s, r in rows.items() if r.get("updated_at")}
        T.ok(len(upd) >= seen > 0,
             "symbols committed before the kill are stored (%d >= %d)"
             % (len(upd), seen))
        T.ok(all(T.approx(r.get("price"), T.fake_price(s)) for s, r in upd.items()),
             "they keep their prices")
        T.ok(all(r.get("error") is None for r in upd.values()), "and no error")
        rc, stt, err = w.json("status")
        T.eq((stt or {}).get("running"), False, "status: not running after the crash")
        T.eq((stt or {}).get("last_synced"), None, "the killed sync set no last_synced")

        f.control({"delay": 0})
        rc, ev, err = w.sync()
        T.events_ok(ev, "next sync: events follow the rules")
        t = T.terminal(ev)
        T.eq((rc, t.get("type"), t.get("updated")), (0, "complete", 30),
             "the next sync runs to complete")
        rc, doc, err = w.json("list", "--json")
        rows = T.by_symbol(doc)
        T.ok(len(rows) == 30 and all(r.get("updated_at") and r.get("error") is None
                                     for r in rows.values()),
             "all 30 symbols updated")
        rc, out, err = w.cli("history", "L000")
        T.eq(rc, 0, "history readable")


def main():
    T.need_cli()
    T.scenario(test_second_sync_refused)
    T.scenario(test_kill9)
    return T.done()


if __name__ == "__main__":
    sys.exit(main())
