#!/usr/bin/env bash
# bench/shell.sh: how fast real shell work runs through culvert. Builds
# culvert and the bench/shell client, starts culvert on a fresh data
# directory and a free loopback port (the embedded runner off: the
# benchmark's runners are `culvert runner` processes), runs bench/shell,
# which starts the runners, and stops everything however the run ends.
# Arguments are passed to bench/shell (see `go run ./bench/shell -h`).
# Exit status: that of bench/shell (0 when the target is met, 1 when it is
# missed), 2 when the run could not be set up.
set -euo pipefail
cd "$(dirname "$0")/.."
LIB_TAG=shell
. bench/lib.sh

out=bench/results/shell-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$out"
go build -o "$out/culvert" ./cmd/culvert || die "building culvert"
go build -o "$out/shell" ./bench/shell || die "building bench/shell"

port=$(free_port)
"$out/culvert" serve --listen "127.0.0.1:$port" --data "$out/data" --log-level warn --embedded-runner=false \
	--limit minSchedulePeriod=15m >"$out/culvert.log" 2>&1 &
pid=$!
trap 'stop_pid $pid' EXIT
wait_ready "http://127.0.0.1:$port/healthz" "$pid" culvert "$out/culvert.log"
say "culvert (pid $pid) on 127.0.0.1:$port; results in $out"

status=0
"$out/shell" --endpoint "http://127.0.0.1:$port" --culvert "$out/culvert" --server-pid "$pid" \
	--json "$out/shell.json" --work-dir "$out/runners" "$@" || status=$?
exit "$status"
