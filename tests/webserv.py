"""webserv: the real web stack for end-to-end tests (python3 stdlib only).

    with Stack(workdir, fake.url, server="nginx") as st:
        st.base_url                      # "http://127.0.0.1:PORT"
        st.sync_pid; st.kill_sync(9); st.restart_sync()
        st.error_log_text()              # server error log + program logs
        st.env                           # for the CLI, same config and db

Stack writes a config (db in workdir, fmp_base_url = the fake, min_interval_s
0 unless conf_extra says otherwise), starts ONE `sync` and one `sync-status`
process with spawn-fcgi (no -F, `-n` so the pid is the program's and its
stderr our log) on unix sockets in workdir, and nginx or Apache on a free
127.0.0.1 port with a config generated FROM THE SHIPPED SNIPPET
(etc/nginx-pricesync.conf, etc/apache-pricesync.conf): the install paths,
the port and the sockets substituted, the www root = a copy of top_srcdir/www
in workdir (see worker_copy), and for
every prefix other than "/" the same locations generated under it. It
waits until each one accepts connections, and stops everything on exit,
even on failure (and at interpreter exit, and on SIGTERM via pstest).

Paths: top_builddir (cgi/sync, cgi/sync-status) and top_srcdir (etc/, www/)
from the environment, as `make check` sets them.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pstest  # noqa: E402

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
APACHE = shutil.which("apache2") or "/usr/sbin/apache2"
SPAWN = shutil.which("spawn-fcgi") or "/usr/bin/spawn-fcgi"
APACHE_MODULES = "/usr/lib/apache2/modules"

# What the shipped snippets say, replaced in the generated configs.
INSTALL_WWW = "/usr/local/share/pricesync/www"
INSTALL_SYNC_SOCK = "/run/pricesync/sync.sock"
INSTALL_STATUS_SOCK = "/run/pricesync/sync-status.sock"
INSTALL_LISTEN = "127.0.0.1:8080"
INSTALL_LIBEXEC = "/usr/local/libexec/pricesync"
INSTALL_CONF = "/usr/local/etc/pricesync.conf"
INSTALL_HTPASSWD = "/etc/pricesync.htpasswd"

_SCRUB = ("FMP_API_KEY", "FMP_BASE_URL", "PRICESYNC_CONFIG", "PRICESYNC_DB",
          "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
          "all_proxy", "ALL_PROXY")


def program(name):
    return os.path.join(pstest.builddir, "cgi", name)


def have_programs():
    return all(os.access(program(n), os.X_OK) for n in ("sync", "sync-status"))


def connectable(addr):
    """True when a stream connection to addr (unix path or (host, port))
    is accepted now."""
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


WORKER_USER = "www-data"


def worker_can_read(path):
    """None when a web server's worker that dropped to an unprivileged
    user (www-data) can read path, else why not. A clone under /root is
    mode 0700, so nothing in the source or build tree qualifies; every
    ancestor must be searchable by others and the file readable."""
    path = os.path.abspath(path)
    for top in (pstest.srcdir, pstest.builddir):
        if path == top or path.startswith(top.rstrip("/") + "/"):
            return "%r is inside the tree %r: serve a copy (worker_copy)" % (path, top)
    d = os.path.dirname(path)
    while True:
        st = os.stat(d)
        if not st.st_mode & 0o001:
            return "%r (an ancestor of %r) is not searchable by others" % (d, path)
        if d == "/":
            break
        d = os.path.dirname(d)
    need = 0o005 if os.path.isdir(path) else 0o004
    if os.stat(path).st_mode & need != need:
        return "%r is not readable by others" % path
    return None


def worker_copy(src, dst):
    """Copy the file or tree src to dst with modes a dropped-privilege
    worker can read (dirs 0755, files 0644, executables 0755), and check
    that it can: the tests never hand the checkout to such a server."""
    if os.path.isdir(src):
        shutil.copytree(src, dst, dirs_exist_ok=True)
    else:
        shutil.copy(src, dst)
    for root, dirs, files in os.walk(dst):
        os.chmod(root, 0o755)
        for f in files:
            fp = os.path.join(root, f)
            os.chmod(fp, 0o755 if os.access(fp, os.X_OK) else 0o644)
    if os.path.isfile(dst):
        os.chmod(dst, 0o755 if os.access(dst, os.X_OK) else 0o644)
    why = worker_can_read(dst)
    if why:
        raise RuntimeError("a web server worker (%s) could not read what it "
                           "serves: %s" % (WORKER_USER, why))
    return dst


def _blocks(text, start_re):
    """The brace-balanced blocks (with their header line) in text whose
    header matches start_re, in order."""
    out = []
    for m in re.finditer(start_re, text, re.M):
        i = text.index("{", m.start())
        depth = 0
        for j in range(i, len(text)):
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    out.append(text[m.start():j + 1])
                    break
    return out


class Stack:
    def __init__(self, workdir, fake_url, server="nginx", prefixes=("/",),
                 key=None, conf_extra=None, timeout=30, htpasswd=None,
                 listen_opts=None):
        self.workdir = os.path.abspath(str(workdir))
        # extra parameters of nginx's listen directive ("sndbuf=4k")
        self.listen_opts = listen_opts
        self.fake_url = fake_url
        self.server = server
        self.prefixes = tuple(prefixes)
        self.key = key
        self.conf_extra = dict(conf_extra or {})
        self.timeout = timeout
        # A password file: the snippet's basic-auth block is switched on
        # (its directives uncommented) and pointed at it.
        self.htpasswd = htpasswd
        self.conf = os.path.join(self.workdir, "pricesync.conf")
        self.db = os.path.join(self.workdir, "db")
        self.sock = {"sync": os.path.join(self.workdir, "sync.sock"),
                     "sync-status": os.path.join(self.workdir, "sync-status.sock")}
        self.procs = {}
        self.server_proc = None
        self.port = None
        self.base_url = None
        self.sdir = os.path.join(self.workdir, server)
        self.www = os.path.join(self.workdir, "www")
        env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
        env["PRICESYNC_CONFIG"] = self.conf
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
        env["TZ"] = "UTC"
        self.env = env

    # ---- life cycle ----
    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        os.makedirs(self.sdir, exist_ok=True)
        # The web server's workers (www-data for Apache) must reach the
        # sockets and the www root.
        os.chmod(self.workdir, 0o755)
        why = worker_can_read(self.workdir)
        if why:
            raise RuntimeError("the web server's workers cannot reach the "
                               "sockets: %s" % why)
        worker_copy(os.path.join(pstest.srcdir, "www"), self.www)
        self._write_conf()
        if self.server == "apache-cgi":
            # Apache starts the programs itself, as its worker user.
            self.libexec = os.path.join(self.workdir, "libexec")
            os.makedirs(self.libexec, exist_ok=True)
            for name in ("sync", "sync-status"):
                worker_copy(program(name), os.path.join(self.libexec, name))
            os.chmod(self.conf, 0o644)
            os.makedirs(self.db, exist_ok=True)
            self.give_db_to_worker()
        else:
            for name in ("sync", "sync-status"):
                self._start_program(name)
        self.port = pstest.free_port()
        self.base_url = "http://127.0.0.1:%d" % self.port
        if self.server == "nginx":
            self._start_nginx()
        elif self.server in ("apache", "apache-cgi"):
            self._start_apache()
        else:
            raise ValueError("server must be nginx, apache or apache-cgi")
        return self

    def stop(self):
        if self.server_proc is not None:
            self._stop_proc(self.server_proc, signal.SIGTERM)
            self.server_proc = None
        for name in list(self.procs):
            self._stop_proc(self.procs.pop(name), signal.SIGTERM)

    @staticmethod
    def _stop_proc(p, sig):
        pstest._kill(p, sig, 20)

    # ---- config and programs ----
    def _write_conf(self):
        keys = {"db_path": self.db, "fmp_base_url": self.fake_url,
                "min_interval_s": 0}
        if self.key is not None:
            keys["fmp_api_key"] = self.key
        keys.update(self.conf_extra)
        with open(self.conf, "w") as fh:
            fh.write("# written by tests/webserv.py\n")
            for k, v in keys.items():
                if v is not None:
                    fh.write("%s = %s\n" % (k, v))

    def _start_program(self, name):
        sock = self.sock[name]
        log = open(os.path.join(self.workdir, name + ".log"), "ab")
        cmd = [SPAWN, "-n", "-s", sock, "-M", "0666", "--",
               program(name)]
        p = subprocess.Popen(cmd, env=self.env, stdin=subprocess.DEVNULL,
                             stdout=log, stderr=log)
        log.close()
        pstest._live.append(p)
        self.procs[name] = p

        def up():
            if p.poll() is not None:
                return "dead"
            return connectable(sock)

        r = pstest.wait_for(up, self.timeout)
        if r is not True:
            raise RuntimeError("%s did not start (%s): %s"
                               % (name, r or "timeout", self.error_log_text()[-2000:]))

    def give_db_to_worker(self):
        """Plain CGI runs as the web server's worker user: it must own
        the database (call again after the CLI, running as root, made
        files there)."""
        if os.geteuid() != 0:
            return
        import pwd
        pw = pwd.getpwnam(WORKER_USER)
        for root, dirs, files in os.walk(self.db):
            for n in [root] + [os.path.join(root, f) for f in files]:
                os.chown(n, pw.pw_uid, pw.pw_gid)

    @property
    def sync_pid(self):
        p = self.procs.get("sync")
        return p.pid if p else None

    def kill_sync(self, sig=signal.SIGKILL):
        p = self.procs.get("sync")
        if p is None:
            return None
        p.send_signal(sig)
        try:
            return p.wait(60)
        except subprocess.TimeoutExpired:
            return None

    def restart_sync(self):
        p = self.procs.pop("sync", None)
        if p is not None:
            self._stop_proc(p, signal.SIGTERM)
        self._start_program("sync")

    # ---- the web servers ----
    def _auth_on(self, text):
        """The snippet with the directives (lines "#x" or "#<tab>x", not
        prose "# x")
        between BEGIN basic-auth and END basic-auth uncommented."""
        out, inside = [], False
        for ln in text.split("\n"):
            if "BEGIN basic-auth" in ln:
                inside = True
            elif "END basic-auth" in ln:
                inside = False
            elif inside:
                ln = re.sub(r"^(\s*)#(?! )", r"\1", ln)
            out.append(ln)
        return "\n".join(out).replace(INSTALL_HTPASSWD, self.htpasswd)

    def _subst(self, text):
        if self.htpasswd:
            text = self._auth_on(text)
        return (text.replace(INSTALL_WWW, self.www)
                .replace(INSTALL_SYNC_SOCK, self.sock["sync"])
                .replace(INSTALL_STATUS_SOCK, self.sock["sync-status"])
                .replace(INSTALL_LISTEN, "127.0.0.1:%d" % self.port)
                .replace(INSTALL_LIBEXEC, getattr(self, "libexec", INSTALL_LIBEXEC))
                .replace(INSTALL_CONF, self.conf))

    def _nginx_server(self):
        with open(os.path.join(pstest.srcdir, "etc", "nginx-pricesync.conf")) as fh:
            snippet = self._subst(fh.read())
        if self.listen_opts:
            listen = "listen 127.0.0.1:%d" % self.port
            if listen + ";" not in snippet:
                raise RuntimeError("no %r in the nginx snippet" % listen)
            snippet = snippet.replace(listen + ";", "%s %s;"
                                      % (listen, self.listen_opts))
        if self.prefixes == ("/",):
            return snippet
        server = _blocks(snippet, r"^\s*server\s*\{")[0]
        locs = _blocks(server, r"^\s*location\s")
        head = server[:server.index(locs[0])]
        body = []
        for pre in self.prefixes:
            for loc in locs:
                if pre == "/":
                    body.append(loc)
                    continue
                m = re.match(r"(\s*location\s+(=\s*)?)/(\S*)\s*\{", loc)
                path = pre.rstrip("/") + "/" + m.group(3)
                if m.group(3) == "":
                    # The dashboard under the prefix: the same files.
                    body.append("%s%s {\n\t\talias %s/;\n\t}"
                                % (m.group(1), path, self.www))
                else:
                    body.append(m.group(1) + path + " " + loc[loc.index("{"):])
        return head + "\n".join(body) + "\n}\n"

    def _start_nginx(self):
        d = self.sdir
        for sub in ("tmp", "logs"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        for f in ("fastcgi_params", "mime.types"):
            shutil.copy(os.path.join("/etc/nginx", f), os.path.join(d, f))
        conf = os.path.join(d, "nginx.conf")
        # As Debian runs it: workers drop to www-data, so a path they
        # cannot read fails here as it would in a real deployment.
        user = "user %s;\n" % WORKER_USER if os.geteuid() == 0 else ""
        with open(conf, "w") as fh:
            fh.write(user + (
                "worker_processes 1;\n"
                "pid %(d)s/nginx.pid;\n"
                "error_log %(d)s/logs/error.log info;\n"
                "events { worker_connections 256; }\n"
                "http {\n"
                "include mime.types;\n"
                "default_type application/octet-stream;\n"
                "access_log %(d)s/logs/access.log;\n"
                "client_body_temp_path %(d)s/tmp/body;\n"
                "fastcgi_temp_path %(d)s/tmp/fastcgi;\n"
                "proxy_temp_path %(d)s/tmp/proxy;\n"
                "uwsgi_temp_path %(d)s/tmp/uwsgi;\n"
                "scgi_temp_path %(d)s/tmp/scgi;\n"
                "gzip on;\n"
                "gzip_types application/json application/x-ndjson;\n"
                % {"d": d}) + self._nginx_server() + "}\n")
        cmd = [NGINX, "-p", d + "/", "-c", conf, "-e", d + "/logs/error.log",
               "-g", "daemon off;"]
        self._start_server(cmd, os.path.join(d, "logs", "stderr.log"))

    def _apache_vhost(self):
        name = ("apache-pricesync-cgi.conf" if self.server == "apache-cgi"
                else "apache-pricesync.conf")
        with open(os.path.join(pstest.srcdir, "etc", name)) as fh:
            snippet = self._subst(fh.read())
        if "/" not in self.prefixes:
            raise ValueError("the Apache stack always serves '/'")
        extra = []
        for pre in self.prefixes:
            if pre == "/":
                continue
            p = pre.rstrip("/")
            extra.append('Alias "%s/" "%s/"' % (p, self.www))
            # The snippet's ProxyPass lines and Location blocks, in order,
            # with the prefix put before their path.
            for m in re.finditer(r'^[ \t]*ProxyPass\s[^\n]*|^[ \t]*<Location\s.*?</Location>',
                                 snippet, re.M | re.S):
                extra.append(re.sub(r'"/', '"%s/' % p, m.group(0), count=1))
        if extra:
            snippet = snippet.replace("</VirtualHost>",
                                      "\n".join(extra) + "\n</VirtualHost>")
        return snippet

    def _start_apache(self):
        d = self.sdir
        mods = ["mpm_event", "authz_core", "authz_host", "auth_basic",
                "authn_core", "authn_file", "authz_user", "mime", "dir",
                "alias", "headers", "env", "proxy", "proxy_fcgi"]
        if self.server == "apache-cgi":
            mods.append("cgid")
        lines = ["ServerRoot %s" % d, "ServerName 127.0.0.1",
                 "DefaultRuntimeDir %s" % d, "PidFile %s/httpd.pid" % d,
                 "ErrorLog %s/error.log" % d, "LogLevel warn",
                 "TypesConfig /etc/mime.types"]
        for m in mods:
            lines.append("LoadModule %s_module %s/mod_%s.so"
                         % (m, APACHE_MODULES, m))
        if self.server == "apache-cgi":
            lines.append("ScriptSock %s/cgisock" % d)
        if os.geteuid() == 0:
            lines += ["User " + WORKER_USER, "Group " + WORKER_USER]
        vhost = self._apache_vhost()
        lines += ["<Directory />", "Require all denied", "</Directory>",
                  vhost]
        conf = os.path.join(d, "httpd.conf")
        with open(conf, "w") as fh:
            fh.write("\n".join(lines) + "\n")
        cmd = [APACHE, "-d", d, "-f", conf, "-DFOREGROUND"]
        self._start_server(cmd, os.path.join(d, "stderr.log"))

    def _start_server(self, cmd, logpath):
        log = open(logpath, "ab")
        env = dict(self.env)
        env.setdefault("APACHE_RUN_DIR", self.sdir)
        p = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL,
                             stdout=log, stderr=log)
        log.close()
        pstest._live.append(p)
        self.server_proc = p

        def up():
            if p.poll() is not None:
                return "dead"
            return connectable(("127.0.0.1", self.port))

        r = pstest.wait_for(up, self.timeout)
        if r is not True:
            raise RuntimeError("%s did not start (%s): %s"
                               % (self.server, r or "timeout",
                                  self.error_log_text()[-3000:]))

    # ---- logs ----
    def program_log(self, name):
        try:
            with open(os.path.join(self.workdir, name + ".log"), errors="replace") as fh:
                return fh.read()
        except OSError:
            return ""

    def error_log_text(self):
        """Every log the stack wrote: the web server's error (and access)
        logs, its stderr, and the programs' stderr."""
        paths = []
        for root, _dirs, files in os.walk(self.sdir):
            paths += [os.path.join(root, f) for f in files
                      if f.endswith(".log")]
        paths += [os.path.join(self.workdir, n + ".log")
                  for n in ("sync", "sync-status")]
        out = []
        for p in sorted(paths):
            try:
                with open(p, errors="replace") as fh:
                    out.append("== %s\n%s" % (os.path.basename(p), fh.read()))
            except OSError:
                pass
        return "\n".join(out)


