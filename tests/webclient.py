"""webclient: the HTTP clients of the end-to-end tests (python3 stdlib
only): request() and jrequest() for one exchange without any proxy, and
CurlStream for a streamed POST read line by line with arrival times."""

import http.client
import json
import os
import re
import select
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pstest  # noqa: E402


def request(method, url, headers=None, timeout=30):
    """(status, {lower-case header: value}, body bytes) of one request,
    without any proxy; HEAD works."""
    u = urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        path = u.path + ("?" + u.query if u.query else "")
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        body = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body
    finally:
        c.close()


def jrequest(method, url, headers=None, timeout=30):
    """request() with the body parsed as JSON (None when it is not)."""
    st, h, body = request(method, url, headers, timeout)
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    return st, h, doc


class CurlStream:
    """`curl -N -X POST url` in the background, its lines read one by one
    with their arrival times (time.monotonic(), the clock of the fake's
    /_stats log)."""

    def __init__(self, url, headers=(), max_time=300):
        fd, self.hfile = tempfile.mkstemp(prefix="ps-curl-")
        os.close(fd)
        cmd = ["curl", "-N", "-sS", "-X", "POST", "--max-time", str(max_time),
               "-D", self.hfile, "--noproxy", "*"]
        for h in headers:
            cmd += ["-H", h]
        self.p = subprocess.Popen(cmd + [url], stdout=subprocess.PIPE,
                                  stdin=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        pstest._live.append(self.p)
        self.buf = b""
        self.hdr_text = None  # kept once closed
        self.lines = []  # (time, text)
        self.eof = False

    def readline(self, timeout=60):
        """The next (time, line) or None at the end or after timeout."""
        end = time.monotonic() + timeout
        while b"\n" not in self.buf and not self.eof:
            left = end - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if not r:
                return None
            chunk = os.read(self.p.stdout.fileno(), 65536)
            if not chunk:
                self.eof = True
            self.buf += chunk
        if b"\n" not in self.buf:
            return None
        t = time.monotonic()
        line, self.buf = self.buf.split(b"\n", 1)
        item = (t, line.decode("utf-8", "replace"))
        self.lines.append(item)
        return item

    def read_all(self, timeout=120):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.readline(max(0.01, end - time.monotonic())) is None:
                if self.eof or time.monotonic() >= end:
                    break
        return self.lines

    def events(self):
        return pstest.parse_ndjson("\n".join(l for _, l in self.lines))

    def status(self):
        """The HTTP status (of the last response header block) or None."""
        codes = re.findall(r"^HTTP/\S+ (\d+)", self.headers_text(), re.M)
        return int(codes[-1]) if codes else None

    def headers_text(self):
        if self.hdr_text is not None:
            return self.hdr_text
        try:
            with open(self.hfile) as fh:
                return fh.read()
        except OSError:
            return ""

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        self.p.stdout.close()
        if self.p in pstest._live:
            pstest._live.remove(self.p)
        self.hdr_text = self.headers_text()
        try:
            os.unlink(self.hfile)
        except OSError:
            pass
