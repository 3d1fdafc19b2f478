"""webstack: the real web stack for end-to-end tests (python3 stdlib only).

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
from the environment, as `make check` sets them. The HTTP clients are in
webclient.py, the checks the nginx and Apache tests share in webchecks.py,
a FastCGI client without a web server in fcgiclient.py.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys

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
            fh.write("# written by tests/webstack.py\n")
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