# ---- HTTP helpers for the tests ----
import http.client  # noqa: E402
import json  # noqa: E402
import select  # noqa: E402
import tempfile  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402


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


# ---- scenarios shared by t-nginx.py and t-apache.py ----
SYMS = ["AAPL", "MSFT", "GOOGL", "NVDA", "TSLA", "AMZN"]


def add_symbols(st, syms=SYMS):
    rc, out, err = pstest.run_cli(["add"] + list(syms), st.env)
    pstest.eq(rc, 0, "pricesync add %d symbols to the stack's db" % len(syms))
    if rc != 0:
        pstest.diag(err)


def status_doc(st, prefix=""):
    s, _h, doc = jrequest("GET", st.base_url + prefix + "/api/sync/status")
    return doc if s == 200 else None


def check_streaming(st, fake, tag):
    """Acceptance 1: each line leaves before the next upstream answer."""
    fake.control({"delay": 0.8})
    fake.reset()
    cs = CurlStream(st.base_url + "/api/sync")
    try:
        cs.read_all(120)
    finally:
        cs.close()
    fake.control({"delay": 0})
    evs = cs.events()
    pstest.events_ok(evs, "%s: streamed events follow SPEC §4" % tag)
    pstest.eq(cs.status(), 200, "%s: POST /api/sync answers 200" % tag)
    hdr = cs.headers_text().lower()
    pstest.ok("content-type: application/x-ndjson" in hdr,
              "%s: Content-Type application/x-ndjson" % tag)
    pstest.ok("cache-control: no-store" in hdr, "%s: Cache-Control no-store" % tag)
    pstest.ok("content-length" not in hdr and "transfer-encoding: chunked" in hdr,
              "%s: chunked, no Content-Length" % tag)
    quotes = sorted((e for e in fake.stats()["log"]
                     if e["path"] == "/stable/batch-quote"),
                    key=lambda e: e["t_start"])
    if not pstest.ok(len(quotes) == 3 and len(cs.lines) >= 5,
                     "%s: 3 batches fetched, 5 lines received" % tag):
        pstest.diag("quotes %r lines %r" % (quotes, cs.lines))
        return
    t_start_line = cs.lines[0][0]
    pstest.ok(t_start_line < quotes[0]["t_end"],
              "%s: the start line arrives before the first batch is answered "
              "(%.3f s before)" % (tag, quotes[0]["t_end"] - t_start_line))
    for k in (1, 2):
        t = cs.lines[k][0]
        pstest.ok(evs[k].get("type") == "progress" and t < quotes[k]["t_end"],
                  "%s: progress %d arrives before batch %d is answered "
                  "(%.3f s before)" % (tag, k, k + 1, quotes[k]["t_end"] - t))


