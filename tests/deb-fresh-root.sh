#!/bin/sh
# deb-fresh-root.sh: the Debian package, from a clean clone to a purge, in a
# fresh Debian 12 root (debootstrap bookworm minbase, no systemd running).
# Too slow for the suite (apt fetches nginx and friends from Debian's
# mirror); run it by hand, as root, on a Debian 12 machine with the build
# dependencies (debian/control), lintian and iproute2:
#
#   tests/deb-fresh-root.sh [ROOT]      ROOT defaults to /var/tmp/ps-deb-root
#   PS_BASE_TAR=base.tar ...            start from a tarball of a fresh
#                                       debootstrap instead of making one
#   PS_DEB=pricesync_V_amd64.deb ...    install this .deb instead of building
#
# Steps, each checked (the script exits 1 at the end if any failed):
#  1. git clone HEAD of this checkout to a temp dir and build the .deb there
#     with debian/make-deb.sh (dpkg-buildpackage -us -uc -b, then lintian
#     --fail-on error,warning);
#  2. `apt-get install ./pricesync_*.deb` in ROOT (chrooted, /proc and /dev
#     mounted, a policy-rc.d so no daemon starts by itself in the chroot);
#  3. the pricesync user, /var/lib/pricesync (pricesync:pricesync 0750),
#     /etc/pricesync.conf (a conffile, root:pricesync 0640), the files and
#     the units enabled (deb-systemd-helper's links), `pricesync --version`;
#  4. nginx and spawn-fcgi installed from Debian; in a private network
#     namespace (so port 8080 of this machine is never used): the fake FMP
#     (tests/fake_fmp.py, run by this machine's python3), both programs
#     started by the installed spawn-fcgi.sh as pricesync, nginx with the
#     installed site file linked from sites-enabled; `pricesync add` and
#     `pricesync status` as pricesync, then through nginx: the dashboard,
#     status, prices, metrics and a streamed sync to `complete`;
#  5. `apt-get purge pricesync`: no file of the package is left but the
#     database (kept, with its message) and the user; then a reinstall and
#     `PRICESYNC_PURGE_DB=yes apt-get purge` removes the database too.
# ROOT is left in place for inspection.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
root=${1:-/var/tmp/ps-deb-root}
mirror=${PS_MIRROR:-http://deb.debian.org/debian}
ns=ps-deb-$$
key=deb-fresh-root-key
fail=0

say() { echo "deb-fresh-root.sh: $*"; }
check() { # check NAME COMMAND...: one checked step
	name=$1
	shift
	if "$@"; then say "ok   - $name"; else say "FAIL - $name"; fail=1; fi
}

[ "$(id -u)" -eq 0 ] || { say "run as root"; exit 1; }
if [ -e "$root" ]; then
	say "'$root' exists; remove it or name another"
	exit 1
fi
work=$(mktemp -d /var/tmp/ps-deb-work.XXXXXX)
mounted=""
fake_pid=""
undo() {
	[ -z "$fake_pid" ] || kill "$fake_pid" 2>/dev/null || true
	if [ -d "$root/usr/share/pricesync" ]; then
		in_ns "/usr/share/pricesync/etc/spawn-fcgi.sh stop" >/dev/null 2>&1 || true
	fi
	[ ! -x "$root/usr/sbin/nginx" ] || in_ns "nginx -s quit" >/dev/null 2>&1 || true
	ip netns del "$ns" 2>/dev/null || true
	for m in $mounted; do umount -l "$m" 2>/dev/null || true; done
	rm -rf "$work"
}
trap undo EXIT
trap 'exit 1' INT TERM

in_root() {
	chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive sh -c "$1"
}
# The same, in the private network namespace (servers and clients only:
# apt needs this machine's network).
in_ns() {
	ip netns exec "$ns" chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb \
		LANG=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -c "$1"
}

# ---- 1. the .deb from a clean clone ----
t0=$(date +%s)
if [ -n "${PS_DEB:-}" ]; then
	deb=$PS_DEB
else
	git clone -q "$top" "$work/clone"
	check "the .deb builds from a clean clone, lintian clean" \
		sh -c "'$work/clone/debian/make-deb.sh' '$work/out' >'$work/build.log' 2>&1"
	deb=$(ls "$work"/out/pricesync_*_"$(dpkg --print-architecture)".deb 2>/dev/null | head -n 1)
	if [ -z "$deb" ]; then
		tail -n 30 "$work/build.log"
		say "no .deb built"
		exit 1
	fi
	grep -E '^[EW]: ' "$work/build.log" || true
	say "built $(basename "$deb") in $(($(date +%s) - t0)) s"
fi

# ---- 2. a fresh root and apt-get install ----
mkdir -p "$root"
if [ -n "${PS_BASE_TAR:-}" ]; then
	tar -C "$root" -xf "$PS_BASE_TAR"
else
	debootstrap --variant=minbase bookworm "$root" "$mirror"
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
for m in proc dev dev/pts; do mkdir -p "$root/$m"; done
mount -t proc proc "$root/proc" && mounted="$root/proc $mounted"
mount --bind /dev "$root/dev" && mounted="$root/dev $mounted"
mount -t devpts devpts "$root/dev/pts" && mounted="$root/dev/pts $mounted"
# A chroot must not start daemons on the host's network (policy-rc.d(8)):
# nginx's own postinst would take port 80 otherwise.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
mkdir -p "$root/root/debs"
cp "$deb" "$root/root/debs/"
debname=$(basename "$deb")
[ ! -d "$root/run/systemd/system" ] || { say "systemd runs in the root?"; exit 1; }
in_root "apt-get -q update" >"$work/apt.log" 2>&1
check "apt-get install ./$debname in a fresh root" \
	in_root "cd /root/debs && apt-get -y -q install ./$debname >>/root/apt.log 2>&1"

# ---- 3. what the package set up ----
pw=$(in_root "getent passwd pricesync" || true)
say "user: $pw"
uid=$(echo "$pw" | cut -d: -f3)
check "the pricesync system user (uid $uid < 1000, home /var/lib/pricesync, nologin)" \
	sh -c "[ -n '$uid' ] && [ '$uid' -lt 1000 ] && echo '$pw' | grep -q ':/var/lib/pricesync:/usr/sbin/nologin\$'"
check "the pricesync group" in_root "getent group pricesync >/dev/null"
# stat in the root: its uids are not this machine's.
check "/var/lib/pricesync is pricesync:pricesync 0750" \
	sh -c "[ \"\$(chroot '$root' stat -c '%U:%G %a' /var/lib/pricesync)\" = 'pricesync:pricesync 750' ]"
check "/etc/pricesync.conf is root:pricesync 0640" \
	sh -c "[ \"\$(chroot '$root' stat -c '%U:%G %a' /etc/pricesync.conf)\" = 'root:pricesync 640' ]"
conffiles=$(in_root "dpkg-query -W -f='\${Conffiles}' pricesync")
check "conffiles: /etc/pricesync.conf and both site files" sh -c \
	"echo '$conffiles' | grep -q '/etc/pricesync.conf ' &&
	 echo '$conffiles' | grep -q '/etc/nginx/sites-available/pricesync ' &&
	 echo '$conffiles' | grep -q '/etc/apache2/sites-available/pricesync.conf '"
for f in /usr/bin/pricesync /usr/libexec/pricesync/sync \
	/usr/libexec/pricesync/sync-status /usr/share/pricesync/etc/spawn-fcgi.sh; do
	check "$f is executable" test -x "$root$f"
done
for f in /usr/share/pricesync/www/index.html /usr/share/pricesync/www/app.js \
	/usr/share/man/man1/pricesync.1.gz /usr/share/man/man5/pricesync.conf.5.gz \
	/usr/share/man/man8/pricesync-fcgi.8.gz /lib/systemd/system/pricesync-sync.socket \
	/lib/systemd/system/pricesync-cron.timer /etc/nginx/sites-available/pricesync \
	/etc/apache2/sites-available/pricesync.conf /usr/share/doc/pricesync/README.Debian.gz; do
	check "$f is installed" test -f "$root$f"
done
for l in sockets.target.wants/pricesync-sync.socket \
	sockets.target.wants/pricesync-sync-status.socket \
	timers.target.wants/pricesync-cron.timer; do
	check "enabled for systemd: $l" test -L "$root/etc/systemd/system/$l"
done
check "no service enabled on its own" sh -c \
	"! ls '$root'/etc/systemd/system/*.wants/pricesync-*.service 2>/dev/null | grep -q ."
ver=$(in_root "pricesync --version" || true)
say "pricesync --version: $ver"
check "pricesync --version says $ver" sh -c "echo '$ver' | grep -q '^pricesync [0-9]'"
check "no /usr/local path in the installed units and site files" sh -c \
	"! grep -n '^[^#]*/usr/local' '$root'/lib/systemd/system/pricesync-* \
	   '$root/etc/nginx/sites-available/pricesync' \
	   '$root/etc/apache2/sites-available/pricesync.conf'"

# ---- 4. nginx + spawn-fcgi, in a private network namespace ----
in_root "apt-get -y -q install nginx spawn-fcgi curl >>/root/apt.log 2>&1"
ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" python3 "$top/tests/fake_fmp.py" --ready-file "$work/fake.port" \
	--key "$key" >"$work/fake.log" 2>&1 &
fake_pid=$!
i=0
while [ ! -s "$work/fake.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
port=$(cat "$work/fake.port")
cat >>"$root/etc/pricesync.conf" <<EOF
fmp_base_url = http://127.0.0.1:$port
fmp_api_key = $key
min_interval_s = 0
EOF
check "pricesync add, as pricesync" \
	in_root "runuser -u pricesync -- pricesync add AAPL MSFT VOD.L >/dev/null"
st=$(in_root "runuser -u pricesync -- pricesync status" || true)
say "pricesync status (as pricesync): $st"
check "pricesync status as pricesync: 3 symbols, never synced" sh -c \
	"echo '$st' | grep -q '\"symbols\":3' && echo '$st' | grep -q '\"last_synced\":null'"
check "another user cannot read /etc/pricesync.conf" \
	in_root "! runuser -u nobody -- cat /etc/pricesync.conf 2>/dev/null"
ln -s ../sites-available/pricesync "$root/etc/nginx/sites-enabled/pricesync"
check "spawn-fcgi.sh starts both programs as pricesync" \
	in_ns "PRICESYNC_USER=pricesync /usr/share/pricesync/etc/spawn-fcgi.sh start >/dev/null"
check "nginx -t accepts the installed site file" in_ns "nginx -t 2>/dev/null"
check "nginx starts" in_ns "nginx"
i=0
until in_ns "curl -s -o /dev/null http://127.0.0.1:8080/" || [ $i -ge 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
for path in / /api/sync/status /api/prices /api/metrics; do
	code=$(in_ns "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8080$path")
	check "GET $path through nginx -> $code" [ "$code" = 200 ]
done
last=$(in_ns "curl -sN -X POST http://127.0.0.1:8080/api/sync | tail -n 1")
say "POST /api/sync ended with: $last"
check "POST /api/sync streams a sync to complete (program sync)" \
	sh -c "echo '$last' | grep -q '\"type\":\"complete\"'"
st=$(in_ns "curl -s http://127.0.0.1:8080/api/sync/status")
check "status through nginx: last_synced set (program sync-status)" \
	sh -c "echo '$st' | grep -q '\"last_synced\":\"20'"
m=$(in_ns "curl -s http://127.0.0.1:8080/api/metrics")
check "metrics: one complete sync counted" \
	sh -c "echo '$m' | grep -q '^pricesync_syncs_total{result=\"complete\"} 1\$'"
check "the database files belong to pricesync" sh -c \
	"[ \"\$(chroot '$root' stat -c %U /var/lib/pricesync/data.mdb)\" = pricesync ]"
in_ns "/usr/share/pricesync/etc/spawn-fcgi.sh stop" >/dev/null
in_ns "nginx -s quit" || true
kill "$fake_pid" 2>/dev/null || true
fake_pid=""
# What this script made, not the package: the site link and the runtime
# directory of spawn-fcgi.sh (sockets, pid files, logs).
rm -f "$root/etc/nginx/sites-enabled/pricesync"
rm -rf "$root/run/pricesync"

# ---- 5. purge ----
in_root "dpkg-query -L pricesync" >"$work/files"
in_root "apt-get -y -q purge pricesync" >"$work/purge.log" 2>&1
pst=$(in_root "dpkg-query -W -f='\${db:Status-Status}' pricesync 2>/dev/null" || true)
check "apt-get purge pricesync: the package is gone (status '$pst')" \
	sh -c "[ '$pst' != installed ] && [ '$pst' != config-files ]"
check "purge says it kept the database" grep -q "kept the database in /var/lib/pricesync" "$work/purge.log"
left=""
while read -r f; do
	[ "$f" != /. ] || continue
	[ -e "$root$f" ] || [ -L "$root$f" ] || continue
	# A directory (or usrmerge's /lib link) stays when another package
	# owns it.
	in_root "dpkg-query -S '$f' >/dev/null 2>&1" && continue
	left="$left $f"
done <"$work/files"
check "purge leaves no file of the package (left:${left:- none})" [ -z "$left" ]
check "purge leaves no unit enabled" sh -c \
	"! ls '$root'/etc/systemd/system/*.wants/pricesync-* 2>/dev/null | grep -q ."
check "purge removes the statoverride" \
	in_root "! dpkg-statoverride --list /etc/pricesync.conf >/dev/null"
check "purge keeps the database (/var/lib/pricesync/data.mdb)" \
	test -f "$root/var/lib/pricesync/data.mdb"
say "kept after purge: $(cd "$root" && ls -d var/lib/pricesync/* 2>/dev/null | tr '\n' ' ')and the user: $(in_root 'getent passwd pricesync' || echo none)"
check "reinstall over the kept database" \
	in_root "cd /root/debs && apt-get -y -q install ./$debname >>/root/apt.log 2>&1"
st=$(in_root "runuser -u pricesync -- pricesync status" || true)
check "the kept database serves again (3 symbols)" \
	sh -c "echo '$st' | grep -q '\"symbols\":3'"
in_root "PRICESYNC_PURGE_DB=yes apt-get -y -q purge pricesync" >>"$work/purge.log" 2>&1
check "PRICESYNC_PURGE_DB=yes apt-get purge removes the database" \
	test ! -e "$root/var/lib/pricesync"

say "done in $(($(date +%s) - t0)) s; ROOT left in $root"
[ $fail -eq 0 ] && say "all checks passed" || say "SOME CHECKS FAILED"
exit $fail
