#!/bin/sh
# run.sh: build, install and serve pricesync on http://127.0.0.1:8080, on a
# fresh Debian 12, as root, without systemd.
#
#   ./run.sh          install what is missing, build, `make install`
#                     (prefix /usr/local), then start everything in the
#                     background and return
#   ./run.sh stop     stop what run.sh started
#
# What runs (pid files, logs and configs in /run/pricesync):
#   - `sync` and `sync-status` under spawn-fcgi as www-data, on
#     /run/pricesync/sync.sock and sync-status.sock (etc/spawn-fcgi.sh);
#   - nginx with its own nginx.conf including the installed snippet
#     (/usr/local/share/pricesync/etc/nginx-pricesync.conf), daemonised;
#   - with no API key configured (no FMP_API_KEY in the environment and no
#     fmp_api_key / fmp_api_key_file in /usr/local/etc/pricesync.conf): the
#     fake FMP (tests/fake_fmp.py) on 127.0.0.1 answering after 0.3 s, a
#     demo config pointing at it, and a few demo symbols, so "Sync now"
#     streams a demo sync. With a key, the real FMP and the installed config.
# Running it again stops the previous instances first.
set -eu

PREFIX=/usr/local
RUNDIR=/run/pricesync
DBDIR=$PREFIX/var/lib/pricesync
CONF=$PREFIX/etc/pricesync.conf
SHARE=$PREFIX/share/pricesync
SRC=$(cd "$(dirname "$0")" && pwd)
PORT=8080
DEPS="build-essential autoconf automake pkg-config libfcgi-dev libfcgi-bin
libcurl4-openssl-dev libcjson-dev liblmdb-dev nginx spawn-fcgi python3
ca-certificates curl"

say() { echo "run.sh: $*"; }
die() {
	echo "run.sh: $*" >&2
	exit 1
}

stop_pid() { # name pidfile [signal]
	# The pid is read once: a process that exits on its own (nginx removes
	# its pid file as it quits) must not make this fail under set -e.
	pid=$(cat "$2" 2>/dev/null) || pid=""
	rm -f "$2"
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
	kill -"${3:-TERM}" "$pid" 2>/dev/null || true
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$pid" 2>/dev/null || true
	say "stopped $1"
}

stop_all() {
	stop_pid nginx "$RUNDIR/nginx.pid" QUIT
	if [ -f "$SHARE/etc/spawn-fcgi.sh" ]; then
		PRICESYNC_RUNDIR=$RUNDIR sh "$SHARE/etc/spawn-fcgi.sh" stop
	fi
	stop_pid "the fake FMP" "$RUNDIR/fake.pid"
}

install_deps() {
	missing=
	for p in $DEPS; do
		dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		say "installing:$missing"
		apt-get update
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive apt-get install -y $missing
	fi
}

build_install() {
	cd "$SRC"
	[ -x configure ] || autoreconf -fi
	mkdir -p build-run
	cd build-run
	[ -f Makefile ] || ../configure --prefix=$PREFIX
	make -j"$(nproc)"
	make install
	cd "$SRC"
}

has_key() {
	[ -n "${FMP_API_KEY:-}" ] && return 0
	[ -f "$CONF" ] && grep -Eq '^[[:space:]]*fmp_api_key(_file)?[[:space:]]*=' "$CONF"
}

