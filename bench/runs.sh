#!/usr/bin/env bash
# bench/runs.sh: how fast culvert runs pipelines. Builds culvert and the
# bench/runs client, starts culvert on a fresh data directory and a free
# loopback port (with short schedules and retry delays allowed), runs
# bench/runs against it and stops it, however the run ends. Arguments are
# passed to bench/runs (see `go run ./bench/runs -h`). Exit status: that of
# bench/runs (0 when every target is met, 1 when one is missed), 2 when
# the run could not be set up.
#
# With CULVERT_PROFILE=1 in the environment, culvert also serves pprof on a
# second free port and bench/runs writes CPU profiles of server and client, and
# the server's allocation profile, of each phase's measured part into the results
# directory.
set -euo pipefail
cd "$(dirname "$0")/.."
LIB_TAG=runs
. bench/lib.sh

out=bench/results/runs-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$out"
go build -o "$out/culvert" ./cmd/culvert || die "building culvert"
go build -o "$out/runs" ./bench/runs || die "building bench/runs"

port=$(free_port)
debug=() profile=()
if [ "${CULVERT_PROFILE:-}" = 1 ]; then
	dport=$(free_port "$port")
	debug=(--debug-listen "127.0.0.1:$dport")
	profile=(--debug-endpoint "http://127.0.0.1:$dport" --profile-dir "$out" --client-profile "$out")
fi
"$out/culvert" serve --listen "127.0.0.1:$port" --data "$out/data" --log-level warn "${debug[@]}" \
	--limit minSchedulePeriod=15m --limit minRetryDelay=1m >"$out/culvert.log" 2>&1 &
pid=$!
trap 'stop_pid $pid' EXIT
wait_ready "http://127.0.0.1:$port/healthz" "$pid" culvert "$out/culvert.log"
say "culvert (pid $pid) on 127.0.0.1:$port; results in $out"

status=0
"$out/runs" --endpoint "http://127.0.0.1:$port" --server-pid "$pid" --json "$out/runs.json" "${profile[@]}" "$@" || status=$?
exit "$status"