def check_one_process(st, fake, tag):
    """Acceptance 3: 409 at once from the same process, running/progress,
    and a kill -9 that leaves no sync 'running'."""
    fake.control({"delay": 0.8})
    pid = st.sync_pid
    cs = CurlStream(st.base_url + "/api/sync")
    try:
        first = cs.readline(60)
        pstest.ok(first and '"start"' in first[1], "%s: the sync started" % tag)
        t0 = time.monotonic()
        s, _h, doc = jrequest("POST", st.base_url + "/api/sync", timeout=30)
        dt = time.monotonic() - t0
        pstest.eq(s, 409, "%s: a second POST while a sync runs gets 409" % tag)
        pstest.ok(dt < 1.0, "%s: ... within one second (%.3f s)" % (tag, dt))
        pstest.eq((doc or {}).get("code"), "sync_in_progress",
                  "%s: ... with code sync_in_progress" % tag)
        pstest.eq(st.sync_pid, pid, "%s: ... from the same single process" % tag)
        d = status_doc(st) or {}
        pstest.eq(d.get("running"), True, "%s: status running while it runs" % tag)
        pstest.ok(isinstance(d.get("progress"), dict) and
                  d["progress"].get("type") in ("start", "progress"),
                  "%s: status shows the progress (%r)" % (tag, d.get("progress")))
        cs.read_all(120)
    finally:
        cs.close()
    pstest.eq((cs.events() or [{}])[-1].get("type"), "complete",
              "%s: the first sync completed" % tag)
    d = pstest.wait_for(lambda: (status_doc(st) or {}).get("running") is False
                        and status_doc(st), 10) or {}
    pstest.eq(d.get("running"), False, "%s: running false after it ends" % tag)
    pstest.ok(pstest.ISO_RE.match(str(d.get("last_synced"))),
              "%s: last_synced set (%r)" % (tag, d.get("last_synced")))
    # kill -9 in the middle of a sync
    cs = CurlStream(st.base_url + "/api/sync")
    try:
        first = cs.readline(60)
        pstest.ok(first and '"start"' in first[1], "%s: another sync started" % tag)
        d = status_doc(st) or {}
        pstest.eq(d.get("running"), True, "%s: running before the kill" % tag)
        st.kill_sync(signal.SIGKILL)
        cs.read_all(60)
    finally:
        cs.close()
    d = pstest.wait_for(lambda: (status_doc(st) or {}).get("running") is False
                        and status_doc(st), 10) or {}
    pstest.eq(d.get("running"), False, "%s: running false after kill -9" % tag)
    pstest.eq(d.get("progress"), None, "%s: no progress after kill -9" % tag)
    st.restart_sync()
    fake.control({"delay": 0})
    cs = CurlStream(st.base_url + "/api/sync")
    try:
        cs.read_all(120)
    finally:
        cs.close()
    evs = cs.events()
    pstest.eq((evs or [{}])[-1].get("type"), "complete",
              "%s: after a restart the next sync completes" % tag)


