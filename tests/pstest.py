"""pstest: the shared helper of the Python end-to-end tests (stdlib only).

TAP output for automake's tap-driver (plan printed at the end), the paths of
the build, the fake FMP as a context manager, a temporary working directory
with its config and environment, running the `pricesync` CLI (optionally
under $PS_WRAPPER, e.g. "valgrind --error-exitcode=99 -q"), and a checker
for the event rules of SPEC §4.

Tests import it with:
    sys.path.insert(0, os.path.join(os.environ.get("top_srcdir",
                    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "tests"))
"""

import atexit
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

# ---- paths ----
srcdir = os.path.abspath(os.environ.get("top_srcdir")
                         or os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
builddir = os.path.abspath(os.environ.get("top_builddir") or os.getcwd())
testsdir = os.path.join(srcdir, "tests")
FAKE = os.path.join(testsdir, "fake_fmp.py")


def cli_path():
    return os.path.join(builddir, "cli", "pricesync")


# ---- TAP ----
_n = 0
_failed = 0


def _line(s):
    sys.stdout.write(s + "\n")
    sys.stdout.flush()


def diag(*msg):
    text = " ".join(str(m) for m in msg)
    for ln in text.splitlines() or [""]:
        _line("# " + ln)


def ok(cond, name):
    global _n, _failed
    _n += 1
    name = name.replace("#", "\\#").replace("\n", " ")
    if cond:
        _line("ok %d - %s" % (_n, name))
    else:
        _failed += 1
        _line("not ok %d - %s" % (_n, name))
    return bool(cond)


def eq(got, want, name):
    r = ok(got == want, name)
    if not r:
        diag("     got: %r" % (got,))
        diag("expected: %r" % (want,))
    return r


def skip(name, reason):
    global _n
    _n += 1
    _line("ok %d - %s # SKIP %s" % (_n, name, reason))


def skip_all(reason):
    _line("1..0 # SKIP %s" % reason)
    sys.exit(0)


def skip_missing(reason):
    """A tool or program the test needs is missing: a skip on a developer's
    machine, but under CI (CI=true) a failure, so a broken install step
    cannot pass as a green run."""
    if os.environ.get("CI") == "true":
        bail("needed under CI: %s" % reason)
    skip_all(reason)


def bail(reason):
    _line("Bail out! %s" % reason)
    sys.exit(1)


def done():
    _line("1..%d" % _n)
    if _failed:
        diag("%d of %d failed" % (_failed, _n))
    return 1 if _failed else 0


def need_cli():
    """Skips the whole file when the CLI is not built."""
    if not os.access(cli_path(), os.X_OK):
        skip_missing("no %s (build it first)" % cli_path())


# ---- small utilities ----
def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def wait_for(pred, timeout=10.0, interval=0.02):
    """Polls pred() until it returns a true value (returned) or timeout
    passes (returns the last value, false)."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= end:
            return v
        time.sleep(interval)


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(method, url, body=None, timeout=10):
    """(status, body text) of one request, without any proxy."""
    data = None
    headers = {}
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with _opener.open(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


# ---- the fake FMP ----
_live = []


def _cleanup_all():
    for p in list(_live):
        _kill(p)


def _kill(p, sig=signal.SIGTERM, timeout=5):
    """Stops p with sig, then SIGKILL after timeout s; forgets it."""
    if p.poll() is None:
        try:
            p.send_signal(sig)
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        except OSError:
            pass
    if p in _live:
        _live.remove(p)


atexit.register(_cleanup_all)


def _on_term(signum, frame):
    _cleanup_all()
    sys.exit(128 + signum)


# automake's harness kills a hung test with SIGTERM: stop our servers too.
signal.signal(signal.SIGTERM, _on_term)


class Fake:
    """The fake FMP (tests/fake_fmp.py) on 127.0.0.1, a free port.

    with Fake(key="K") as f:  f.url, f.control({...}), f.stats(), f.reset()
    """

    def __init__(self, key=None, plan=None, delay=None, timeout=15):
        self.key, self.plan, self.delay = key, plan, delay
        self.timeout = timeout
        self.proc = None
        self.dir = None
        self.url = None
        self.port = None

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="ps-fake-")
        ready = os.path.join(self.dir, "port")
        cmd = [sys.executable, FAKE, "--ready-file", ready]
        if self.key:
            cmd += ["--key", self.key]
        if self.plan:
            cmd += ["--plan", self.plan]
        if self.delay:
            cmd += ["--delay", str(self.delay)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
        _live.append(self.proc)

        def up():
            if self.proc.poll() is not None:
                return "dead"
            return os.path.exists(ready)

        r = wait_for(up, self.timeout)
        if r is not True:
            self.stop()
            raise RuntimeError("fake_fmp did not start (%s)" % (r or "timeout"))
        with open(ready) as fh:
            self.port = int(fh.read().strip())
        self.url = "http://127.0.0.1:%d" % self.port
        return self

    def stop(self):
        if self.proc is not None:
            _kill(self.proc)
            self.proc = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def control(self, state):
        st, body = http("POST", self.url + "/_control", state)
        if st != 200:
            raise RuntimeError("fake /_control: %d %s" % (st, body))
        return json.loads(body)

    def stats(self):
        st, body = http("GET", self.url + "/_stats")
        if st != 200:
            raise RuntimeError("fake /_stats: %d %s" % (st, body))
        return json.loads(body)

    def reset(self, state=False):
        http("POST", self.url + "/_reset", {"state": bool(state)})


# ---- a working directory per scenario ----
_SCRUB = ("FMP_API_KEY", "FMP_BASE_URL", "PRICESYNC_CONFIG", "PRICESYNC_DB",
          "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
          "all_proxy", "ALL_PROXY")


class Workdir:
    """A temp dir with a config file and an environment for the CLI.

    with Workdir(fake) as w:
        w.write_conf(batch_size=50)   # db and fmp_base_url filled in
        rc, out, err = w.cli("sync", "--json")
    """

    def __init__(self, fake=None, api_key=None):
        self.fake = fake
        self.path = tempfile.mkdtemp(prefix="ps-test-")
        self.conf = os.path.join(self.path, "pricesync.conf")
        self.db = os.path.join(self.path, "db")
        env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
        env["PRICESYNC_CONFIG"] = self.conf
        env["PRICESYNC_DB"] = self.db
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
        env["TZ"] = "UTC"
        if api_key is not None:
            env["FMP_API_KEY"] = api_key
        self.env = env

    def write_conf(self, **keys):
        if "fmp_base_url" not in keys and self.fake is not None:
            keys["fmp_base_url"] = self.fake.url
        keys.setdefault("db_path", self.db)
        lines = ["# written by tests/pstest.py"]
        for k, v in keys.items():
            if v is None:
                continue
            lines.append("%s = %s" % (k, v))
        with open(self.conf, "w") as fh:
            fh.write("\n".join(lines) + "\n")
        return self.conf

    def file(self, name, text):
        p = os.path.join(self.path, name)
        with open(p, "w") as fh:
            fh.write(text)
        return p

    def cli(self, *args, **kw):
        return run_cli(list(args), self.env, **kw)

    def import_symbols(self, symbols):
        """Adds symbols with `pricesync import`; returns (rc, out, err)."""
        p = self.file("symbols.csv", "".join(s + "\n" for s in symbols))
        return self.cli("import", p)

    def sync(self, *extra, **kw):
        """`pricesync sync --json`: returns (rc, events, stderr)."""
        rc, out, err = self.cli("sync", "--json", *extra, **kw)
        return rc, parse_ndjson(out), err

    def json(self, *args, **kw):
        """Runs the CLI and parses its stdout as one JSON document;
        returns (rc, document or None, stderr)."""
        rc, out, err = self.cli(*args, **kw)
        try:
            doc = json.loads(out)
        except ValueError:
            doc = None
        return rc, doc, err

    def close(self):
        if os.environ.get("PS_KEEP"):
            diag("kept", self.path)
            return
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def wrapper():
    w = os.environ.get("PS_WRAPPER", "").strip()
    return shlex.split(w) if w else []


def cli_cmd(args):
    return wrapper() + [cli_path()] + list(args)


def run_cli(args, env, input=None, timeout=120):
    """Runs builddir/cli/pricesync ARGS; returns (rc, stdout, stderr).
    A run that outlives timeout is killed and returns rc None."""
    p = subprocess.Popen(cli_cmd(args), env=env, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        out, err = p.communicate(input, timeout=timeout)
        return p.returncode, out, err
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        return None, out, err + "\n[pstest: killed after %ss]" % timeout


def popen_cli(args, env):
    """Starts the CLI in the background (stdout and stderr piped, text)."""
    return subprocess.Popen(cli_cmd(args), env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, bufsize=1)


# ---- events ----
def parse_ndjson(text):
    """One object per non-empty line; a line that is not JSON becomes
    {"type": "_unparseable", "line": ...} so check_events reports it."""
    out = []
    for ln in (text or "").splitlines():
        if not ln.strip():
            continue
        try:
            out.append(json.loads(ln))
        except ValueError:
            out.append({"type": "_unparseable", "line": ln})
    return out


ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
TERMINAL = ("complete", "error")


def _int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check_events(events):
    """Violations of SPEC §4's event rules, as a list of strings."""
    v = []
    if not events:
        return ["no events at all"]
    for i, e in enumerate(events):
        if not isinstance(e, dict) or e.get("type") not in (
                "start", "progress", "complete", "error"):
            v.append("event %d: not an event: %r" % (i, e))
    types = [e.get("type") if isinstance(e, dict) else None for e in events]
    if v:
        return v
    # A sync that could not start: its error event alone.
    if len(events) == 1 and types[0] == "error":
        e = events[0]
        if not isinstance(e.get("code"), str) or not e.get("code"):
            v.append("error event without a code")
        if not isinstance(e.get("message"), str) or not e.get("message"):
            v.append("error event without a message")
        return v
    if types[0] != "start":
        v.append("first event is %r, not start" % types[0])
    if types.count("start") != 1:
        v.append("%d start events" % types.count("start"))
    nterm = sum(1 for t in types if t in TERMINAL)
    if nterm != 1:
        v.append("%d terminal events" % nterm)
    if types[-1] not in TERMINAL:
        v.append("last event is %r, not complete/error" % types[-1])
    start = events[0] if types[0] == "start" else {}
    total = start.get("total")
    batches = start.get("batches")
    if start:
        if not _int(total) or total < 0:
            v.append("start.total %r" % (total,))
        if not _int(batches) or batches < 0:
            v.append("start.batches %r" % (batches,))
        if not ISO_RE.match(str(start.get("started_at"))):
            v.append("start.started_at %r" % (start.get("started_at"),))
    prog = [e for e in events if e.get("type") == "progress"]
    last = {"done": 0, "updated": 0, "failed": 0}
    for k, p in enumerate(prog, 1):
        where = "progress %d" % k
        if p.get("batch") != k:
            v.append("%s: batch %r, want %d" % (where, p.get("batch"), k))
        if p.get("batches") != batches:
            v.append("%s: batches %r != start %r" % (where, p.get("batches"), batches))
        if p.get("total") != total:
            v.append("%s: total %r != start %r" % (where, p.get("total"), total))
        for f in ("done", "updated", "failed"):
            if not _int(p.get(f)):
                v.append("%s: %s %r" % (where, f, p.get(f)))
        if any(not _int(p.get(f)) for f in ("done", "updated", "failed")):
            continue
        if p["done"] != p["updated"] + p["failed"]:
            v.append("%s: done %d != updated %d + failed %d"
                     % (where, p["done"], p["updated"], p["failed"]))
        for f in ("done", "updated", "failed"):
            if p[f] < last[f]:
                v.append("%s: %s went down %d -> %d" % (where, f, last[f], p[f]))
        if _int(total) and p["done"] > total:
            v.append("%s: done %d > total %d" % (where, p["done"], total))
        fs = p.get("failed_symbols")
        newly = p["failed"] - last["failed"]
        if fs is None:
            if newly:
                v.append("%s: %d failed but no failed_symbols" % (where, newly))
        elif not isinstance(fs, list) or len(fs) != newly:
            v.append("%s: failed_symbols %r for %d newly failed" % (where, fs, newly))
        elif not fs:
            v.append("%s: empty failed_symbols (should be absent)" % where)
        if "error" in p and p["error"] is not None and not isinstance(p["error"], str):
            v.append("%s: error %r" % (where, p["error"]))
        last = {f: p[f] for f in ("done", "updated", "failed")}
    term = events[-1]
    if term.get("type") == "complete":
        if _int(batches) and len(prog) != batches:
            v.append("complete after %d progress events, want %d" % (len(prog), batches))
        if term.get("total") != total:
            v.append("complete.total %r != start.total %r" % (term.get("total"), total))
        for f in ("updated", "failed"):
            if term.get(f) != last[f]:
                v.append("complete.%s %r != last progress %d" % (f, term.get(f), last[f]))
        if _int(term.get("updated")) and _int(term.get("failed")) and _int(total):
            if term["updated"] + term["failed"] != total:
                v.append("complete: updated %d + failed %d != total %d"
                         % (term["updated"], term["failed"], total))
        fs = term.get("failed_symbols")
        if not isinstance(fs, list):
            v.append("complete.failed_symbols %r" % (fs,))
        elif _int(term.get("failed")) and len(fs) != term["failed"]:
            v.append("complete.failed_symbols has %d, failed %r" % (len(fs), term.get("failed")))
        if term.get("mode") not in ("batch", "single"):
            v.append("complete.mode %r" % (term.get("mode"),))
        ls = term.get("last_synced")
        if ls is not None and not ISO_RE.match(str(ls)):
            v.append("complete.last_synced %r" % (ls,))
        if term.get("updated", 0) > 0 or total == 0:
            if ls is None:
                v.append("complete.last_synced null though updated %r" % term.get("updated"))
        if not _int(term.get("duration_ms")) or term["duration_ms"] < 0:
            v.append("complete.duration_ms %r" % (term.get("duration_ms"),))
        if "fx_rate" not in term or "fx_error" not in term:
            v.append("complete without fx_rate/fx_error")
    elif term.get("type") == "error":
        if not isinstance(term.get("code"), str) or not term.get("code"):
            v.append("error event without a code")
        if not isinstance(term.get("message"), str) or not term.get("message"):
            v.append("error event without a message")
        for f in ("updated", "failed"):
            if f in term and _int(term[f]) and term[f] < last[f]:
                v.append("error.%s %d < last progress %d" % (f, term[f], last[f]))
    return v


def events_ok(events, name):
    """ok() on check_events, printing the violations and the events."""
    bad = check_events(events)
    r = ok(not bad, name)
    if not r:
        for b in bad[:20]:
            diag("  " + b)
        for e in events[:6]:
            diag("  event: " + json.dumps(e)[:300])
    return r


def terminal(events):
    return events[-1] if events else {}


# ---- expectations from the fake's deterministic data ----
def fake_price(symbol, fx_rate=0.7891):
    """The price the fake answers for symbol with its default state."""
    sys.path.insert(0, testsdir)
    import fake_fmp  # noqa: E402

    class _A:
        delay, key, plan = 0.0, None, "premium"

    st = fake_fmp.default_state(_A)
    st["fx_rate"] = fx_rate
    return fake_fmp.Fake(_A).base_price(symbol, st)


def approx(a, b, rel=1e-9):
    if a is None or b is None:
        return a is b
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def by_symbol(prices_doc):
    """{symbol: row} of a `list --json` / prices document."""
    if not isinstance(prices_doc, dict):
        return {}
    return {r.get("symbol"): r for r in prices_doc.get("symbols") or []}


def syms(prefix, n, width=3):
    return ["%s%0*d" % (prefix, width, i) for i in range(n)]


def scenario(fn):
    """Runs one scenario function; an exception is one failed test with its
    traceback, and the next scenario still runs."""
    import traceback
    diag("--- %s" % (fn.__doc__ or fn.__name__).strip().splitlines()[0])
    try:
        fn()
    except Exception:  # noqa: BLE001 - report and go on
        ok(False, "%s raised" % fn.__name__)
        diag(traceback.format_exc())
