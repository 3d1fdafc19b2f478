#!/usr/bin/env python3
"""t-deb: the Debian package (debian/, SPEC §1) built by debian/make-deb.sh
from this tree's tracked files (dpkg-buildpackage -us -uc -b with
DEB_BUILD_OPTIONS=nocheck: the unit tests ran already in this make check),
then checked without installing it: lintian reports no error and no
warning; the files and their modes (/usr/bin/pricesync,
/usr/libexec/pricesync/{sync,sync-status}, the dashboard, the man pages,
/etc/pricesync.conf 0640, the units, the nginx and Apache site files);
the conffiles; the paths inside the units and site files are this layout's;
the maintainer scripts create the user, the directory and the
statoverride, and keep the database on purge unless asked; and
`systemd-analyze verify` passes for the packaged units. A minute or two.
The install itself, in a fresh Debian 12 root, is tests/deb-fresh-root.sh
(by hand). Under `make distcheck` (PS_DISTCHECK) and in a sanitizer build
it skips: the package is built with its own flags, and the main build has
run it.
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), "tests"))
import pstest  # noqa: E402
from pstest import eq, ok  # noqa: E402

TOOLS = ("dpkg-buildpackage", "dh", "lintian", "dpkg-deb")
SA = shutil.which("systemd-analyze")
UNITS = ("pricesync-sync.socket", "pricesync-sync.service",
         "pricesync-sync-status.socket", "pricesync-sync-status.service",
         "pricesync-cron.service", "pricesync-cron.timer")
FILES = {  # path: mode
    "./usr/bin/pricesync": 0o755,
    "./usr/libexec/pricesync/sync": 0o755,
    "./usr/libexec/pricesync/sync-status": 0o755,
    "./usr/share/pricesync/www/index.html": 0o644,
    "./usr/share/pricesync/www/app.js": 0o644,
    "./usr/share/pricesync/www/chart.js": 0o644,
    "./usr/share/pricesync/www/style.css": 0o644,
    "./usr/share/pricesync/etc/spawn-fcgi.sh": 0o755,
    "./usr/share/man/man1/pricesync.1.gz": 0o644,
    "./usr/share/man/man5/pricesync.conf.5.gz": 0o644,
    "./usr/share/man/man8/pricesync-fcgi.8.gz": 0o644,
    "./usr/share/doc/pricesync/README.Debian.gz": 0o644,
    "./usr/share/doc/pricesync/copyright": 0o644,
    "./etc/pricesync.conf": 0o640,
    "./etc/nginx/sites-available/pricesync": 0o644,
    "./etc/apache2/sites-available/pricesync.conf": 0o644,
}
FILES.update({"./lib/systemd/system/" + u: 0o644 for u in UNITS})


def build(out):
    env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck parallel=2")
    p = subprocess.run(["sh", os.path.join(pstest.srcdir, "debian", "make-deb.sh"),
                        out], env=env, capture_output=True, text=True,
                       timeout=1200)
    log = p.stdout + p.stderr
    debs = [d for d in glob.glob(os.path.join(out, "pricesync_*.deb"))]
    if not ok(p.returncode == 0 and len(debs) == 1,
              "make-deb.sh builds one pricesync_VERSION_ARCH.deb (%s)"
              % " ".join(os.path.basename(d) for d in debs)):
        pstest.diag(log[-4000:])
        return None, log
    name = os.path.basename(debs[0])
    ok(re.match(r"^pricesync_\d+\.\d+\.\d+(-\S+)?_[a-z0-9]+\.deb$", name),
       "the file is named pricesync_VERSION_ARCH.deb (%s)" % name)
    return debs[0], log


def lintian(log):
    tags = [ln for ln in log.splitlines() if re.match(r"^[EW]: ", ln)]
    ok(not tags, "lintian: no error and no warning (%d)" % len(tags))
    for t in tags[:20]:
        pstest.diag(t)
    ok("lintian --fail-on error,warning" in open(
        os.path.join(pstest.srcdir, "debian", "make-deb.sh")).read(),
       "make-deb.sh fails the build on a lintian error or warning")


def members(deb):
    p = subprocess.run(["dpkg-deb", "--fsys-tarfile", deb], capture_output=True,
                       check=True)
    with tempfile.TemporaryFile() as fh:
        fh.write(p.stdout)
        fh.seek(0)
        with tarfile.open(fileobj=fh) as tf:
            return {m.name: m for m in tf.getmembers()}


def contents(deb, x):
    m = members(deb)
    for path, mode in sorted(FILES.items()):
        got = m.get(path)
        ok(got is not None and got.isfile() and (got.mode & 0o7777) == mode
           and got.uname == "root",
           "%s, mode %o, root" % (path[1:], mode) +
           ("" if got else " (missing)"))
    stray = [n for n in m if n.startswith("./usr/bin/") and n != "./usr/bin/pricesync"
             and not m[n].isdir()]
    ok(not stray, "nothing else in /usr/bin (no `sync` there: %r)" % stray)
    ok(not any(n.startswith("./var/") for n in m),
       "no /var in the package: postinst makes /var/lib/pricesync")
    for u in UNITS + ("../../../etc/nginx/sites-available/pricesync",
                      "../../../etc/apache2/sites-available/pricesync.conf"):
        path = os.path.normpath(os.path.join(x, "lib/systemd/system", u))
        with open(path) as fh:
            text = fh.read()
        live = [ln for ln in text.splitlines()
                if "/usr/local" in ln and not ln.lstrip().startswith("#")]
        ok(not live, "%s: no /usr/local path (%r)" % (os.path.basename(path), live[:2]))
    unit = open(os.path.join(x, "lib/systemd/system/pricesync-sync.service")).read()
    ok("ExecStart=/usr/libexec/pricesync/sync\n" in unit and
       "Environment=PRICESYNC_CONFIG=/etc/pricesync.conf\n" in unit and
       "ReadWritePaths=/var/lib/pricesync\n" in unit,
       "pricesync-sync.service: /usr/libexec, /etc, /var/lib paths")
    site = open(os.path.join(x, "etc/nginx/sites-available/pricesync")).read()
    ok("root /usr/share/pricesync/www;" in site, "nginx site: the dashboard in /usr/share/pricesync/www")
    conf = open(os.path.join(x, "etc/pricesync.conf")).read()
    ok("#db_path = /var/lib/pricesync" in conf, "the config's db_path default is /var/lib/pricesync")


def control(deb, ctl):
    subprocess.run(["dpkg-deb", "-e", deb, ctl], check=True)
    conff = open(os.path.join(ctl, "conffiles")).read().split()
    eq(sorted(conff), ["/etc/apache2/sites-available/pricesync.conf",
                       "/etc/nginx/sites-available/pricesync",
                       "/etc/pricesync.conf"],
       "conffiles: the config and the two site files")
    fields = subprocess.run(["dpkg-deb", "-f", deb], capture_output=True,
                            text=True, check=True).stdout
    ok(re.search(r"(?m)^Depends:.*\badduser\b", fields), "Depends: adduser")
    ok(not os.path.exists(os.path.join(ctl, "config")) and
       not os.path.exists(os.path.join(ctl, "templates")), "no debconf")
    post = open(os.path.join(ctl, "postinst")).read()
    ok("adduser --system" in post and "install -d -o pricesync -g pricesync -m 0750 /var/lib/pricesync" in post
       and "dpkg-statoverride --update --add root pricesync 0640" in post,
       "postinst: the system user, /var/lib/pricesync 0750, the config's group")
    ok(re.search(r"deb-systemd-helper .*enable.*pricesync-sync\.socket", post)
       or "pricesync-sync.socket" in post,
       "postinst enables the sockets (dh_installsystemd)")
    ok("pricesync-cron.timer" in post, "postinst enables the timer")
    ok(not re.search(r"deb-systemd-invoke \$_dh_action '?pricesync-cron\.service", post),
       "postinst never starts pricesync-cron.service (a sync at install)")
    rm = open(os.path.join(ctl, "postrm")).read()
    ok('PRICESYNC_PURGE_DB' in rm and "rm -rf /var/lib/pricesync" in rm and
       "dpkg-statoverride --remove /etc/pricesync.conf" in rm,
       "postrm: purge keeps the database unless PRICESYNC_PURGE_DB=yes")


def verify(x, top):
    if not SA or not os.path.exists("/lib/systemd/system/sysinit.target"):
        pstest.skip("systemd-analyze verify of the packaged units",
                    "no systemd-analyze or systemd units here")
        return
    root = os.path.join(top, "vroot")
    shutil.copytree(x, root, symlinks=True)
    have = set(os.listdir(os.path.join(root, "lib/systemd/system")))
    for f in os.listdir("/lib/systemd/system"):
        if f not in have:
            src = os.path.join("/lib/systemd/system", f)
            dst = os.path.join(root, "lib/systemd/system", f)
            if os.path.islink(src) or os.path.isfile(src):
                shutil.copy2(src, dst, follow_symlinks=False)
            else:
                shutil.copytree(src, dst, symlinks=True)
    env = dict(os.environ, MANPATH=os.path.join(root, "usr/share/man"))
    p = subprocess.run([SA, "verify", "--root=" + root] +
                       [os.path.join(root, "lib/systemd/system", u) for u in UNITS],
                       env=env, capture_output=True, text=True, timeout=120)
    out = (p.stdout + p.stderr).strip()
    if not ok(p.returncode == 0 and out == "",
              "systemd-analyze verify passes for the packaged units"):
        pstest.diag(out)


def sanitizer_build():
    if os.environ.get("PS_SANITIZERS") == "1":
        return True
    try:
        with open(os.path.join(pstest.builddir, "config.status")) as fh:
            return "--enable-sanitizers" in fh.read()
    except OSError:
        return False


def main():
    if os.environ.get("PS_DISTCHECK"):
        pstest.skip_all("in make distcheck: the main build ran t-deb")
    if sanitizer_build():
        pstest.skip_all("a sanitizer build: the package has its own flags; "
                        "the main build ran t-deb")
    missing = [t for t in TOOLS if not shutil.which(t)]
    if missing:
        pstest.skip_missing("no %s (apt-get install debhelper lintian "
                            "dpkg-dev)" % " ".join(missing))
    p = subprocess.run(["dpkg-checkbuilddeps",
                        os.path.join(pstest.srcdir, "debian", "control")],
                       capture_output=True, text=True)
    if p.returncode != 0:
        pstest.skip_missing("build dependencies missing: " + p.stderr.strip())
    top = tempfile.mkdtemp(prefix="ps-deb-")
    try:
        deb, log = build(os.path.join(top, "out"))
        if deb:
            lintian(log)
            x = os.path.join(top, "x")
            subprocess.run(["dpkg-deb", "-x", deb, x], check=True)
            contents(deb, x)
            control(deb, os.path.join(top, "ctl"))
            verify(x, top)
    finally:
        if os.environ.get("PS_KEEP"):
            pstest.diag("kept", top)
        else:
            shutil.rmtree(top, ignore_errors=True)
    return pstest.done()


if __name__ == "__main__":
    sys.exit(main())
