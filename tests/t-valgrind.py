#!/usr/bin/env python3
"""t-valgrind: the CLI and the C unit tests under valgrind; any error fails.

Runs `pricesync sync --json` against the fake (60 symbols, with a retried
503, a malformed batch, a truncated batch, a dropped symbol, a row without
a price and a profile lookup), a rejected key, `list --json`, `status`,
`history`, `backfill` (the same faults hit history requests) and
`history --daily`, and every C unit test binary tests/t-* of the build, each under
`valgrind --error-exitcode=99 --leak-check=full
--errors-for-leak-kinds=definite`. Skipped when valgrind is missing or the
build uses sanitizers (PS_SANITIZERS=1, or __asan symbols in the binary).
"""

import glob
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(
    os.environ.get("top_srcdir")
    or os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
import pstest as T  # noqa: E402

KEY = "K-test-valgrind"
VG = ["valgrind", "--error-exitcode=99", "--leak-check=full",
      "--errors-for-leak-kinds=definite", "--track-fds=no", "-q"]


def sanitized(binary):
    if os.environ.get("PS_SANITIZERS") == "1":
        return True
    try:
        out = subprocess.run(["nm", binary], capture_output=True, text=True,
                             timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "__asan" in out or "__ubsan" in out


# With -q valgrind prints only what is wrong; these lines are notes about
# big mappings (LMDB's map), not errors.
BENIGN = ("Warning: set address range perms", "Warning: noted but unhandled")


def vg_reports(err):
    return [ln for ln in (err or "").splitlines()
            if re.match(r"==\d+== \S", ln) and not any(b in ln for b in BENIGN)]


def vg_ok(rc, err, name):
    """No valgrind error: not its exit code 99, not a signal (valgrind
    passes a crash on: rc < 0), not a timeout, and no report on stderr."""
    reports = vg_reports(err)
    r = T.ok(rc is not None and rc >= 0 and rc != 99 and not reports, name)
    if not r:
        T.diag("exit %r" % (rc,))
        for ln in (reports or (err or "").splitlines())[:60]:
            T.diag(ln)
    return r


def test_cli():
    """the CLI under valgrind: sync with faults, list, status, history"""
    with T.Fake(key=KEY) as f, T.Workdir(f, api_key=KEY) as w:
        w.write_conf(batch_size=10, concurrency=4, retries=1, timeout_s=20)
        symbols = T.syms("V", 58) + ["VOD.L", "SAP.DE"]
        rc, out, err = w.import_symbols(symbols)
        vg_ok(rc, err, "import")
        T.eq(rc, 0, "import exits 0")
        f.control({"drop": ["V045"], "no_price": ["V050"],
                   "fail": [{"match": "V005", "status": 503, "times": 1},
                            {"match": "V015", "kind": "malformed", "times": -1},
                            {"match": "V025", "kind": "truncated", "times": -1}]})
        rc, out, err = w.cli("sync", "--json", timeout=600)
        ev = T.parse_ndjson(out)
        vg_ok(rc, err, "sync --json with faults: no valgrind error")
        T.events_ok(ev, "sync events follow the rules")
        T.eq(rc, 3, "sync exits 3 (some failed)")
        for args in (["list", "--json"], ["list"], ["status"],
                     ["history", "V000"], ["history", "V000", "--csv"],
                     ["backfill", "--json", "--days", "30"],
                     ["history", "V000", "--daily"],
                     ["add", "V000", "--quantity", "5"], ["remove", "V001"],
                     ["add", "bad symbol!"], ["frobnicate"], ["--help"]):
            rc, out, err = w.cli(*args, timeout=300)
            vg_ok(rc, err, "pricesync %s" % " ".join(args))
        f.control({"key": "other"})
        rc, out, err = w.cli("sync", "--json", timeout=600)
        vg_ok(rc, err, "sync with a rejected key")
        T.eq(T.terminal(T.parse_ndjson(out)).get("code"), "upstream_auth",
             "it ends upstream_auth")


def test_unit():
    """the C unit tests under valgrind"""
    bins = sorted(b for b in glob.glob(os.path.join(T.builddir, "tests", "t-*"))
                  if os.access(b, os.X_OK) and not os.path.splitext(b)[1])
    if not T.ok(bins, "C unit tests built in %s/tests" % T.builddir):
        return
    for b in bins:
        try:
            p = subprocess.run(VG + [b], capture_output=True, text=True,
                               timeout=900, cwd=T.builddir)
            rc, err = p.returncode, p.stderr
        except subprocess.TimeoutExpired:
            rc, err = None, "timed out"
        vg_ok(rc, err, "%s: no valgrind error" % os.path.basename(b))
        if rc not in (0, 99, None):
            T.diag("%s exits %d (its own test failures)" % (os.path.basename(b), rc))


def main():
    if not shutil.which("valgrind"):
        T.skip_missing("valgrind not found")
    T.need_cli()
    if sanitized(T.cli_path()):
        T.skip_all("built with sanitizers")
    os.environ["PS_WRAPPER"] = " ".join(VG)
    T.scenario(test_cli)
    T.scenario(test_unit)
    return T.done()


if __name__ == "__main__":
    sys.exit(main())
