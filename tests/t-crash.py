#!/usr/bin/env python3
"""t-crash: the crash loop. Kills a sync with SIGKILL at a random moment,
over and over, and checks what SPEC §3 promises of the store after each
kill: "a crash or kill -9 mid-sync loses at most the batch in flight, and
never leaves the database unreadable or half-written".

Each round: the fake FMP (with a small random delay) gets a new quote time,
so every batch a sync commits is recognisable; a sync starts, by turns
`pricesync sync --json` or a POST to the `sync` FastCGI program (under
spawn-fcgi, through cgi-fcgi); at a random moment the store is read (what
is committed then) and the sync's process and its children are killed
with SIGKILL. Then, on the store as it was left:

- unreadable: mdb_stat -a and mdb_dump -a read it, `pricesync list`
  opens it;
- half batch: a batch's symbols (batch_size consecutive symbols in sorted
  order, as the sync cuts them) are all at the new quote time or none is,
  and the stored progress and request count went in with them (the
  progress's `done` is the number of symbols updated; the request count
  grew by at least one per batch committed);
- doubled: no (symbol, time) history point twice, and each symbol's points
  are exactly the quote times it was updated to (no point without its
  symbol update, no update without its point);
- stuck running: the status says running false, progress null;
- lost: everything read before the kill is still there (quote times,
  points, last_synced, request count), and at least as many batches as
  progress events were seen;
- next failed: the next sync (same channel, not killed) completes with
  every symbol updated.

PS_CRASH_RUNS=N (default 20) rounds; PS_CRASH_SEED=S replays a sequence of
kill moments. The summary line counts every kind of finding.
"""

