#!/bin/sh
# make-deb.sh OUTDIR: builds the Debian package from this source tree
# (`make deb`). The tracked files (git ls-files, with their working-tree
# contents; or the whole tree outside git) are copied to a temporary
# directory, so a build directory, an in-tree ./configure or untracked
# files never reach the package and the tree is left as it was. Then
# `dpkg-buildpackage -us -uc -b` there, and the .deb, .buildinfo and
# .changes are moved to OUTDIR. DEB_BUILD_OPTIONS passes through (nocheck
# skips the unit tests, parallel=N). Set LINTIAN=no to skip lintian.
set -eu

out=${1:?usage: make-deb.sh OUTDIR}
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pricesync-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

mkdir "$tmp/pricesync"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$src" && git ls-files -z | xargs -0 cp --parents -t "$tmp/pricesync")
else
	(cd "$src" && tar -cf - --exclude=./_build --exclude=./deb \
		--exclude=./tests/node/node_modules .) | tar -xf - -C "$tmp/pricesync"
fi
(cd "$tmp/pricesync" && dpkg-buildpackage -us -uc -b)
changes=
for f in "$tmp"/*.deb "$tmp"/*.buildinfo "$tmp"/*.changes; do
	mv "$f" "$out/"
	echo "make-deb.sh: $out/$(basename "$f")"
	case $f in *.changes) changes=$out/$(basename "$f") ;; esac
done
if [ "${LINTIAN:-yes}" != no ] && command -v lintian >/dev/null; then
	lintian --fail-on error,warning --info "$changes"
fi
