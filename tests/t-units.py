#!/usr/bin/env python3
"""t-units: `systemd-analyze verify` of every shipped unit (etc/*.socket,
*.service, *.timer), and the hardening each service must keep.

verify runs with --root on a throwaway tree laid out as an install with
the units' own paths (--prefix=/usr/local): the built programs and man
pages where ExecStart= and Documentation= say, the units in
/etc/systemd/system and a copy of this machine's systemd units (the
targets they name). So a missing binary, a bad key or a unit that names
an unknown one fails here: the test fails on a non-zero exit and on any
line verify prints (an unknown key is only a warning there). It also
prints `systemd-analyze security --offline=true` figures for each
service. Where systemd-analyze is missing (no systemd) it skips, saying
so, unless CI=true.
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), "tests"))
import pstest  # noqa: E402
from pstest import eq, ok  # noqa: E402

SA = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"
HOST_UNITS = "/lib/systemd/system"
PREFIX = "usr/local"
HARDENING = ("NoNewPrivileges=yes", "PrivateTmp=yes", "ProtectSystem=strict",
             "ProtectHome=yes", "User=pricesync",
             "ReadWritePaths=/usr/local/var/lib/pricesync",
             "CapabilityBoundingSet=", "SystemCallFilter=@system-service")


def units():
    return sorted(glob.glob(os.path.join(pstest.srcdir, "etc", "pricesync-*.s*"))
                  + glob.glob(os.path.join(pstest.srcdir, "etc", "pricesync-*.timer")))


def make_root(top):
    """An install tree for verify --root: programs, man pages, units."""
    root = os.path.join(top, "root")
    for sub, names in (("bin", [("cli", "pricesync")]),
                       ("libexec/pricesync", [("cgi", "sync"), ("cgi", "sync-status")])):
        d = os.path.join(root, PREFIX, sub)
        os.makedirs(d, exist_ok=True)
        for bdir, n in names:
            shutil.copy2(os.path.join(pstest.builddir, bdir, n), d)
    for page in glob.glob(os.path.join(pstest.srcdir, "man", "*.[158]")):
        d = os.path.join(root, PREFIX, "share/man", "man" + page[-1])
        os.makedirs(d, exist_ok=True)
        shutil.copy2(page, d)
    shutil.copytree(HOST_UNITS, os.path.join(root, "lib/systemd/system"),
                    symlinks=True)
    etc = os.path.join(root, "etc/systemd/system")
    os.makedirs(etc)
    for u in units():
        shutil.copy2(u, etc)
    return root


def verify(root, names, tag):
    env = dict(os.environ, MANPATH=os.path.join(root, PREFIX, "share/man"))
    paths = [os.path.join(root, "etc/systemd/system", n) for n in names]
    p = subprocess.run([SA, "verify", "--root=" + root] + paths, env=env,
                       capture_output=True, text=True, timeout=120)
    out = (p.stdout + p.stderr).strip()
    if not ok(p.returncode == 0 and out == "",
              "%s: systemd-analyze verify exits 0 and prints nothing" % tag):
        pstest.diag("exit %d:\n%s" % (p.returncode, out))
    return p.returncode, out


def hardening(path):
    text = open(path).read()
    name = os.path.basename(path)
    missing = [h for h in HARDENING if not re.search(
        r"(?m)^%s\s*$" % re.escape(h), text)]
    ok(not missing, "%s: hardened (missing %r)" % (name, missing))
    fam = re.search(r"(?m)^RestrictAddressFamilies=(.*)$", text)
    ok(fam, "%s: RestrictAddressFamilies set (%s)"
       % (name, fam.group(1) if fam else None))
    if name == "pricesync-sync-status.service":
        ok(re.search(r"(?m)^PrivateNetwork=yes$", text),
           "%s: no network (read-only answers over its socket)" % name)


def security(root, name):
    p = subprocess.run([SA, "security", "--offline=true", "--root=" + root,
                        name], capture_output=True, text=True, timeout=120)
    m = re.search(r"Overall exposure level for \S+: ([\d.]+) (\w+)", p.stdout)
    if ok(m, "%s: systemd-analyze security gives a figure" % name):
        pstest.diag("%s: exposure %s %s" % (name, m.group(1), m.group(2)))
        ok(float(m.group(1)) <= 2.0,
           "%s: exposure %s is at most 2.0 (OK or SAFE)" % (name, m.group(1)))
    else:
        pstest.diag(p.stdout[-1500:] + p.stderr[-1500:])


def main():
    if not os.access(SA, os.X_OK):
        pstest.skip_missing("no systemd-analyze here (no systemd): the units "
                            "cannot be verified")
    if not os.path.isdir(HOST_UNITS) or not os.path.exists(
            os.path.join(HOST_UNITS, "sysinit.target")):
        pstest.skip_missing("no %s/sysinit.target: verify needs the "
                            "targets the units name" % HOST_UNITS)
    for prog in ("cli/pricesync", "cgi/sync", "cgi/sync-status"):
        if not os.access(os.path.join(pstest.builddir, prog), os.X_OK):
            pstest.skip_missing("%s is not built" % prog)
    names = [os.path.basename(u) for u in units()]
    eq(len(names), 6, "six units shipped (%s)" % " ".join(names))
    top = tempfile.mkdtemp(prefix="ps-units-")
    try:
        root = make_root(top)
        verify(root, names, "every unit")
        for n in names:
            verify(root, [n], n)
        for u in units():
            if u.endswith(".service"):
                hardening(u)
                security(root, os.path.basename(u))
        # The test can fail: a unit whose program is missing.
        bad = os.path.join(root, "etc/systemd/system/pricesync-sync.service")
        with open(bad) as fh:
            text = fh.read()
        with open(bad, "w") as fh:
            fh.write(text.replace("/libexec/pricesync/sync\n",
                                  "/libexec/pricesync/no-such\n"))
        env = dict(os.environ, MANPATH=os.path.join(root, PREFIX, "share/man"))
        p = subprocess.run([SA, "verify", "--root=" + root, bad], env=env,
                           capture_output=True, text=True, timeout=120)
        ok(p.returncode != 0 and "no-such" in p.stdout + p.stderr,
           "verify does fail on a unit whose ExecStart is missing")
    finally:
        if os.environ.get("PS_KEEP"):
            pstest.diag("kept", top)
        else:
            shutil.rmtree(top, ignore_errors=True)
    return pstest.done()


if __name__ == "__main__":
    sys.exit(main())