start_demo() {
	say "no API key configured: starting the fake FMP for a demo"
	rm -f "$RUNDIR/fake.port"
	# The fake exits when its parent does: give it a parent that stays
	# (the "; exit" keeps sh from exec'ing it); stopping that sh stops it.
	setsid sh -c 'python3 "$0" --ready-file "$1" --delay 0.3; exit' \
		"$SRC/tests/fake_fmp.py" "$RUNDIR/fake.port" \
		</dev/null >>"$RUNDIR/fake.log" 2>&1 &
	echo $! >"$RUNDIR/fake.pid"
	i=0
	while [ ! -s "$RUNDIR/fake.port" ]; do
		[ $i -lt 300 ] || die "the fake FMP did not start (see $RUNDIR/fake.log)"
		sleep 0.1
		i=$((i + 1))
	done
	cat >"$RUNDIR/demo.conf" <<CONF
# written by run.sh: the demo against the fake FMP
db_path = $DBDIR
fmp_base_url = http://127.0.0.1:$(cat "$RUNDIR/fake.port")
batch_size = 3
min_interval_s = 5
CONF
	chmod 644 "$RUNDIR/demo.conf"
	PRICESYNC_CONFIG=$RUNDIR/demo.conf
	export PRICESYNC_CONFIG
	printf '%s\n' "symbol,quantity,currency" "AAPL,10" "MSFT,5" "GOOGL,3" \
		"NVDA,8" "TSLA,2" "AMZN,4" "VOD.L,1000" "BP.L,500" "HSBA.L,300" \
		"ULVR.L,40" >"$RUNDIR/demo.csv"
	"$PREFIX/bin/pricesync" import "$RUNDIR/demo.csv"
}

start_nginx() {
	mkdir -p "$RUNDIR/nginx-tmp"
	cp /etc/nginx/fastcgi_params "$RUNDIR/fastcgi_params"
	cat >"$RUNDIR/nginx.conf" <<CONF
# written by run.sh: nginx serving only pricesync
user www-data;
worker_processes 1;
pid $RUNDIR/nginx.pid;
error_log $RUNDIR/nginx-error.log;
events { worker_connections 256; }
http {
	include /etc/nginx/mime.types;
	default_type application/octet-stream;
	access_log $RUNDIR/nginx-access.log;
	client_body_temp_path $RUNDIR/nginx-tmp/body;
	fastcgi_temp_path $RUNDIR/nginx-tmp/fastcgi;
	proxy_temp_path $RUNDIR/nginx-tmp/proxy;
	uwsgi_temp_path $RUNDIR/nginx-tmp/uwsgi;
	scgi_temp_path $RUNDIR/nginx-tmp/scgi;
	include $SHARE/etc/nginx-pricesync.conf;
}
CONF
	nginx -t -c "$RUNDIR/nginx.conf" -e "$RUNDIR/nginx-error.log" 2>&1 |
		grep -v "successful" || true
	nginx -c "$RUNDIR/nginx.conf" -e "$RUNDIR/nginx-error.log"
}

start_all() {
	[ "$(id -u)" = 0 ] || die "run me as root (apt-get, make install, /run)"
	install_deps
	build_install
	stop_all
	mkdir -p "$RUNDIR" "$DBDIR"
	if has_key; then
		say "an API key is configured: syncing from FMP"
		PRICESYNC_CONFIG=$CONF
		export PRICESYNC_CONFIG
	else
		start_demo
	fi
	# The programs run as www-data: the database must be theirs.
	chown -R www-data:www-data "$DBDIR"
	PRICESYNC_RUNDIR=$RUNDIR PRICESYNC_USER=www-data \
		PRICESYNC_SOCKET_GROUP=www-data \
		PRICESYNC_LIBEXEC=$PREFIX/libexec/pricesync \
		sh "$SHARE/etc/spawn-fcgi.sh" start
	start_nginx
	i=0
	until curl -fsS -o /dev/null "http://127.0.0.1:$PORT/api/sync/status"; do
		[ $i -lt 100 ] || die "nothing answers on 127.0.0.1:$PORT (logs in $RUNDIR)"
		sleep 0.1
		i=$((i + 1))
	done
	cat <<EOT

pricesync is serving on http://127.0.0.1:$PORT/  (logs in $RUNDIR)

  curl -N -X POST http://127.0.0.1:$PORT/api/sync      # a sync, streamed
  curl http://127.0.0.1:$PORT/api/sync/status
  curl http://127.0.0.1:$PORT/api/prices
  curl http://127.0.0.1:$PORT/api/prices/AAPL/history

  PRICESYNC_CONFIG=$PRICESYNC_CONFIG pricesync list
  ./run.sh stop                                        # stop it all
EOT
}

case ${1:-start} in
start) start_all ;;
stop) stop_all ;;
*)
	echo "usage: ./run.sh [start|stop]" >&2
	exit 2
	;;
esac
