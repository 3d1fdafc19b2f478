#!/bin/sh
# spawn-fcgi.sh: start or stop pricesync's two FastCGI programs with
# spawn-fcgi, for machines without systemd (or to try things by hand).
#
#   spawn-fcgi.sh start | stop | restart | status
#
# Each program runs as ONE process (never -F: one `sync` serves every
# request on its threads, so a second POST during a sync gets 409 at once)
# on a unix socket or a 127.0.0.1 port. Settings come from the environment:
#
#   PRICESYNC_LIBEXEC      the programs' directory (/usr/local/libexec/pricesync)
#   PRICESYNC_RUNDIR       sockets, pid files and logs (/run/pricesync)
#   PRICESYNC_SYNC_BIND    where `sync` listens: a socket path, or
#                          127.0.0.1:PORT (default $PRICESYNC_RUNDIR/sync.sock)
#   PRICESYNC_STATUS_BIND  the same for `sync-status`
#                          (default $PRICESYNC_RUNDIR/sync-status.sock)
#   PRICESYNC_USER         run as this user when started as root (none: as is)
#   PRICESYNC_SOCKET_GROUP group given the sockets, for the web server
#                          (www-data when started as root)
#   PRICESYNC_CONFIG       passed on to the programs (their config file)
#
# The programs' log lines (stderr) go to $PRICESYNC_RUNDIR/NAME.log.
set -eu

LIBEXEC=${PRICESYNC_LIBEXEC:-/usr/local/libexec/pricesync}
RUNDIR=${PRICESYNC_RUNDIR:-/run/pricesync}
SYNC_BIND=${PRICESYNC_SYNC_BIND:-$RUNDIR/sync.sock}
STATUS_BIND=${PRICESYNC_STATUS_BIND:-$RUNDIR/sync-status.sock}
USER_OPT=${PRICESYNC_USER:-}
if [ "$(id -u)" = 0 ]; then
	GROUP_OPT=${PRICESYNC_SOCKET_GROUP:-www-data}
else
	GROUP_OPT=${PRICESYNC_SOCKET_GROUP:-}
fi

die() {
	echo "spawn-fcgi.sh: $*" >&2
	exit 1
}

# The spawn-fcgi options that bind to $1: a unix socket or host:port.
bind_opts() {
	case $1 in
	/*)
		echo "-s $1 -M 0660"
		[ -z "$GROUP_OPT" ] || echo "-G $GROUP_OPT"
		[ -z "$USER_OPT" ] || echo "-U $USER_OPT"
		;;
	*:*) echo "-a ${1%:*} -p ${1##*:}" ;;
	*) die "bind to a socket path or HOST:PORT, not '$1'" ;;
	esac
}

running() {
	[ -f "$RUNDIR/$1.pid" ] && kill -0 "$(cat "$RUNDIR/$1.pid")" 2>/dev/null
}

# -n: spawn-fcgi binds, then execs the program in its own process, so the
# pid is the program's and its stderr is our log file (in fork mode
# spawn-fcgi would send stderr to /dev/null).
start_one() {
	name=$1 bind=$2
	[ -x "$LIBEXEC/$name" ] || die "no program $LIBEXEC/$name (make install?)"
	if running "$name"; then
		echo "$name: already running (pid $(cat "$RUNDIR/$name.pid"))"
		return 0
	fi
	user=
	[ -z "$USER_OPT" ] || user="-u $USER_OPT"
	# shellcheck disable=SC2046 # word splitting of the options is meant
	setsid spawn-fcgi -n $(bind_opts "$bind") $user -- "$LIBEXEC/$name" \
		</dev/null >>"$RUNDIR/$name.log" 2>&1 &
	echo $! >"$RUNDIR/$name.pid"
	echo "$name: started on $bind (pid $!, log $RUNDIR/$name.log)"
}

stop_one() {
	name=$1
	if running "$name"; then
		pid=$(cat "$RUNDIR/$name.pid")
		kill -TERM "$pid"
		# SIGTERM ends it after the request in hand: a sync finishes.
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 600 ]; do
			sleep 0.5
			i=$((i + 1))
		done
		echo "$name: stopped"
	fi
	rm -f "$RUNDIR/$name.pid"
}

case ${1:-} in
start)
	mkdir -p "$RUNDIR"
	start_one sync "$SYNC_BIND"
	start_one sync-status "$STATUS_BIND"
	;;
stop)
	stop_one sync
	stop_one sync-status
	;;
restart)
	"$0" stop
	exec "$0" start
	;;
status)
	for n in sync sync-status; do
		if running $n; then
			echo "$n: running (pid $(cat "$RUNDIR/$n.pid"))"
		else
			echo "$n: stopped"
		fi
	done
	;;
*)
	echo "usage: spawn-fcgi.sh start|stop|restart|status" >&2
	exit 2
	;;
esac
