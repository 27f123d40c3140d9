#!/usr/bin/env bash
# bench/perf-hook.sh start|stop PHASE: the load generator's --hook for
# bench/profile.sh. On start it attaches `perf record` (call graphs from
# frame pointers) to the server and to the load generator, whose pids the
# load generator passes as SERVER_PID and LOAD_PID; on stop it ends that
# perf and waits until the profile is written. Profiles go to
# $PERF_DIR/PHASE.perf.data, sampled at $PERF_FREQ Hz (default 999).
set -euo pipefail
event=$1 phase=$2
dir=${PERF_DIR:?PERF_DIR is not set}
pidfile=$dir/$phase.perf.pid

case $event in
start)
	perf record -N -F "${PERF_FREQ:-999}" -g -p "$SERVER_PID,$LOAD_PID" -o "$dir/$phase.perf.data" \
		>"$dir/$phase.perf.log" 2>&1 &
	echo $! >"$pidfile"
	# perf prints nothing until it stops; give it a moment to attach.
	sleep 0.3
	;;
stop)
	pid=$(cat "$pidfile")
	kill -INT "$pid" 2>/dev/null || true
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	rm -f "$pidfile"
	;;
*)
	echo "usage: $0 start|stop PHASE" >&2
	exit 2
	;;
esac
