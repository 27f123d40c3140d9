#!/usr/bin/env bash
# bench/run.sh: build culvert, start it and moto side by side on free
# loopback ports, run the load generator (bench/load) against each in turn,
# print both result tables and the culvert/moto ratio per phase, and check
# the throughput targets. Exits 0 when every target is met, 1 when one is
# missed, 2 on a setup failure, 3 when every target is met but other work
# on the machine competed for the CPU (the ratios then prove nothing). See
# bench/README.md.
#
# Sizes can be changed through the environment:
#   PIPELINES (5000)  DEFINED (500)  OBJECTS (100)  CONCURRENCY (16)
#   DURATION (5s, per read phase)  LIST_DURATION (2s)
#   MOTO_PIPELINES, MOTO_DEFINED, MOTO_DURATION (default: the same as culvert's)
#   RESULTS (bench/results/run-YYYYmmdd-HHMMSS)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

LIB_TAG=bench
. bench/lib.sh
MOTO_PIPELINES=${MOTO_PIPELINES:-$PIPELINES}
MOTO_DEFINED=${MOTO_DEFINED:-$DEFINED}
MOTO_DURATION=${MOTO_DURATION:-$DURATION}
RESULTS=${RESULTS:-$root/bench/results/run-$(date +%Y%m%d-%H%M%S)}


command -v go >/dev/null || die "go is not on PATH"
command -v curl >/dev/null || die "curl is not on PATH"
python3 -c 'import moto.server' 2>/dev/null ||
	die "moto is not installed for python3 (pip install 'moto[server]')"

work=$(mktemp -d "${TMPDIR:-/tmp}/culvert-bench.XXXXXX")
culvert_pid=
moto_pid=
cleanup() {
	stop_pid $culvert_pid $moto_pid
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$RESULTS"
say "results go to $RESULTS"

say "building culvert and the load generator"
go build -o "$work/culvert" ./cmd/culvert
go build -o "$work/load" ./bench/load

check_idle() {
	local idle
	idle=$(cpu_idle)
	if [ "$idle" -lt 85 ]; then
		say "WARNING: the CPU was only $idle% idle before the $1 run: other work is competing for the cores and the numbers will be low and noisy"
	fi
	echo "$1: CPU $idle% idle before the run" >>"$RESULTS/idle.txt"
}

culvert_port=$(free_port)
# gctrace: one line per GC cycle on stderr, summarised below. Its cost is
# negligible.
GODEBUG=gctrace=1 "$work/culvert" serve --listen "127.0.0.1:$culvert_port" --data "$work/data" \
	--max-pipelines 0 --log-level warn >"$RESULTS/culvert.log" 2>&1 &
culvert_pid=$!
wait_ready "http://127.0.0.1:$culvert_port/healthz" "$culvert_pid" culvert "$RESULTS/culvert.log"
say "culvert (pid $culvert_pid) ready on 127.0.0.1:$culvert_port"

moto_port=$(free_port "$culvert_port")
python3 -m moto.server -H 127.0.0.1 -p "$moto_port" >"$RESULTS/moto.log" 2>&1 &
moto_pid=$!
wait_ready "http://127.0.0.1:$moto_port/moto-api/" "$moto_pid" moto "$RESULTS/moto.log"
say "moto $(python3 -c 'import moto; print(moto.__version__)') (pid $moto_pid) ready on 127.0.0.1:$moto_port"

common=(--concurrency "$CONCURRENCY" --objects "$OBJECTS" --list-duration "$LIST_DURATION")

check_idle culvert
say "load against culvert: N=$PIPELINES M=$DEFINED, read phases $DURATION each"
"$work/load" --endpoint "http://127.0.0.1:$culvert_port" --label culvert --server-pid "$culvert_pid" \
	--pipelines "$PIPELINES" --defined "$DEFINED" --duration "$DURATION" "${common[@]}" \
	--json "$RESULTS/culvert.json" >"$RESULTS/culvert.txt" || die "the load generator failed against culvert"
culvert_rss=$(ps -o rss= -p "$culvert_pid" | tr -d ' ')
# utime + stime, in clock ticks (100 a second), after the comm "(culvert)".
culvert_cpu=$(awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$culvert_pid/stat")

check_idle moto
say "load against moto: N=$MOTO_PIPELINES M=$MOTO_DEFINED, read phases $MOTO_DURATION each"
"$work/load" --endpoint "http://127.0.0.1:$moto_port" --label moto --server-pid "$moto_pid" \
	--pipelines "$MOTO_PIPELINES" --defined "$MOTO_DEFINED" --duration "$MOTO_DURATION" "${common[@]}" \
	--json "$RESULTS/moto.json" >"$RESULTS/moto.txt" || die "the load generator failed against moto"
moto_rss=$(ps -o rss= -p "$moto_pid" | tr -d ' ')

cat "$RESULTS/culvert.txt" "$RESULTS/moto.txt"

echo
awk -v c="$culvert_rss" -v m="$moto_rss" \
	'BEGIN { printf "RSS after the run (ps): culvert %.1f MiB, moto %.1f MiB\n", c / 1024, m / 1024 }'

# GC cost from gctrace: "gc N @T s P%: … ms clock, A+B/C/D+E ms cpu, X->Y->Z MB, G MB goal, …"
awk -v total="$culvert_cpu" '
/^gc [0-9]+ @/ {
	n++
	for (i = 1; i <= NF; i++) {
		if ($(i+1) == "ms" && $(i+2) == "cpu,") {
			gsub(/[+\/]/, " ", $i); k = split($i, parts, " ")
			for (j = 1; j <= k; j++) cpu += parts[j]
		}
		if ($(i+1) == "MB" && $(i+2) == "goal,") if ($i + 0 > goal) goal = $i + 0
	}
}
END {
	if (n) printf "culvert GC (gctrace): %d cycles, %.2f s of GC CPU = %.1f%% of culvert'"'"'s %.2f s of CPU; largest heap goal %d MB\n", n, cpu / 1000, (total > 0 ? 100 * cpu / 1000 / total : 0), total, goal
	else print "culvert GC (gctrace): no cycles recorded"
}' "$RESULTS/culvert.log"

set +e
"$work/load" compare --culvert "$RESULTS/culvert.json" --moto "$RESULTS/moto.json" --json "$RESULTS/checks.json"
status=$?
set -e
say "raw results in $RESULTS"
exit "$status"
