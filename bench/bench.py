#!/usr/bin/env python3
"""bench/bench.py: every figure of issue 10 in one run, beside its target.

    python3 bench/bench.py --builddir BUILD [--sizes "1000 10000 100000"]

For each size N (default 1,000 and 10,000; 100,000 is opt-in for time):
imports N symbols, syncs them against the fake FMP slowed to 0.1 s per
answer (batch_size 50, concurrency 4) and measures wall / floor, CPU and
peak RSS of the sync; then runs sync-status as plain CGI for
`GET /api/prices` on that store and measures its peak RSS. Both run under
bench/peakrss (fork, exec, wait4), never forked from Python.

Then throughput through a real nginx on 127.0.0.1 (wrk -t2 -c32 -d5s):
sync-status under spawn-fcgi (its 8 threads) against bench/floor, a
trivial libfcgi responder with as many threads writing the same captured
bytes from memory, behind the same nginx in the same run:
`GET /api/sync/status` and `GET /api/prices` (500 symbols) against their
floors, and 304s (If-None-Match with the ETag got before) for the status,
the prices at 500 and the prices at the largest size against the status
floor. nginx also serves the status body as a static file, for scale.

A benchmark, not a test: exits 0 whatever the numbers, 1 only when
something did not run. BENCH_JSON=FILE also writes the numbers as JSON.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
import pstest as T  # noqa: E402
import sync as S  # noqa: E402

MIB = 1024.0
TOOLS = {"wrk": "wrk", "nginx": "nginx", "spawn-fcgi": "spawn-fcgi"}
WORKER_USER = "www-data"


# ---- the figures and their targets ----
class Report:
    """Rows of (figure, value, target, mark) and the numbers for JSON."""

    def __init__(self):
        self.rows, self.data, self.errors = [], {}, []
        self.met = self.missed = 0

    def section(self, title):
        self.rows.append((title, None, None, None))

    def row(self, name, value, target="", ok=None):
        mark = "" if ok is None else ("ok" if ok else "MISS")
        if ok is True:
            self.met += 1
        elif ok is False:
            self.missed += 1
        self.rows.append(("  " + name, value, target, mark))

    def print(self):
        print()
        print("%-46s %-22s %-16s %s" % ("figure", "value", "target", ""))
        print("-" * 90)
        for name, value, target, mark in self.rows:
            if value is None:
                print(name)
            else:
                print("%-46s %-22s %-16s %s" % (name, value, target, mark))
        print("-" * 90)
        print("targets met: %d of %d" % (self.met, self.met + self.missed))
        for e in self.errors:
            print("did not run: %s" % e)


def mib(kib):
    return "%.1f MiB" % (kib / MIB)


def rate(x):
    return "%.0f" % x if x >= 100 else "%.2f" % x


def sync_section(rep, runs, sizes):
    rep.section("sync (fake FMP 0.1 s per answer, batch 50, concurrency 4)")
    base = runs.get(1000) or runs.get(min(runs)) if runs else None
    for n in sizes:
        r = runs.get(n)
        if r is None:
            rep.row("%s symbols" % "{:,}".format(n), "did not run")
            continue
        big = n >= 10000
        rep.row("%s: wall / floor" % "{:,}".format(n),
                "%.3f (%.2f / %.2f s)" % (r["ratio"], r["wall_s"],
                                          r["floor_s"]),
                "<= 1.10" if big else "", r["ratio"] <= 1.10 if big else None)
        at100k = n == 100000
        rep.row("%s: CPU user+sys" % "{:,}".format(n),
                "%.2f s" % r["cpu_s"], "<= 2 s" if at100k else "",
                r["cpu_s"] <= 2.0 if at100k else None)
        rep.row("%s: peak RSS" % "{:,}".format(n), mib(r["maxrss_kib"]),
                "<= 16 MiB" if at100k else "",
                r["maxrss_kib"] <= 16 * MIB if at100k else None)
        if base and n != base["symbols"]:
            k = r["maxrss_kib"] / base["maxrss_kib"]
            rep.row("%s: peak RSS / at %s" % ("{:,}".format(n),
                                              "{:,}".format(base["symbols"])),
                    "%.2f" % k, "<= 1.2" if at100k else "",
                    k <= 1.2 if at100k else None)
    if 100000 not in sizes:
        rep.row("100,000 (the targets' size)",
                "not run", "opt-in: BENCH_SIZES=\"1000 10000 100000\"")


def status_rss_section(rep, rss, sizes):
    rep.section("sync-status (plain CGI) peak RSS after GET /api/prices")
    for n in sizes:
        r = rss.get(n)
        at100k = n == 100000
        if r is None:
            rep.row("%s symbols" % "{:,}".format(n), "did not run")
            continue
        rep.row("%s symbols (%d bytes)" % ("{:,}".format(n), r["bytes"]),
                mib(r["maxrss_kib"]), "<= 16 MiB" if at100k else "",
                r["maxrss_kib"] <= 16 * MIB if at100k else None)
        rep.row("%s: the 304 instead: RSS, time" % "{:,}".format(n),
                "%s, %.3f s" % (mib(r["maxrss_304_kib"]), r["wall_304_s"]))


def throughput_section(rep, tp, big):
    if not tp:
        return
    rep.section("throughput through nginx (wrk -t%d -c%d -d%gs, best of %d; "
                "%d threads each)" % (tp["wrk_threads"], tp["connections"],
                                      tp["duration"], len(tp["rounds"]
                                                          ["status"]),
                                      tp["threads"]))
    fl_s, fl_p = tp["floor_status"], tp["floor_prices"]
    rep.row("floor: status bytes", "%.0f req/s" % fl_s)
    rep.row("floor: prices (500) bytes", "%.0f req/s" % fl_p)
    if "static" in tp:
        rep.row("nginx static file: status bytes", "%.0f req/s"
                % tp["static"])
    rows = [("GET /api/sync/status / floor", "status", fl_s, 0.9),
            ("GET /api/prices (500) / floor", "prices", fl_p, 0.5),
            ("304 /api/sync/status / status floor", "status_304", fl_s, 0.9),
            ("304 /api/prices (500) / status floor", "prices_304", fl_s, 0.9),
            ("304 /api/prices (%s) / status floor" % "{:,}".format(big),
             "big_304", fl_s, 0.9)]
    for name, key, fl, want in rows:
        if key not in tp:
            continue
        k = tp[key] / fl if fl else float("nan")
        rep.row(name, "%.3f (%s req/s)" % (k, rate(tp[key])),
                ">= %.1f" % want, k >= want)
        if key in tp["alone_s"]:
            rep.row("  one alone, through nginx", "%.3f s"
                    % tp["alone_s"][key])


# ---- sync-status as plain CGI ----
def cgi_env(env, uri, **extra):
    e = dict(env)
    e.update({"GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "GET",
              "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "127.0.0.1",
              "REQUEST_URI": uri, "QUERY_STRING": uri.partition("?")[2]})
    e.update(extra)
    return e


def split_cgi(raw):
    """(status, {lower-case header: value}, body) of a CGI answer."""
    head, _, body = raw.partition(b"\r\n\r\n")
    hdrs = {}
    for ln in head.decode(errors="replace").split("\r\n"):
        k, _, v = ln.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    st = int((hdrs.get("status") or "200").split()[0])
    return st, hdrs, body


def cgi_run(env, uri, out_path, want=200, **extra):
    """sync-status as plain CGI for GET uri under peakrss, its answer in
    out_path. Returns (peakrss report, status, headers, body)."""
    prog = os.path.join(T.builddir, "cgi", "sync-status")
    r, _, err = S.peakrss([prog], cgi_env(env, uri, **extra),
                          stdin="/dev/null", stdout=out_path, timeout=600)
    with open(out_path, "rb") as fh:
        st, hdrs, body = split_cgi(fh.read())
    if r["exit"] != 0 or st != want:
        raise S.BenchError("sync-status GET %s: exit %s, status %s: %s"
                           % (uri, r["exit"], st,
                              err.decode(errors="replace")[-300:]))
    return r, st, hdrs, body


def status_rss(w, n, keep_dir):
    """sync-status's peak RSS and time for GET /api/prices at n symbols,
    and for the 304 of a request with its ETag."""
    out = os.path.join(keep_dir, "prices-%d.cgi" % n)
    r, _, hdrs, body = cgi_run(w.env, "/api/prices", out)
    got = len(json.loads(body).get("symbols") or [])
    if got != n:
        raise S.BenchError("GET /api/prices at %d symbols listed %d"
                           % (n, got))
    etag = hdrs.get("etag")
    r304, _, _, _ = cgi_run(w.env, "/api/prices", out + ".304", want=304,
                            HTTP_IF_NONE_MATCH=etag or "")
    return {"maxrss_kib": r["maxrss_kib"], "wall_s": r["wall_s"],
            "cpu_s": r["cpu_s"], "bytes": len(body), "etag": etag,
            "answer": out, "maxrss_304_kib": r304["maxrss_kib"],
            "wall_304_s": r304["wall_s"], "cpu_304_s": r304["cpu_s"]}


# ---- throughput: nginx, spawn-fcgi, wrk ----
def sync_status_threads():
    """The accepting threads of sync-status, read from its source so the
    floor keeps up with a change there (8 when not found)."""
    try:
        with open(os.path.join(T.srcdir, "cgi", "sync-status.c")) as fh:
            m = re.search(r"^#define THREADS (\d+)", fh.read(), re.M)
        return int(m.group(1)) if m else 8
    except OSError:
        return 8


def spawn(d, name, cmd, env):
    """cmd under spawn-fcgi on the socket d/name.sock, up and accepting."""
    sock = os.path.join(d, name + ".sock")
    log = open(os.path.join(d, name + ".log"), "ab")
    p = subprocess.Popen([shutil.which("spawn-fcgi"), "-n", "-s", sock,
                          "-M", "0666", "--"] + cmd, env=env,
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    log.close()
    T._live.append(p)

    def up():
        return "dead" if p.poll() is not None else connectable(sock)

    if T.wait_for(up, 30) is not True:
        raise S.BenchError("%s did not start under spawn-fcgi (see %s.log)"
                           % (name, name))
    return p, sock


def connectable(addr):
    import socket
    fam = socket.AF_UNIX if isinstance(addr, str) else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(1)
    try:
        s.connect(addr)
        return True
    except OSError:
        return False
    finally:
        s.close()


NGINX_CONF = """%(user)sworker_processes 1;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
events { worker_connections 1024; }
http {
include %(d)s/mime.types;
default_type application/octet-stream;
access_log %(d)s/access.log;
client_body_temp_path %(d)s/tmp/body;
fastcgi_temp_path %(d)s/tmp/fastcgi;
proxy_temp_path %(d)s/tmp/proxy;
uwsgi_temp_path %(d)s/tmp/uwsgi;
scgi_temp_path %(d)s/tmp/scgi;
gzip on;
gzip_types application/json application/x-ndjson;
server {
	listen 127.0.0.1:%(port)d;
	server_name localhost;
	location /api/ {
		include %(d)s/fastcgi_params;
		fastcgi_pass unix:%(small)s;
		fastcgi_read_timeout 60s;
	}
	location /big/api/ {
		include %(d)s/fastcgi_params;
		fastcgi_pass unix:%(big)s;
		fastcgi_read_timeout 600s;
	}
	location = /floor/status {
		include %(d)s/fastcgi_params;
		fastcgi_pass unix:%(fstatus)s;
	}
	location = /floor/prices {
		include %(d)s/fastcgi_params;
		fastcgi_pass unix:%(fprices)s;
	}
	location = /static/status.json {
		default_type application/json;
		alias %(d)s/status.json;
	}
}
}
"""


def start_nginx(d, socks):
    """nginx on a free 127.0.0.1 port; its workers drop to www-data when
    we are root, as Debian runs them, so d is made readable by others."""
    os.makedirs(os.path.join(d, "tmp"), exist_ok=True)
    for f in ("fastcgi_params", "mime.types"):
        shutil.copy(os.path.join("/etc/nginx", f), os.path.join(d, f))
    port = T.free_port()
    conf = os.path.join(d, "nginx.conf")
    user = "user %s;\n" % WORKER_USER if os.geteuid() == 0 else ""
    with open(conf, "w") as fh:
        fh.write(NGINX_CONF % dict(socks, d=d, port=port, user=user))
    log = open(os.path.join(d, "nginx.log"), "ab")
    p = subprocess.Popen([shutil.which("nginx"), "-p", d + "/", "-c", conf,
                          "-e", d + "/error.log", "-g", "daemon off;"],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    log.close()
    T._live.append(p)

    def up():
        return "dead" if p.poll() is not None else \
            connectable(("127.0.0.1", port))

    if T.wait_for(up, 30) is not True:
        raise S.BenchError("nginx did not start: %s" % tail(d, "error.log"))
    return p, "http://127.0.0.1:%d" % port


def tail(d, name, n=1500):
    try:
        with open(os.path.join(d, name), errors="replace") as fh:
            return fh.read()[-n:]
    except OSError:
        return ""


def get(url, headers=None):
    import http.client
    from urllib.parse import urlsplit
    u = urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
    try:
        c.request("GET", u.path, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def wrk(a, url, headers=()):
    """req/s of wrk against url; raises when wrk saw errors or answers
    other than the one expected."""
    cmd = ["wrk", "-t%d" % a.wrk_threads, "-c%d" % a.connections,
           "-d%gs" % a.duration, "--timeout", "60s"]
    for h in headers:
        cmd += ["-H", h]
    p = subprocess.run(cmd + [url], capture_output=True, text=True,
                       timeout=a.duration + 300)
    m = re.search(r"Requests/sec:\s+([\d.]+)", p.stdout)
    if p.returncode != 0 or not m:
        raise S.BenchError("wrk %s: %s %s" % (url, p.stdout[-300:],
                                              p.stderr[-300:]))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", p.stdout)
    errs = re.search(r"Socket errors: (.*)", p.stdout)
    if bad or errs:
        raise S.BenchError("wrk %s: %s" % (url, (bad or errs).group(0)))
    return float(m.group(1))


def capture(env, uri, d, name):
    """The CGI answer of sync-status for uri, saved as d/name for the
    floor; returns (path, headers, body)."""
    path = os.path.join(d, name)
    _, _, hdrs, body = cgi_run(env, uri, path)
    return path, hdrs, body


def expect_304(url, etag):
    """Seconds one 304 of url took; raises when it was not a 304."""
    t0 = time.monotonic()
    st, _, body = get(url, {"If-None-Match": etag})
    if st != 304 or body:
        raise S.BenchError("GET %s with If-None-Match %s answered %d, not "
                           "a bodiless 304" % (url, etag, st))
    return time.monotonic() - t0


def throughput(a, small, big, big_rss, d):
    """The req/s figures (dict) of the stack in d: small is the workdir of
    the 500-symbol store, big the largest one's (big_rss: its /api/prices
    figures and ETag)."""
    threads = sync_status_threads()
    st_path, st_h, st_body = capture(small.env, "/api/sync/status", d,
                                     "status.cgi")
    pr_path, pr_h, _ = capture(small.env, "/api/prices", d, "prices.cgi")
    with open(os.path.join(d, "status.json"), "wb") as fh:
        fh.write(st_body)
    os.chmod(os.path.join(d, "status.json"), 0o644)
    prog = os.path.join(T.builddir, "cgi", "sync-status")
    floor = [os.path.join(T.builddir, "bench", "floor"), "-t", str(threads)]
    if a.floor_mutex:
        floor.append("-m")
    procs, socks = [], {}
    try:
        for name, cmd, env in (
                ("small", [prog], small.env), ("big", [prog], big.env),
                ("fstatus", floor + [st_path], small.env),
                ("fprices", floor + [pr_path], small.env)):
            p, socks[name] = spawn(d, name, cmd, env)
            procs.append(p)
        p, base = start_nginx(d, socks)
        procs.append(p)
        return run_wrk(a, base, st_h, pr_h, big_rss, threads)
    finally:
        for p in reversed(procs):
            T._kill(p, timeout=30)


def run_wrk(a, base, st_h, pr_h, big, threads):
    for path in ("/api/sync/status", "/api/prices", "/floor/status",
                 "/floor/prices", "/static/status.json"):
        st, _, _ = get(base + path)
        if st != 200:
            raise S.BenchError("GET %s through nginx answered %d"
                               % (path, st))
    st_tag, pr_tag = st_h.get("etag"), pr_h.get("etag")
    tp = {"threads": threads, "wrk_threads": a.wrk_threads,
          "connections": a.connections, "duration": a.duration,
          "alone_s": {"status_304": expect_304(base + "/api/sync/status",
                                               st_tag),
                      "prices_304": expect_304(base + "/api/prices", pr_tag),
                      "big_304": expect_304(base + "/big/api/prices",
                                            big["etag"])}}
    plan = [("floor_status", "/floor/status", None),
            ("status", "/api/sync/status", None),
            ("floor_prices", "/floor/prices", None),
            ("prices", "/api/prices", None),
            ("static", "/static/status.json", None),
            ("status_304", "/api/sync/status", st_tag),
            ("prices_304", "/api/prices", pr_tag),
            # last: a slow 304 leaves work queued behind wrk's end
            ("big_304", "/big/api/prices", big["etag"])]
    rounds = {}
    for i in range(a.rounds):
        for key, path, tag in plan:
            hdr = ["If-None-Match: %s" % tag] if tag else []
            got = wrk(a, base + path, hdr)
            rounds.setdefault(key, []).append(got)
            print("bench: round %d %-13s %-20s %9.0f req/s"
                  % (i + 1, key, path, got), flush=True)
        # What wrk left queued in the backend is served before this.
        expect_304(base + "/big/api/prices", big["etag"])
    for key in rounds:
        tp[key] = max(rounds[key])
    tp["rounds"] = rounds
    return tp


# ---- the run ----
def missing_tools():
    return [t for t in TOOLS if shutil.which(t) is None]


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--builddir", default=os.getcwd())
    ap.add_argument("--sizes", default="1000 10000",
                    help='symbol counts, e.g. "1000 10000 100000"')
    ap.add_argument("--delay", type=float, default=0.1)
    ap.add_argument("--batch-size", type=int, default=50)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--prices-symbols", type=int, default=500)
    ap.add_argument("--duration", type=float, default=5)
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3,
                    help="wrk runs of each figure, interleaved; the best "
                    "counts")
    ap.add_argument("--no-throughput", action="store_true")
    ap.add_argument("--no-history", action="store_true",
                    help="skip bench/history.py")
    ap.add_argument("--floor-mutex", action="store_true",
                    help="the floor's threads accept under a mutex (-m)")
    a = ap.parse_args()
    a.sizes = sorted({int(s.replace(",", "").replace("_", ""))
                      for s in a.sizes.split()})
    return a


def run_sizes(a, f, rep, dirs):
    """The sync and the sync-status RSS at each size; returns the
    workdir of the largest size that ran, with its /api/prices figures."""
    runs, rss, last = {}, {}, None
    for n in a.sizes:
        w = T.Workdir(f, api_key=S.KEY)
        dirs.append(w)
        print("bench: sync of %d symbols..." % n, flush=True)
        try:
            runs[n] = S.run_sync(f, w, n, a.delay, a.batch_size,
                                 a.concurrency)
            rss[n] = status_rss(w, n, w.path)
            last = (n, w, rss[n])
        except S.BenchError as e:
            rep.errors.append(str(e))
    rep.data["sync"] = {str(k): v for k, v in runs.items()}
    rep.data["sync_status_rss"] = {str(k): v for k, v in rss.items()}
    sync_section(rep, runs, a.sizes)
    status_rss_section(rep, rss, a.sizes)
    return last


def run_throughput(a, f, rep, dirs, last):
    gone = missing_tools()
    if gone:
        rep.errors.append("throughput: %s not installed (Debian: apt-get "
                          "install %s)" % (", ".join(gone),
                                           " ".join(TOOLS[t] for t in gone)))
        return
    if last is None:
        rep.errors.append("throughput: no store to serve")
        return
    small = T.Workdir(f, api_key=S.KEY)
    dirs.append(small)
    d = tempfile.mkdtemp(prefix="ps-bench-")
    print("bench: throughput (%d symbols; 304 also at %d)..."
          % (a.prices_symbols, last[0]), flush=True)
    try:
        S.run_sync(f, small, a.prices_symbols, 0, a.batch_size,
                   a.concurrency, prefix="P")
        # nginx's workers (www-data) reach the sockets and the static file.
        os.chmod(d, 0o755)
        tp = throughput(a, small, last[1], last[2], d)
        rep.data["throughput"] = tp
        throughput_section(rep, tp, last[0])
    except (S.BenchError, subprocess.TimeoutExpired) as e:
        rep.errors.append("throughput: %s; nginx: %s" % (e, tail(d,
                          "error.log", 500)))
    finally:
        shutil.rmtree(d, ignore_errors=True)


def run_history(a, rep):
    """bench/history.py (the backfill and the portfolio over a year) as it
    runs alone, its output shown and its JSON kept under "history"."""
    fd, js = tempfile.mkstemp(prefix="ps-bench-history-", suffix=".json")
    os.close(fd)
    print("bench: bench/history.py...", flush=True)
    try:
        env = dict(os.environ, BENCH_JSON=js)
        p = subprocess.run([sys.executable, os.path.join(HERE, "history.py"),
                            "--builddir", T.builddir], env=env,
                           timeout=3600)
        if p.returncode != 0:
            rep.errors.append("bench/history.py exited %d" % p.returncode)
            return
        with open(js) as fh:
            h = json.load(fh)
        rep.data["history"] = h
        rep.section("history (bench/history.py, above)")
        rep.row("backfill of 500: wall / floor", "%.3f" % h["ratio"],
                "<= 1.15", h["ratio"] <= 1.15)
        rep.row("…/portfolio/history median (CGI)",
                "%.1f ms" % (h["portfolio_median_s"] * 1000), "< 100 ms",
                h["portfolio_median_s"] < 0.1)
    except (OSError, ValueError, subprocess.TimeoutExpired) as e:
        rep.errors.append("bench/history.py: %s" % e)
    finally:
        os.unlink(js)


def main():
    a = parse_args()
    T.builddir = os.path.abspath(a.builddir)
    for p in (T.cli_path(), S.peakrss_path(),
              os.path.join(T.builddir, "bench", "floor")):
        if not os.access(p, os.X_OK):
            print("bench: no %s (run `make bench` from the build "
                  "directory)" % p, file=sys.stderr)
            return 1
    gone = missing_tools()
    if gone and not a.no_throughput:
        print("bench: the throughput figures need %s: apt-get install %s"
              % (", ".join(gone), " ".join(TOOLS[t] for t in gone)),
              file=sys.stderr, flush=True)
    rep, dirs = Report(), []
    rep.data["commit"] = commit()
    rep.data["load_before"] = os.getloadavg()
    t0 = time.monotonic()
    try:
        with T.Fake(key=S.KEY) as f:
            last = run_sizes(a, f, rep, dirs)
            if not a.no_throughput:
                run_throughput(a, f, rep, dirs, last)
    finally:
        for w in dirs:
            w.close()
    if not a.no_history:
        run_history(a, rep)
    rep.data["load_after"] = os.getloadavg()
    print("\nbench: at commit %s, %d cores, %.0f s in all; load average "
          "%.1f before, %.1f after (other work on the machine skews the "
          "figures)" % (rep.data["commit"], os.cpu_count(),
                        time.monotonic() - t0, rep.data["load_before"][0],
                        rep.data["load_after"][0]))
    rep.print()
    rep.data["errors"] = rep.errors
    if os.environ.get("BENCH_JSON"):
        with open(os.environ["BENCH_JSON"], "w") as fh:
            json.dump(rep.data, fh, indent=1, default=str)
    return 1 if rep.errors else 0


def commit():
    try:
        return subprocess.run(["git", "-C", T.srcdir, "describe", "--always",
                               "--dirty"], capture_output=True, text=True,
                              timeout=30).stdout.strip() or "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