def check_hangup(st, fake, tag):
    """Acceptance 4: a client that leaves does not stop the sync."""
    before = (status_doc(st) or {}).get("last_synced")
    done_before = st.program_log("sync").count("sync complete")
    fake.control({"delay": 0.8})
    cs = CurlStream(st.base_url + "/api/sync")
    try:
        first = cs.readline(60)
        pstest.ok(first and '"start"' in first[1], "%s: sync started" % tag)
    finally:
        cs.close()  # hangs up after the first event

    def moved():
        d = status_doc(st) or {}
        return (d.get("running") is False and d.get("last_synced")
                and d.get("last_synced") != before and d)

    d = pstest.wait_for(moved, 60)
    fake.control({"delay": 0})
    pstest.ok(d, "%s: after the client hung up the sync completed and "
              "last_synced moved (%r -> %r)"
              % (tag, before, (status_doc(st) or {}).get("last_synced")))
    pstest.ok(pstest.wait_for(lambda: st.program_log("sync").count(
        "sync complete") > done_before, 10),
        "%s: the sync program logged the completed sync" % tag)
    pstest.eq(st.procs["sync"].poll(), None, "%s: the sync process lives on" % tag)


def check_cgi_hangup(st, fake, tag):
    """Plain CGI (issue 9, defect 2): Apache kills the CGI process of a
    client that left (SIGTERM, then SIGKILL); the sync must still run to
    its end and commit, and leave no progress behind."""
    before = (status_doc(st) or {}).get("last_synced")
    fake.control({"delay": 1.5})
    cs = CurlStream(st.base_url + "/api/sync")
    try:
        first = cs.readline(60)
        pstest.ok(first and '"start"' in first[1], "%s: sync started" % tag)
        s, _h, doc = jrequest("POST", st.base_url + "/api/sync", timeout=30)
        pstest.ok(s == 409 and (doc or {}).get("code") == "sync_in_progress",
                  "%s: a second POST meanwhile gets 409 (%r)" % (tag, s))
    finally:
        cs.close()  # hangs up after the first event
    t0 = time.monotonic()

    def moved():
        d = status_doc(st) or {}
        return (d.get("running") is False and d.get("last_synced")
                and d.get("last_synced") != before and d)

    d = pstest.wait_for(moved, 90)
    fake.control({"delay": 0})
    pstest.ok(d, "%s: after the client hung up the sync completed and "
              "last_synced moved (%r -> %r, %.1f s after)"
              % (tag, before, (d or {}).get("last_synced"),
                 time.monotonic() - t0))
    pstest.eq((d or {}).get("progress"), None,
              "%s: ... and its progress is cleared" % tag)
    res = (d or {}).get("last_result") or {}
    pstest.eq((res.get("updated"), res.get("failed")), (len(SYMS), 0),
              "%s: ... every symbol updated, none failed" % tag)
    log = st.error_log_text()
    if "AH01259" in log or "didn't exit" in log:
        pstest.diag("%s: Apache did kill the CGI process (AH01259)" % tag)


