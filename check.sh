#!/bin/sh
# The README's test command: installs what is missing (Debian 12, as root),
# builds, and runs the whole suite: a -Werror build with `make check`
# (unit, end-to-end, valgrind, nginx, Apache, Chromium), an ASan+UBSan build
# with `make check`, and `make distcheck`. Ends with "N passed, N failed".
#
#   ./check.sh            everything
#   ./check.sh quick      the -Werror build's `make check` only
set -u
cd "$(dirname "$0")" || exit 1
top=$(pwd)
mode=${1:-all}

pkgs="build-essential autoconf automake pkg-config libfcgi-dev libfcgi-bin
libcurl4-openssl-dev libcjson-dev liblmdb-dev lmdb-utils nginx apache2
spawn-fcgi python3 curl ca-certificates valgrind chromium clang-format
clang libclang-rt-14-dev prometheus apache2-utils debhelper lintian systemd"
missing=""
for p in $pkgs; do
	dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
# Node from elsewhere (NodeSource bundles npm, and conflicts with Debian's)
# serves as well as Debian's nodejs and npm.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
	echo "check.sh: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q && apt-get install -y -q --no-install-recommends $missing ||
		{ echo "check.sh: apt-get failed"; exit 1; }
fi
# Debian's nginx and apache2 packages start their services when a service
# manager exists; the tests start their own on free ports.

# playwright-core only: the browser is Debian's /usr/bin/chromium. The pin in
# tests/node/package.json must suit this Node (Debian 12's is 18): say which
# versions run, and stop here with the reason when they do not fit.
node tests/node/versions.mjs >/dev/null 2>&1
if [ $? -eq 2 ]; then
	rm -rf tests/node/node_modules
	(cd tests/node && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
		npm install --no-audit --no-fund --no-save --loglevel=error) ||
		{ echo "check.sh: npm install in tests/node failed"; exit 1; }
fi
versions=$(node tests/node/versions.mjs) ||
	{ echo "check.sh: $versions"; exit 1; }
echo "check.sh: $versions, $(/usr/bin/chromium --version 2>/dev/null)"

jobs=$(nproc 2>/dev/null || echo 2)
autoreconf -fi >/dev/null 2>&1 || { autoreconf -fi; exit 1; }

status=0
build() { # dir, configure flags...
	dir=$1; shift
	rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" &&
		"$top/configure" -q "$@" && make -s -j"$jobs" &&
		make -j"$jobs" check; rc=$?
	cd "$top"
	[ $rc -eq 0 ] || status=1
}

build "$top/_build/werror" --enable-werror
if [ "$mode" = all ]; then
	export PS_SANITIZERS=1
	build "$top/_build/sanitizers" --enable-werror --enable-sanitizers
	unset PS_SANITIZERS
	# The tarball has no node_modules: the browser test uses the checkout's.
	(cd "$top/_build/werror" && PS_DISTCHECK=1 PS_NODE_DIR="$top/tests/node" \
		make -j"$jobs" distcheck \
		DISTCHECK_CONFIGURE_FLAGS=--enable-werror) || status=1
fi

# automake's summary is per file; CI reads test points.
pass=0
fail=0
for trs in $(find "$top/_build" -name '*.trs' 2>/dev/null); do
	p=$(grep -c '^:test-result: \(PASS\|SKIP\|XFAIL\)' "$trs")
	f=$(grep -c '^:test-result: \(FAIL\|XPASS\|ERROR\)' "$trs")
	pass=$((pass + p))
	fail=$((fail + f))
done
[ $status -eq 0 ] || [ $fail -gt 0 ] || fail=1
echo "$pass passed, $fail failed"
exit $status
