#!/usr/bin/env python3
"""t-peers: hostile and unlucky peers on a program's FastCGI socket, with
no web server between (issue 9, defect 1). Each program (one process under
spawn-fcgi) must:

- answer other requests within 1 s while one peer is connected and silent,
  and while one sent a single byte;
- drop a peer that has not sent its whole request head within the read
  timeout (5 s), even one that keeps sending a byte at a time;
- exit within 2 s of SIGTERM whatever peers do: one silent and connected,
  one that sent one byte and went silent, one that connected and closed
  at once;
- (sync-status) give up on a peer that asks for a big document and reads
  none of it once the write budget (5 s) is spent (defect 11's bound)."""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), "tests"))
import pstest  # noqa: E402
import fcgiclient  # noqa: E402
import webstack  # noqa: E402
from pstest import eq, ok  # noqa: E402

# The programs' read timeout (cgi/conn.h) and what we allow on top.
READ_TIMEOUT = 5.0
SLACK = 3.0

# A request each program answers at once, without upstream traffic.
QUICK = {"sync-status": ("GET", "/api/sync/status", 200),
         "sync": ("GET", "/api/sync", 405)}


def peer(sock, send=b""):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    if send:
        s.sendall(send)
    return s


def timed_call(prog, timeout=10):
    method, uri, _want = QUICK[prog.name]
    t0 = time.monotonic()
    try:
        st = prog.call(method, uri, timeout=timeout)[0]
    except OSError as e:
        st = "%s" % e or type(e).__name__
    return st, time.monotonic() - t0


def closed_by_program(s, within):
    """(True when the program closed s within `within` s, how long)."""
    s.settimeout(within)
    t0 = time.monotonic()
    try:
        got = s.recv(4096)
        while got:
            got = s.recv(4096)
        return True, time.monotonic() - t0
    except ConnectionResetError:
        # closed with our byte unread: a reset, not a FIN
        return True, time.monotonic() - t0
    except OSError:
        return False, time.monotonic() - t0


def answers_despite_peers(prog):
    want = QUICK[prog.name][2]
    silent = peer(prog.sock)
    st, dt = timed_call(prog)
    ok(st == want and dt < 1.0, "%s: answers within 1 s while a peer is "
       "connected and silent (%s in %.3f s)" % (prog.name, st, dt))
    one = peer(prog.sock, b"\x01")
    st, dt = timed_call(prog)
    ok(st == want and dt < 1.0, "%s: ... and while another sent one byte "
       "(%s in %.3f s)" % (prog.name, st, dt))
    # A head sent a byte at a time, each well within any per-read
    # timeout: the deadline is for the whole head.
    head = fcgiclient.fcgi_head(fcgiclient.cgi_params(*QUICK[prog.name][:2]))
    drip = peer(prog.sock, head[:1])
    t0 = time.monotonic()
    sent = 1
    while sent < len(head) and time.monotonic() - t0 < READ_TIMEOUT + SLACK:
        try:
            drip.sendall(head[sent:sent + 1])
        except OSError:
            break
        sent += 1
        drip.settimeout(0.25)
        try:
            if drip.recv(1) == b"":
                break
        except socket.timeout:
            pass
        except OSError:
            break
    dt = time.monotonic() - t0
    ok(sent < len(head) and dt < READ_TIMEOUT + SLACK,
       "%s: a peer dripping its head a byte every 0.25 s is dropped by the "
       "deadline (%d of %d bytes, %.1f s)" % (prog.name, sent, len(head), dt))
    drip.close()
    gone, dt = closed_by_program(one, READ_TIMEOUT + SLACK)
    ok(gone, "%s: the peer that sent one byte is dropped (after %.1f s "
       "in all)" % (prog.name, dt))
    gone, dt = closed_by_program(silent, 1.0)
    ok(gone, "%s: so is the silent one" % prog.name)
    one.close()
    silent.close()
    st, dt = timed_call(prog)
    ok(st == want and dt < 1.0, "%s: still answers afterwards (%s in %.3f s)"
       % (prog.name, st, dt))
    ok("dropped a connection" in prog.log_text(),
       "%s: the dropped peers are logged" % prog.name)


def term_despite_peers(w, name, how):
    prog = fcgiclient.Program(w.env, w.path, name)
    try:
        if how == "closed":
            peer(prog.sock).close()
            # the program has seen it, or it would not answer this
            timed_call(prog)
            peer(prog.sock).close()
            held = None
        else:
            held = peer(prog.sock, b"\x01")
            st, _dt = timed_call(prog)
        rc, dt = prog.term(10)
        ok(rc == 0 and dt < 2.0, "%s: exits 0 within 2 s of SIGTERM with a "
           "peer that %s (rc %r, %.2f s)"
           % (name, "connected and closed at once" if how == "closed"
              else "sent one byte and went silent", rc, dt))
        if held:
            held.close()
    finally:
        prog.stop()


def slow_reader_status(w):
    """A peer that asks for a big document and never reads it holds a
    sync-status worker for the write budget (5 s), not for ever."""
    a = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    rc, _o, err = w.import_symbols(["P" + a[i // 676 % 26] + a[i // 26 % 26]
                                    + a[i % 26] for i in range(2000)])
    eq(rc, 0, "slow reader: 2000 symbols imported")
    prog = fcgiclient.Program(w.env, w.path, "sync-status")
    try:
        s = peer(prog.sock, fcgiclient.fcgi_head(fcgiclient.cgi_params("GET", "/api/prices"))
                 + fcgiclient.fcgi_record(fcgiclient.FCGI_STDIN, 1))
        t0 = time.monotonic()
        gave_up = pstest.wait_for(
            lambda: "kept the answer waiting" in prog.log_text(),
            READ_TIMEOUT + 2 * SLACK)
        dt = time.monotonic() - t0
        ok(gave_up and dt < 5.0 + SLACK,
           "slow reader: sync-status gives up on a peer that reads none of "
           "/api/prices after the write budget (%.1f s)" % dt)
        st, dt = timed_call(prog)
        ok(st == 200 and dt < 1.0, "slow reader: and answers others "
           "(%s in %.3f s)" % (st, dt))
        s.close()
        rc, dt = prog.term(10)
        ok(rc == 0 and dt < 2.0, "slow reader: then exits 0 within 2 s of "
           "SIGTERM (%.2f s)" % dt)
    finally:
        prog.stop()


def main():
    if not webstack.have_programs():
        pstest.skip_missing("cgi/sync and cgi/sync-status are not built")
    if not os.access(webstack.SPAWN, os.X_OK):
        pstest.skip_missing("spawn-fcgi is not installed")
    with pstest.Fake() as fake, pstest.Workdir(fake) as w:
        w.write_conf(min_interval_s=0)
        for name in ("sync-status", "sync"):
            prog = fcgiclient.Program(w.env, w.path, name)
            try:
                answers_despite_peers(prog)
            finally:
                prog.stop()
            term_despite_peers(w, name, "closed")
            term_despite_peers(w, name, "silent")
        slow_reader_status(w)
    return pstest.done()


if __name__ == "__main__":
    sys.exit(main())