def check_prefix(st, fake, prefix, tag):
    s, _h, d = jrequest("GET", st.base_url + prefix + "/api/sync/status")
    pstest.ok(s == 200 and isinstance(d, dict) and "running" in d,
              "%s: %sapi/sync/status answers" % (tag, prefix + "/"))
    s, _h, d = jrequest("GET", st.base_url + prefix + "/api/prices")
    pstest.ok(s == 200 and isinstance(d, dict) and "symbols" in d,
              "%s: %s/api/prices answers" % (tag, prefix))
    s, _h, d = jrequest("GET", st.base_url + prefix + "/api/prices/AAPL/history")
    pstest.ok(s == 200 and (d or {}).get("symbol") == "AAPL",
              "%s: %s/api/prices/AAPL/history answers" % (tag, prefix))
    cs = CurlStream(st.base_url + prefix + "/api/sync")
    try:
        cs.read_all(120)
    finally:
        cs.close()
    pstest.eq((cs.events() or [{}])[-1].get("type"), "complete",
              "%s: POST %s/api/sync streams a sync" % (tag, prefix))
    s, h, _b = request("GET", st.base_url + prefix + "/")
    pstest.ok(s == 200 and "text/html" in h.get("content-type", ""),
              "%s: the dashboard at %s/" % (tag, prefix))


