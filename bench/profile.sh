#!/usr/bin/env bash
# bench/profile.sh: run the load generator against culvert alone, with a
# CPU profile of every phase and a GC trace, and summarise where the time
# goes. The CPU profiles come from Linux `perf record` attached to the
# server and the client around each phase (bench/perf-hook.sh), which needs
# nothing from the binary; Go keeps frame pointers, so the call graphs are
# complete.
#
# Output, in $RESULTS (default bench/results/profile-YYYYmmdd-HHMMSS):
#   culvert.txt / culvert.json   the load generator's results
#   culvert.log                  the server's stderr with GODEBUG=gctrace=1
#   PHASE.perf.data              raw perf profiles (perf report -i FILE)
#   PHASE.top.txt                culvert's top functions by self time
#   PHASE.packages.txt           culvert's self time grouped by Go package
#   PHASE.tree.txt               culvert's functions by inclusive time
#   PHASE.split.txt              CPU samples split between server, client and kernel
#   bin/                         the culvert and load binaries the profiles refer to
#   gc.txt                       GC cycles and CPU per phase
#   memory.txt, heap.pprof, allocs.pprof
#                                live heap and allocations by function, when the
#                                culvert binary has --debug-listen (net/http/pprof)
#
# Sizes come from the environment as in run.sh: PIPELINES, DEFINED,
# OBJECTS, CONCURRENCY, DURATION, LIST_DURATION; PERF_FREQ (999 Hz).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

LIB_TAG=profile
. bench/lib.sh
RESULTS=${RESULTS:-$root/bench/results/profile-$(date +%Y%m%d-%H%M%S)}


command -v perf >/dev/null || die "perf is not installed (apt-get install linux-perf)"
command -v curl >/dev/null || die "curl is not on PATH"

