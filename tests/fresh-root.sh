#!/bin/sh
# fresh-root.sh: the README's two commands as a new user meets them, on a
# fresh Debian 12 root (debootstrap bookworm, nothing installed beyond it,
# no systemd), with the clone in /root/pricesync (mode 0700) and run as root.
# Too slow for the suite (it installs everything from Debian's mirror); run it
# by hand, as root, on a machine with debootstrap:
#
#   tests/fresh-root.sh [ROOT]          ROOT defaults to /var/tmp/ps-fresh-root
#   PS_BASE_TAR=base.tar tests/fresh-root.sh ROOT   start from a tarball of a
#                                       fresh debootstrap instead of making one
#   PS_EXTRA_CA=bundle.pem ...          a network whose TLS is intercepted: Node
#                                       in the root trusts these CAs too (npm)
#
# It clones HEAD of this checkout into ROOT/root/pricesync, runs `./run.sh`
# and checks the dashboard and both endpoints on 127.0.0.1:8080 (port 8080
# must be free on this machine), `./run.sh stop`, then `./check.sh`, and
# prints how long each took. ROOT is left in place for inspection.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
root=${1:-/var/tmp/ps-fresh-root}
mirror=${PS_MIRROR:-http://deb.debian.org/debian}

[ "$(id -u)" -eq 0 ] || { echo "fresh-root.sh: run as root"; exit 1; }
if [ -e "$root" ]; then
	echo "fresh-root.sh: '$root' exists; remove it or name another"
	exit 1
fi
mkdir -p "$root"
t0=$(date +%s)
if [ -n "${PS_BASE_TAR:-}" ]; then
	tar -C "$root" -xf "$PS_BASE_TAR"
else
	debootstrap --variant=minbase bookworm "$root" "$mirror"
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"

mounted=""
undo() {
	for m in $mounted; do umount -l "$m" 2>/dev/null || true; done
}
trap undo EXIT INT TERM
for m in proc sys dev dev/pts dev/shm; do
	mkdir -p "$root/$m"
done
mount -t proc proc "$root/proc" && mounted="$root/proc $mounted"
mount -t sysfs sys "$root/sys" && mounted="$root/sys $mounted"
mount --bind /dev "$root/dev" && mounted="$root/dev $mounted"
mount -t devpts devpts "$root/dev/pts" && mounted="$root/dev/pts $mounted"
mount -t tmpfs shm "$root/dev/shm" && mounted="$root/dev/shm $mounted"

extra_ca=""
if [ -n "${PS_EXTRA_CA:-}" ]; then
	cp "$PS_EXTRA_CA" "$root/etc/ps-extra-ca.pem"
	extra_ca="NODE_EXTRA_CA_CERTS=/etc/ps-extra-ca.pem"
fi
git clone -q "$top" "$root/root/pricesync"
chmod 0700 "$root/root"
in_root() {
	chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 $extra_ca \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		sh -c "cd /root/pricesync && $1"
}
echo "fresh-root.sh: '$root' ready in $(($(date +%s) - t0)) s; /root is $(stat -c %a "$root/root")"

t1=$(date +%s)
in_root ./run.sh
t2=$(date +%s)
fail=0
for path in / /api/sync/status /api/prices; do
	code=$(in_root "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8080$path")
	echo "fresh-root.sh: GET $path -> $code"
	[ "$code" = 200 ] || fail=1
done
last=$(in_root "curl -sN -X POST http://127.0.0.1:8080/api/sync | tail -n 1")
echo "fresh-root.sh: POST /api/sync ended with: $last"
case "$last" in *'"type":"complete"'*) ;; *) fail=1 ;; esac
in_root "./run.sh stop"

t3=$(date +%s)
rc=0
in_root ./check.sh >"$root/check.log" 2>&1 || rc=$?
t4=$(date +%s)
tail -n 3 "$root/check.log"
skips=$(cat "$root"/root/pricesync/_build/*/tests/*.trs 2>/dev/null |
	grep -c '^:test-result: SKIP' || true)
echo "fresh-root.sh: run.sh took $((t2 - t1)) s (endpoints: $([ $fail -eq 0 ] && echo ok || echo FAILED))"
echo "fresh-root.sh: check.sh took $((t4 - t3)) s, exit $rc, $skips skipped points; log: $root/check.log"
[ $fail -eq 0 ] && [ $rc -eq 0 ]
