#!/usr/bin/env python3
"""t-fuzz: the short fuzz pass. Builds the libFuzzer targets (`make fuzz`,
HACKING.md "Fuzzing"), replays every committed input of each (its seeds in
fuzz/corpus/NAME/, the crashes it once found in fuzz/regress/NAME/, and
tests/fixtures/ for the fmp-* targets), then fuzzes each for a few seconds,
so a parser change that brings back an old crash, or a new crash a short
run finds, fails the suite.

Needs clang-14 with libFuzzer (Debian: clang-14, libclang-rt-14-dev); a
skip without them, a failure under CI=true.

Knobs (environment):
    PS_FUZZ_SECONDS=S     fuzzing time per target (default 3; 600 for the
                          10-minute runs of the note)
    PS_FUZZ_TARGETS="a b" only these targets
    PS_FUZZ_KEEP=DIR      keep each target's grown corpus in DIR/NAME
Targets run one at a time, under nice: the fuzzing is CPU-bound.
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(
    os.environ.get("top_srcdir")
    or os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
import pstest as T  # noqa: E402

SECONDS = int(float(os.environ.get("PS_FUZZ_SECONDS") or 3))
ONLY = (os.environ.get("PS_FUZZ_TARGETS") or "").split()
KEEP = os.environ.get("PS_FUZZ_KEEP") or ""
FUZZDIR = os.path.join(T.srcdir, "fuzz")


def make_env():
    """The environment for a nested make: not the outer make's jobserver
    (its descriptors are not ours to use)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    env["LC_ALL"] = "C"
    return env


def make(*args, timeout=1800):
    return subprocess.run(["nice", "make", "-s"] + list(args),
                          cwd=T.builddir, env=make_env(),
                          stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout)


def has_libfuzzer(cc, tmp):
    """Whether cc links a fuzzer with ASan and UBSan (clang without
    libclang-rt-14-dev cannot)."""
    src = os.path.join(tmp, "probe.c")
    with open(src, "w") as fh:
        fh.write("#include <stddef.h>\n#include <stdint.h>\n"
                 "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\n"
                 "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)"
                 "{ return 0; }\n")
    try:
        p = subprocess.run([cc, "-fsanitize=fuzzer,address,undefined", "-o",
                            os.path.join(tmp, "probe"), src],
                           capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, str(e)
    return p.returncode == 0, p.stderr.strip()[-300:]


def seed_dirs(name):
    dirs = [os.path.join(FUZZDIR, "corpus", name),
            os.path.join(FUZZDIR, "regress", name)]
    if name.startswith("fmp-"):
        dirs.append(os.path.join(T.testsdir, "fixtures"))
    return [d for d in dirs if os.path.isdir(d)]


def files_in(dirs):
    out = []
    for d in dirs:
        out += sorted(p for p in glob.glob(os.path.join(d, "*"))
                      if os.path.isfile(p))
    return out


def show_failure(log, artdir):
    lines = log.splitlines()
    # The sanitizer's verdict and the frames in our own sources.
    keep = [ln for ln in lines if re.search(
        r"ERROR|runtime error|broken promise|SUMMARY|Base64", ln) or
        (re.match(r"\s+#\d+ ", ln) and
         re.search(r"/(lib|cgi|cli|fuzz)/[\w.-]+\.c:\d+", ln))]
    for ln in (keep or lines[-30:])[:60]:
        T.diag("  " + ln)
    for art in sorted(glob.glob(os.path.join(artdir, "*"))):
        with open(art, "rb") as fh:
            data = fh.read(400)
        T.diag("  input %s: %r" % (os.path.basename(art), data))


def run(prog, args, timeout):
    try:
        p = subprocess.run(["nice", prog] + args, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, errors="replace",
                           timeout=timeout)
        return p.returncode, p.stdout + p.stderr
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"") + (e.stderr or b"")
        if isinstance(out, bytes):
            out = out.decode(errors="replace")
        return None, out + "\n[t-fuzz: killed after %d s]" % timeout


def stats(log):
    """(executions, cov, ft) from libFuzzer's last lines."""
    runs = re.findall(r"stat::number_of_executed_units: (\d+)", log)
    cov = re.findall(r"^#\d+\s+\w+\s+cov: (\d+) ft: (\d+)", log, re.M)
    return (int(runs[-1]) if runs else None,
            int(cov[-1][0]) if cov else None,
            int(cov[-1][1]) if cov else None)


def one(name, tmp):
    prog = os.path.join(T.builddir, "fuzz", "fuzz-" + name)
    if not T.ok(os.access(prog, os.X_OK), "%s: built" % name):
        return
    seeds = seed_dirs(name)
    T.ok(os.path.isdir(os.path.join(FUZZDIR, "corpus", name)) and
         files_in([os.path.join(FUZZDIR, "corpus", name)]),
         "%s: has committed seeds in fuzz/corpus/%s" % (name, name))
    artdir = os.path.join(tmp, "art-" + name)
    os.makedirs(artdir)
    inputs = files_in(seeds)
    rc, log = run(prog, ["-artifact_prefix=" + artdir + "/",
                         "-timeout=10", "-rss_limit_mb=2048"] + inputs, 600)
    if not T.ok(rc == 0, "%s: replays its %d committed inputs" %
                (name, len(inputs))):
        show_failure(log, artdir)
        return
    work = os.path.join(KEEP, name) if KEEP else os.path.join(tmp, name)
    os.makedirs(work, exist_ok=True)
    rc, log = run(prog, ["-max_total_time=%d" % SECONDS,
                         "-artifact_prefix=" + artdir + "/",
                         "-timeout=10", "-rss_limit_mb=2048",
                         "-print_final_stats=1", work] + seeds,
                  SECONDS + 600)
    n, cov, ft = stats(log)
    crashes = glob.glob(os.path.join(artdir, "*"))
    if not T.ok(rc == 0 and not crashes,
                "%s: fuzzed %d s, %s runs, cov %s ft %s, no crash" %
                (name, SECONDS, n, cov, ft)):
        show_failure(log, artdir)


def main():
    r = make("fuzz-list", timeout=300)
    # By prefix: make may first print the commands that regenerate the
    # Makefile.
    said = dict(ln.partition(": ")[::2] for ln in r.stdout.splitlines()
                if ln.startswith("fuzz-"))
    if r.returncode != 0 or "fuzz-cc" not in said:
        T.bail("make fuzz-list failed: %s" % (r.stdout + r.stderr)[-500:])
    cc, names = said["fuzz-cc"].strip(), said.get("fuzz-targets", "").split()
    tmp = tempfile.mkdtemp(prefix="ps-fuzz-")
    try:
        good, why = has_libfuzzer(cc, tmp)
        if not good:
            T.skip_missing("%s with libFuzzer (Debian: clang-14, "
                           "libclang-rt-14-dev): %s" % (cc, why))
        r = make("fuzz")
        if not T.ok(r.returncode == 0, "make fuzz builds %d targets" %
                    len(names)):
            for ln in (r.stdout + r.stderr).splitlines()[-40:]:
                T.diag(ln)
            return T.done()
        for d in glob.glob(os.path.join(FUZZDIR, "corpus", "*")):
            T.ok(os.path.basename(d) in names,
                 "fuzz/corpus/%s belongs to a target in FUZZ_TARGETS" %
                 os.path.basename(d))
        for name in names:
            if ONLY and name not in ONLY:
                continue
            one(name, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return T.done()


if __name__ == "__main__":
    sys.exit(main())