def check_basic_codes(st, tag):
    b = st.base_url
    s, h, d = jrequest("GET", b + "/api/sync")
    pstest.ok(s == 405 and h.get("allow") == "POST" and
              (d or {}).get("code") == "method_not_allowed",
              "%s: GET /api/sync -> 405, Allow: POST" % tag)
    s, h, d = jrequest("POST", b + "/api/sync/status")
    pstest.ok(s == 405 and h.get("allow") == "GET, HEAD" and
              (d or {}).get("code") == "method_not_allowed",
              "%s: POST /api/sync/status -> 405, Allow: GET, HEAD" % tag)
    s, h, d = jrequest("POST", b + "/api/sync",
                       headers={"Origin": "http://evil.example"})
    pstest.ok(s == 403 and (d or {}).get("code") == "forbidden_origin"
              and h.get("content-type", "").startswith("application/json"),
              "%s: a foreign Origin -> 403 forbidden_origin" % tag)
    s, _h, d = jrequest("GET", b + "/api/nope")
    pstest.ok(s == 404 and (d or {}).get("code") == "not_found",
              "%s: unknown path -> 404 not_found" % tag)
    s, _h, d = jrequest("GET", b + "/api/prices/NOSUCH/history")
    pstest.ok(s == 404 and (d or {}).get("code") == "not_found",
              "%s: unknown symbol -> 404 not_found" % tag)
    for path in ("/api/sync/status", "/api/prices", "/api/prices/AAPL/history"):
        s, h, body = request("GET", b + path)
        et = h.get("etag", "")
        pstest.ok(s == 200 and re.match(r'^"[0-9a-f]{16}"$', et) and
                  h.get("cache-control") == "no-cache",
                  "%s: %s has an ETag and no-cache (%s)" % (tag, path, et))
        s2, h2, body2 = request("GET", b + path, headers={"If-None-Match": et})
        pstest.ok(s2 == 304 and body2 == b"" and h2.get("etag") == et,
                  "%s: %s If-None-Match -> 304, no body" % (tag, path))
        s3, h3, body3 = raw_head(st, path)
        pstest.ok(s3 == 200 and body3 == b"" and h3.get("etag") == et,
                  "%s: HEAD %s: headers, no body (%d bytes after them)"
                  % (tag, path, len(body3)))


