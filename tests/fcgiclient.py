"""fcgiclient: FastCGI without a web server, for the end-to-end tests
(python3 stdlib only): records and heads built by hand (fcgi_record,
fcgi_head, cgi_params), one request over a unix socket (fcgi_call), and
Program, one of the programs under spawn-fcgi to call directly."""

import os
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pstest  # noqa: E402
from webstack import SPAWN, connectable, program  # noqa: E402


FCGI_BEGIN, FCGI_END, FCGI_PARAMS, FCGI_STDIN = 1, 3, 4, 5
FCGI_STDOUT, FCGI_STDERR = 6, 7


def fcgi_record(rtype, rid, content=b""):
    """One FastCGI 1.0 record, padded to 8 bytes."""
    pad = (-len(content)) % 8
    return (struct.pack("!BBHHBx", 1, rtype, rid, len(content), pad)
            + content + b"\0" * pad)


def fcgi_head(params, rid=1):
    """BEGIN_REQUEST (responder, no keep-alive) and the PARAMS stream of
    params (a dict of str or bytes), ended by its empty record."""
    enc = b""
    for k, v in params.items():
        k = k.encode() if isinstance(k, str) else k
        v = v.encode() if isinstance(v, str) else v
        for n in (len(k), len(v)):
            enc += bytes([n]) if n < 128 else struct.pack("!I", n | 1 << 31)
        enc += k + v
    out = fcgi_record(FCGI_BEGIN, rid, struct.pack("!HB5x", 1, 0))
    for i in range(0, len(enc), 65535):
        out += fcgi_record(FCGI_PARAMS, rid, enc[i:i + 65535])
    return out + fcgi_record(FCGI_PARAMS, rid)


def cgi_params(method, uri, **extra):
    """The parameters a web server sends for METHOD URI."""
    p = {"GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": method,
         "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "127.0.0.1",
         "REQUEST_URI": uri, "QUERY_STRING": uri.partition("?")[2],
         "SCRIPT_NAME": uri.partition("?")[0]}
    p.update(extra)
    return p


def parse_cgi(out):
    """(status, {lower header: value}, body) of a CGI answer."""
    head, _, body = out.partition(b"\r\n\r\n")
    hdrs = {}
    for ln in head.decode(errors="replace").split("\r\n"):
        k, _, v = ln.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    st = int(hdrs.get("status", "0 x").split()[0] or 0)
    return st, hdrs, body


def fcgi_call(sock, params, body=b"", timeout=30):
    """One request over a new connection to the unix socket sock: (status,
    headers, body) of the answer, or raises socket.timeout / OSError."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock)
        req = fcgi_head(params)
        for i in range(0, len(body), 65535):
            req += fcgi_record(FCGI_STDIN, 1, body[i:i + 65535])
        s.sendall(req + fcgi_record(FCGI_STDIN, 1))
        buf, out = b"", b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
            while len(buf) >= 8:
                _v, rtype, _rid, clen, plen = struct.unpack("!BBHHBx", buf[:8])
                if len(buf) < 8 + clen + plen:
                    break
                if rtype == FCGI_STDOUT:
                    out += buf[8:8 + clen]
                buf = buf[8 + clen + plen:]
                if rtype == FCGI_END:
                    return parse_cgi(out)
        return parse_cgi(out)
    finally:
        s.close()


class Program:
    """One of the programs under `spawn-fcgi -n` on a unix socket in dir,
    its stderr in dir/NAME.log; wrap (a list) is put before it (valgrind)."""

    def __init__(self, env, d, name, wrap=(), timeout=60):
        self.name = name
        self.sock = os.path.join(d, name + ".sock")
        self.log = os.path.join(d, name + ".log")
        with open(self.log, "ab") as fh:
            self.p = subprocess.Popen([SPAWN, "-n", "-s", self.sock, "--"]
                                      + list(wrap) + [program(name)],
                                      env=env, stdin=subprocess.DEVNULL,
                                      stdout=fh, stderr=fh)
        pstest._live.append(self.p)
        def up():
            if self.p.poll() is not None:
                return "dead"
            return connectable(self.sock) and "ready" in self.log_text()

        if pstest.wait_for(up, timeout) is not True:
            self.stop()
            raise RuntimeError("%s did not start: %s"
                               % (name, self.log_text()[-2000:]))

    def log_text(self):
        try:
            with open(self.log, errors="replace") as fh:
                return fh.read()
        except OSError:
            return ""

    def call(self, method, uri, timeout=30, **extra):
        return fcgi_call(self.sock, cgi_params(method, uri, **extra),
                         timeout=timeout)

    def term(self, timeout=10):
        """SIGTERM; the exit status, or None when still running after
        timeout s. Also returns how long it took."""
        t0 = time.monotonic()
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            rc = None
        return rc, time.monotonic() - t0

    def stop(self):
        pstest._kill(self.p, signal.SIGKILL)