import json
import os
import random
import select
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(
    os.environ.get("top_srcdir")
    or os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
import pstest as T  # noqa: E402
import webstack  # noqa: E402

RUNS = int(os.environ.get("PS_CRASH_RUNS") or 20)
SEED = int(os.environ.get("PS_CRASH_SEED") or random.randrange(1 << 30))
CGI_FCGI = "/usr/bin/cgi-fcgi"
NSYM, BATCH, CONC = 60, 5, 2
BASE_T = 1762549202
KINDS = ("unreadable", "half batch", "doubled", "stuck running", "lost",
         "next failed")


# ---- reading the store as it is on disk ----
def mdb_dump(db):
    """{database name: [(key bytes, value bytes)]}, or None when
    mdb_dump fails."""
    p = subprocess.run(["mdb_dump", "-a", db], capture_output=True,
                       timeout=60)
    if p.returncode != 0:
        return None
    out, cur, in_data, pend = {}, None, False, None
    for ln in p.stdout.decode("ascii", "replace").splitlines():
        if ln.startswith("database="):
            cur = ln.partition("=")[2]
            out[cur] = []
        elif ln == "HEADER=END":
            in_data, pend = True, None
        elif ln == "DATA=END":
            in_data = False
        elif in_data and ln.startswith(" "):
            b = bytes.fromhex(ln[1:])
            if pend is None:
                pend = b
            else:
                out.setdefault(cur, []).append((pend, b))
                pend = None
    return out


class Snap:
    """The parts of the store the checks need."""

    def __init__(self, dump):
        self.syms, self.points, self.settings = {}, [], {}
        for k, v in dump.get("symbols", []):
            self.syms[k.decode()] = json.loads(v)
        for k, v in dump.get("price_history", []):
            sym, _, t = k.partition(b"\0")
            self.points.append((sym.decode(), int.from_bytes(t, "big") ^
                                (1 << 63), float(v)))
        for k, v in dump.get("settings", []):
            self.settings[k.decode()] = v.decode()

    def qt(self, sym):
        return self.syms.get(sym, {}).get("quote_time")

    def requests(self):
        return int(self.settings.get("requests_count") or 0)

    def progress(self):
        p = self.settings.get("progress")
        return json.loads(p) if p else None


def read_store(db):
    d = mdb_dump(db)
    return Snap(d) if d is not None else None


# ---- the two ways a sync runs ----
def descendants(pid):
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as fh:
                ppid = int(fh.read().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in kids.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def kill9_tree(pid):
    """SIGKILL to pid and every process below it (a sync that forked a
    worker dies with it), children first found, all before any reaping."""
    for p in [pid] + descendants(pid):
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


class CliSync:
    kind = "cli"

    def __init__(self, w):
        self.w = w

    def start(self):
        self.p = T.popen_cli(["sync", "--json"], self.w.env)
        self.victim = self.p.pid
        return self.p.stdout

    def reap(self):
        try:
            self.p.wait(30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.p.stdout.close()
        self.p.stderr.close()

    def restart(self):
        pass

    def stop(self):
        if self.p.poll() is None:
            kill9_tree(self.p.pid)
        self.reap()


class FcgiSync:
    """The `sync` program under spawn-fcgi -n (so its pid is the
    program's), a request through cgi-fcgi; a new socket after each kill."""
    kind = "fcgi"

    def __init__(self, w):
        self.w, self.n, self.prog, self.p = w, 0, None, None

    def restart(self):
        if self.prog is not None and self.prog.poll() is None:
            return
        if self.prog is not None:
            self.prog.wait()
            if self.prog in T._live:
                T._live.remove(self.prog)
        self.n += 1
        self.sock = os.path.join(self.w.path, "sync-%d.sock" % self.n)
        log = open(os.path.join(self.w.path, "sync-fcgi.log"), "ab")
        self.prog = subprocess.Popen([webstack.SPAWN, "-n", "-s", self.sock, "--",
                                      webstack.program("sync")], env=self.w.env,
                                     stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=log)
        log.close()
        T._live.append(self.prog)
        if not T.wait_for(lambda: self.prog.poll() is None and
                          webstack.connectable(self.sock), 30):
            raise RuntimeError("the sync program did not start")

    def start(self):
        self.restart()
        env = dict(self.w.env)
        env.update({"GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "POST",
                    "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "127.0.0.1",
                    "REQUEST_URI": "/api/sync", "QUERY_STRING": "",
                    "CONTENT_LENGTH": "0"})
        self.p = subprocess.Popen([CGI_FCGI, "-bind", "-connect", self.sock],
                                  env=env, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL)
        T._live.append(self.p)
        self.victim = self.prog.pid
        return self.p.stdout

    def reap(self):
        try:
            self.p.wait(30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        if self.p in T._live:
            T._live.remove(self.p)
        self.p.stdout.close()

    def stop(self):
        if self.prog is not None and self.prog.poll() is None:
            kill9_tree(self.prog.pid)
            self.prog.wait()
        if self.p is not None and self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def events_in(raw):
    """The NDJSON events of a CLI stdout or a CGI answer (after its
    headers); a partial last line is not an event yet."""
    body = raw.partition(b"\r\n\r\n")[2] if raw.startswith(b"Status") or \
        b"\r\n\r\n" in raw[:2000] else raw
    lines = body.split(b"\n")[:-1]
    return T.parse_ndjson(b"\n".join(lines).decode(errors="replace"))


def drain(fh, until, buf):
    """Reads what fh has until the monotonic time `until` (or EOF)."""
    fd = fh.fileno()
    while True:
        left = until - time.monotonic()
        if left <= 0:
            return buf, False
        r, _, _ = select.select([fd], [], [], left)
        if r:
            chunk = os.read(fd, 65536)
            if not chunk:
                return buf, True
            buf += chunk


def run_to_end(runner):
    out = runner.start()
    buf, _eof = drain(out, time.monotonic() + 120, b"")
    runner.reap()
    return events_in(buf)


# ---- the checks ----
class Loop:
    def __init__(self, fake, w, runners):
        self.fake, self.w, self.runners = fake, w, runners
        self.found = {k: 0 for k in KINDS}
        self.moments = {"before the first commit": 0, "mid-sync": 0,
                        "after the last batch": 0, "after the end": 0}
        self.per_kind = {}
        self.syms = sorted(T.syms("C", NSYM))
        self.chunks = [self.syms[i:i + BATCH]
                       for i in range(0, NSYM, BATCH)]
        self.hist = {s: set() for s in self.syms}  # quote times expected
        self.used_times = set()
        self.duration = 1.0
        self.shown = {}

    def finding(self, kind, rnd, msg):
        self.found[kind] += 1
        self.shown[rnd] = self.shown.get(rnd, 0) + 1
        if self.shown[rnd] <= 8:
            T.diag("round %d (%s): %s: %s" % (rnd, self.kindname, kind,
                                              msg[:300]))

    def check_store(self, rnd, before, snap, after, t_new, nprog, st):
        """Everything but 'next failed'; returns the set of symbols
        updated to t_new."""
        db = self.w.db
        p = subprocess.run(["mdb_stat", "-a", db], capture_output=True,
                           text=True, timeout=60)
        if p.returncode != 0 or "Status of symbols" not in p.stdout:
            self.finding("unreadable", rnd, "mdb_stat -a: %d %s" %
                         (p.returncode, p.stderr.strip()[:200]))
        rc, doc, err = self.w.json("list", "--json")
        if after is None or rc != 0 or doc is None:
            self.finding("unreadable", rnd, "mdb_dump %s, list rc %r %s" %
                         ("failed" if after is None else "ok", rc,
                          err.strip()[:200]))
            return None
        # stuck running
        if st is None or st.get("running") is not False or \
                st.get("progress") is not None:
            self.finding("stuck running", rnd, "status %r" % (st,))
        # half batch
        updated = set()
        for ch in self.chunks:
            at = [s for s in ch if after.qt(s) == t_new]
            if at and len(at) != len(ch):
                self.finding("half batch", rnd, "batch %s..%s: %d of %d at "
                             "the new time" % (ch[0], ch[-1], len(at),
                                               len(ch)))
            updated |= set(at)
        nbatches = sum(1 for ch in self.chunks if after.qt(ch[0]) == t_new)
        prog = after.progress()
        done_ok = True
        if updated and len(updated) < NSYM:
            done_ok = prog is not None and prog.get("type") == "progress" \
                and prog.get("done") == len(updated)
        elif len(updated) == NSYM:
            # the last batch's progress, or the outcome that removes it
            done_ok = prog is None or (prog.get("type") == "progress" and
                                       prog.get("done") == NSYM)
        elif prog is not None and prog.get("type") == "progress" and \
                prog != before.progress():
            done_ok = False  # a batch's progress without its quotes
        if not done_ok:
            self.finding("half batch", rnd, "%d symbols updated, stored "
                         "progress %r" % (len(updated), prog))
        if after.requests() - before.requests() < nbatches and \
                after.settings.get("requests_day") == \
                before.settings.get("requests_day"):
            self.finding("half batch", rnd, "%d batches committed, request "
                         "count %d -> %d" % (nbatches, before.requests(),
                                             after.requests()))
        # doubled points, and points that came without their update
        seen = {}
        for sym, t, price in after.points:
            seen[(sym, t)] = seen.get((sym, t), 0) + 1
        for key, n in seen.items():
            if n > 1:
                self.finding("doubled", rnd, "%s at %d: %d points" %
                             (key[0], key[1], n))
        for s in self.syms:
            want = self.hist[s] | ({t_new} if s in updated else set())
            got = {t for sym, t, _p in after.points if sym == s}
            if got - want:
                self.finding("doubled" if got & self.used_times else
                             "half batch", rnd, "%s: points at %s, no update"
                             % (s, sorted(got - want)))
            if want - got:
                self.finding("lost", rnd, "%s: no point at %s" %
                             (s, sorted(want - got)))
        # lost: what was read before the kill is still there
        if snap is not None:
            for s in self.syms:
                if snap.qt(s) == t_new and after.qt(s) != t_new:
                    self.finding("lost", rnd, "%s was at the new time "
                                 "before the kill" % s)
            lost = set((s, t) for s, t, _p in snap.points) - \
                set((s, t) for s, t, _p in after.points)
            if lost:
                self.finding("lost", rnd, "%d points read before the kill "
                             "are gone" % len(lost))
            if (snap.settings.get("last_synced") or "") > \
                    (after.settings.get("last_synced") or ""):
                self.finding("lost", rnd, "last_synced went back")
            if snap.requests() > after.requests() and \
                    snap.settings.get("requests_day") == \
                    after.settings.get("requests_day"):
                self.finding("lost", rnd, "request count went back")
        if nprog > nbatches:
            self.finding("lost", rnd, "%d progress events seen, %d batches "
                         "in the store" % (nprog, nbatches))
        return updated

    def commit_expected(self, t, updated):
        self.used_times.add(t)
        for s in updated:
            self.hist[s].add(t)

    def round(self, rnd):
        # Another test's cleanup of /tmp is no finding of ours: stop.
        if not os.path.isfile(self.w.conf):
            T.bail("round %d: %s was removed from outside the test" %
                   (rnd, self.w.path))
        runner = self.runners[rnd % len(self.runners)]
        self.kindname = runner.kind
        self.per_kind[runner.kind] = self.per_kind.get(runner.kind, 0) + 1
        t_kill, t_next = BASE_T + 120 * rnd, BASE_T + 120 * rnd + 60
        self.fake.control({"quote_time": t_kill,
                           "delay": round(random.uniform(0.02, 0.08), 3)})
        before = read_store(self.w.db)
        runner.restart()
        out = runner.start()
        wait = random.uniform(0, self.duration)
        buf, ended = drain(out, time.monotonic() + wait, b"")
        evs = events_in(buf)
        nprog = sum(1 for e in evs if e.get("type") == "progress")
        ended = ended or T.terminal(evs).get("type") in T.TERMINAL
        snap = read_store(self.w.db)
        kill9_tree(runner.victim)
        runner.stop()
        runner.reap()
        self.used_times.add(t_kill)
        rc, st, _err = self.w.json("status")
        after = read_store(self.w.db)
        if not os.path.isfile(self.w.conf):
            T.bail("round %d: %s was removed from outside the test" %
                   (rnd, self.w.path))
        updated = self.check_store(rnd, before, snap, after, t_kill, nprog,
                                   st if rc == 0 else None)
        if updated is None:
            return
        self.commit_expected(t_kill, updated)
        if ended:
            m = "after the end"
        elif not updated:
            m = "before the first commit"
        elif len(updated) < NSYM:
            m = "mid-sync"
        else:
            m = "after the last batch"
        self.moments[m] += 1
        # the next sync, on the same channel, runs to its end
        self.fake.control({"quote_time": t_next})
        before = after
        t0 = time.monotonic()
        evs = run_to_end(runner)
        term = T.terminal(evs)
        if term.get("type") != "complete" or term.get("updated") != NSYM:
            self.finding("next failed", rnd, "last event %r" % (term,))
        else:
            self.duration = max(0.2, time.monotonic() - t0)
        rc, st, _err = self.w.json("status")
        after = read_store(self.w.db)
        updated = self.check_store(rnd, before, None, after, t_next, 0,
                                   st if rc == 0 else None)
        if updated is not None:
            self.commit_expected(t_next, updated)
            if len(updated) != NSYM:
                self.finding("next failed", rnd, "%d of %d symbols at the "
                             "new time" % (len(updated), NSYM))


def main():
    T.need_cli()
    for tool in ("mdb_stat", "mdb_dump"):
        if not any(os.access(os.path.join(d, tool), os.X_OK)
                   for d in os.environ.get("PATH", "").split(":")):
            T.skip_missing("%s (Debian: lmdb-utils)" % tool)
    runners = []
    with T.Fake() as fake, T.Workdir(fake) as w:
        w.write_conf(batch_size=BATCH, concurrency=CONC, min_interval_s=0,
                     retries=0, timeout_s=30)
        rc, _o, err = w.import_symbols(T.syms("C", NSYM))
        T.eq(rc, 0, "%d symbols imported" % NSYM)
        runners.append(CliSync(w))
        if webstack.have_programs() and os.access(CGI_FCGI, os.X_OK) and \
                os.access(webstack.SPAWN, os.X_OK):
            runners.append(FcgiSync(w))
        else:
            T.skip_missing("cgi/sync, cgi-fcgi (libfcgi-bin) and spawn-fcgi")
        loop = Loop(fake, w, runners)
        # A first whole sync: the duration the kill moments spread over.
        fake.control({"quote_time": BASE_T - 60, "delay": 0.03})
        t0 = time.monotonic()
        evs = run_to_end(runners[0])
        T.eq(T.terminal(evs).get("type"), "complete", "a first sync completes")
        loop.duration = max(0.2, time.monotonic() - t0)
        loop.commit_expected(BASE_T - 60, set(loop.syms))
        random.seed(SEED)
        T.diag("PS_CRASH_SEED=%d, %d rounds, a sync takes %.2f s" %
               (SEED, RUNS, loop.duration))
        try:
            for rnd in range(RUNS):
                loop.round(rnd)
        finally:
            for r in runners:
                r.stop() if getattr(r, "p", None) is not None else None
                if isinstance(r, FcgiSync) and r.prog is not None and \
                        r.prog.poll() is None:
                    T._kill(r.prog)
        T.diag("kills: %s; moments: %s" % (
            ", ".join("%s %d" % kv for kv in sorted(loop.per_kind.items())),
            ", ".join("%s %d" % kv for kv in loop.moments.items())))
        T.diag("findings: " + ", ".join("%d %s" % (loop.found[k], k)
                                        for k in KINDS))
        for k in KINDS:
            T.eq(loop.found[k], 0, "%d kills: 0 %s" % (RUNS, k))
        T.ok(loop.moments["mid-sync"] > 0 or RUNS < 10,
             "some kills landed mid-sync (%d)" % loop.moments["mid-sync"])
    return T.done()


if __name__ == "__main__":
    sys.exit(main())