work=$(mktemp -d "${TMPDIR:-/tmp}/culvert-profile.XXXXXX")
culvert_pid=
cleanup() {
	stop_pid $culvert_pid
	# A perf left running by an interrupted phase.
	for f in "$RESULTS"/*.perf.pid; do
		[ -e "$f" ] && kill -INT "$(cat "$f")" 2>/dev/null || true
		rm -f "$f"
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$RESULTS"
say "results go to $RESULTS"
# The binaries stay with the profiles, which refer to them for symbols.
bin=$RESULTS/bin
mkdir -p "$bin"
go build -o "$bin/culvert" ./cmd/culvert
go build -o "$bin/load" ./bench/load

port=$(free_port)
# Go's pprof (--debug-listen) gives the heap and allocation profiles taken
# after the load.
debug_port=$(free_port "$port")
GODEBUG=gctrace=1 "$bin/culvert" serve --listen "127.0.0.1:$port" --data "$work/data" \
	--max-pipelines 0 --log-level warn --debug-listen "127.0.0.1:$debug_port" >"$RESULTS/culvert.log" 2>&1 &
culvert_pid=$!
wait_ready "http://127.0.0.1:$port/healthz" "$culvert_pid" culvert "$RESULTS/culvert.log"
say "culvert (pid $culvert_pid) on 127.0.0.1:$port"

# The hook also logs the server's uptime at every phase boundary, so the
# gctrace lines (stamped with uptime) can be attributed to phases.
cat >"$work/hook.sh" <<EOF
#!/usr/bin/env bash
set -e
start=\$(awk '{print \$22}' /proc/$culvert_pid/stat)
now=\$(awk '{print \$1}' /proc/uptime)
echo "\$1 \$2 \$(awk -v s="\$start" -v n="\$now" 'BEGIN { printf "%.3f", n - s / 100 }')" >>"$RESULTS/phases.txt"
PERF_DIR="$RESULTS" exec bash "$root/bench/perf-hook.sh" "\$@"
EOF
: >"$RESULTS/phases.txt"

"$bin/load" --endpoint "http://127.0.0.1:$port" --label culvert --server-pid "$culvert_pid" \
	--pipelines "$PIPELINES" --defined "$DEFINED" --objects "$OBJECTS" --concurrency "$CONCURRENCY" \
	--duration "$DURATION" --list-duration "$LIST_DURATION" \
	--hook "bash $work/hook.sh" --json "$RESULTS/culvert.json" | tee "$RESULTS/culvert.txt"

say "taking heap and allocation profiles from /debug/pprof"
for p in heap allocs; do
	curl -s -o "$RESULTS/$p.pprof" "http://127.0.0.1:$debug_port/debug/pprof/$p" || continue
done
{
	echo "== live heap after the run (inuse_space)"
	go tool pprof -top -sample_index=inuse_space "$bin/culvert" "$RESULTS/heap.pprof" 2>/dev/null | head -25
	echo
	echo "== allocations over the whole run (alloc_space)"
	go tool pprof -top -sample_index=alloc_space "$bin/culvert" "$RESULTS/allocs.pprof" 2>/dev/null | head -30
} >"$RESULTS/memory.txt" || true

say "summarising profiles"
# Self time of culvert's functions, grouped by Go package ("kernel" for
# the kernel, "runtime" for the Go runtime: allocation, GC, scheduling).
by_package() {
	awk '
	$2 == "[k]" { pkg["kernel"] += $1; next }
	$2 == "[.]" {
		sym = $3
		if (sym ~ /^(runtime|internal\/runtime)[.\/]/ || sym ~ /^(memeqbody|aeshashbody|indexbytebody|cmpbody|gcWriteBarrier|gogo|morestack)/) p = "runtime"
		else { n = split(sym, a, "/"); last = a[n]; sub(/\..*/, "", last); p = (n > 1 ? substr(sym, 1, length(sym) - length(a[n])) : "") last }
		pkg[p] += $1
	}
	END { for (p in pkg) printf "%7.2f%%  %s\n", pkg[p], p }' | sort -rn | head -15
}
for data in "$RESULTS"/*.perf.data; do
	phase=$(basename "$data" .perf.data)
	perf report -i "$data" --no-children --sort comm,dso --stdio -g none 2>/dev/null |
		grep -v '^#' | grep -v '^$' | head -8 >"$RESULTS/$phase.split.txt" || true
	perf report -i "$data" --comm culvert --percentage relative --no-children --sort symbol --stdio -g none 2>/dev/null |
		grep -v '^#' | grep -v '^$' | sed 's/[ -]*$//' >"$RESULTS/$phase.self.txt" || true
	head -40 "$RESULTS/$phase.self.txt" >"$RESULTS/$phase.top.txt"
	sed 's/%//' "$RESULTS/$phase.self.txt" | by_package >"$RESULTS/$phase.packages.txt"
	perf report -i "$data" --comm culvert --percentage relative --children --sort symbol --stdio -g none 2>/dev/null |
		grep -v '^#' | grep -v '^$' | sed 's/[ -]*$//' | head -80 >"$RESULTS/$phase.tree.txt" || true
	rm -f "$RESULTS/$phase.self.txt"
done

# GC per phase: sum the CPU of the gctrace lines whose uptime stamp falls
# inside each phase.
awk '
FNR == NR { if ($1 == "start") s[$2] = $3; else e[$2] = $3; order[++n] = $2; next }
/^gc [0-9]+ @/ {
	t = substr($3, 2) + 0; c = 0
	for (i = 1; i <= NF; i++) if ($(i+1) == "ms" && $(i+2) == "cpu,") {
		gsub(/[+\/]/, " ", $i); k = split($i, p, " "); for (j = 1; j <= k; j++) c += p[j]
	}
	for (x in s) if (t >= s[x] && t <= e[x]) { cycles[x]++; cpu[x] += c }
	total++; tcpu += c
}
END {
	printf "%-22s %7s %12s\n", "phase", "cycles", "GC CPU s"
	for (i = 1; i <= n; i++) { x = order[i]; if (seen[x]++) continue
		printf "%-22s %7d %12.3f\n", x, cycles[x], cpu[x] / 1000 }
	printf "%-22s %7d %12.3f\n", "whole run", total, tcpu / 1000
}' "$RESULTS/phases.txt" "$RESULTS/culvert.log" | tee "$RESULTS/gc.txt"

for phase in create put get describe-objects describe-pipelines-1 describe-pipelines-25 list; do
	[ -s "$RESULTS/$phase.top.txt" ] || continue
	echo
	echo "== $phase: CPU samples by process and object (all samples of the phase)"
	cat "$RESULTS/$phase.split.txt"
	echo "-- $phase: culvert's self time by package (share of culvert's samples)"
	cat "$RESULTS/$phase.packages.txt"
	echo "-- $phase: culvert's top functions by self time"
	head -15 "$RESULTS/$phase.top.txt"
done
[ -s "$RESULTS/memory.txt" ] && { echo; cat "$RESULTS/memory.txt"; }
say "raw profiles in $RESULTS (perf report -i FILE)"