def raw_head(st, path):
    """HEAD over a raw connection read to its end, so that bytes after the
    headers are seen (http.client reads no body for HEAD, whatever comes):
    (status, {lower header: value}, what followed the headers)."""
    s = socket.create_connection(("127.0.0.1", st.port), timeout=30)
    buf = b""
    try:
        s.sendall(b"HEAD %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                  b"Connection: close\r\n\r\n" % (path.encode(), st.port))
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    finally:
        s.close()
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    hdrs = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        status = 0
    return status, hdrs, rest


def check_no_key(st, key, tag):
    """Acceptance 7: the key in no body, header or log line."""
    texts = []
    b = st.base_url
    for m, path in (("GET", "/api/sync/status"), ("GET", "/api/prices"),
                    ("GET", "/api/prices/AAPL/history"), ("GET", "/api/sync"),
                    ("GET", "/api/nope"), ("HEAD", "/api/prices")):
        s, h, body = request(m, b + path)
        texts.append(json.dumps(h) + body.decode(errors="replace"))
    cs = CurlStream(b + "/api/sync")
    try:
        cs.read_all(120)
    finally:
        cs.close()
    texts.append(cs.headers_text() + "\n".join(l for _, l in cs.lines))
    pstest.eq((cs.events() or [{}])[-1].get("type"), "complete",
              "%s: a sync with a key configured completes" % tag)
    leaks = [t[:200] for t in texts if key in t]
    pstest.ok(not leaks, "%s: the API key is in no response seen (%d)"
              % (tag, len(texts)))
    for t in leaks[:3]:
        pstest.diag("leak: " + t)
    log = st.error_log_text()
    # not vacuous: the logs read hold the programs' own lines
    pstest.ok("sync complete" in log and "sync-status: ready" in log and
              key not in log,
              "%s: the API key is in no server or program log (%d bytes "
              "read)" % (tag, len(log)))
    for name, p in st.procs.items():
        try:
            with open("/proc/%d/cmdline" % p.pid, "rb") as fh:
                argv = fh.read().decode(errors="replace")
        except OSError:
            argv = ""
        pstest.ok(name in argv and key not in argv,
                  "%s: the key is not in %s's argv (%r)" % (tag, name, argv))


# ---- FastCGI without a web server ----
import struct  # noqa: E402

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
