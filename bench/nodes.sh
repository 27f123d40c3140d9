#!/usr/bin/env bash
# bench/nodes.sh: culvert on PostgreSQL, one node against several. Starts a
# throwaway PostgreSQL 15 with production durability (fsync and
# synchronous_commit on), builds culvert and the load tools once, and runs
# two scenarios, each on a fresh database:
#
#   A  1 node:  one `culvert serve --database-url`, loaded by bench/load
#               (create, put, get, describe-objects, describe-pipelines-1
#               and -25, list) and bench/runs (task throughput with
#               $POLLERS pollers, and the wake phases)
#   B  N nodes: $NODES such nodes on one database, the same load spread
#               over all of them (client goroutine i on node i mod N), the
#               pollers likewise, and the wake phases across nodes: the
#               pollers wait on node 1 while the task is made ready through
#               node 2 (target p99 ≤ $WAKE_TARGET)
#
# and prints a summary: per phase ops/s and p99 for 1 node against N, the
# task throughput, the wake p99s with PASS/FAIL. Everything it started is
# stopped however it exits. Raw results (both tools' tables and JSON, every
# node's log, PostgreSQL's log) stay in bench/results/nodes-*/. On a
# machine of few cores the client, PostgreSQL and every node share them,
# so N nodes cannot be faster than one there: the figures show what
# coordination through the database costs, not scale-out. See
# bench/README.md.
#
# Exit status: 0 when every check passes, 1 when one fails, 2 when the run
# could not be set up, 3 when every check passes but other work on the
# machine competed for the CPU.
#
# Sizes can be changed through the environment:
#   PIPELINES (2000)  DEFINED (200)  OBJECTS (100)  CONCURRENCY (16)
#   DURATION (5s, per bench/load read phase)  LIST_DURATION (2s)
#   NODES (3)  POLLERS (32)  RUNS_DURATION (10s, the throughput window)
#   WAKE_ITERATIONS (200, per wake phase)  WAKE_TARGET (50ms, one node and across nodes)
#   PGBIN (/usr/lib/postgresql/15/bin)  RESULTS (bench/results/nodes-YYYYmmdd-HHMMSS)
set -euo pipefail

case ${1:-} in
-h | --help)
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit 0
	;;
"") ;;
*)
	echo "usage: bash bench/nodes.sh (sizes through the environment; see --help)" >&2
	exit 2
	;;
esac

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

LIB_TAG=nodes
PIPELINES=${PIPELINES:-2000}
DEFINED=${DEFINED:-200}
DURATION=${DURATION:-5s}
. bench/lib.sh
NODES=${NODES:-3}
POLLERS=${POLLERS:-32}
RUNS_DURATION=${RUNS_DURATION:-10s}
WAKE_ITERATIONS=${WAKE_ITERATIONS:-200}
WAKE_TARGET=${WAKE_TARGET:-50ms}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
RESULTS=${RESULTS:-$root/bench/results/nodes-$(date +%Y%m%d-%H%M%S)}

[ "$NODES" -ge 2 ] 2>/dev/null || die "NODES must be at least 2, not '$NODES'"
command -v go >/dev/null || die "go is not on PATH"
command -v curl >/dev/null || die "curl is not on PATH"
command -v python3 >/dev/null || die "python3 is not on PATH"
for b in initdb pg_ctl createdb psql; do
	[ -x "$PGBIN/$b" ] || die "$PGBIN/$b is missing: PostgreSQL 15's server is needed (apt-get install postgresql-15)"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/culvert-nodes.XXXXXX")
# PostgreSQL's directory is its own, so that as root it can be handed to
# the postgres user (which must be able to enter it); the socket goes
# there too, keeping its path short.
pgdir=$(mktemp -d "${TMPDIR:-/tmp}/culvert-nodes-pg.XXXXXX")
as_pg=()
if [ "$(id -u)" = 0 ]; then
	id postgres >/dev/null 2>&1 || die "running as root, and there is no postgres user to run PostgreSQL as"
	chown postgres:postgres "$pgdir"
	as_pg=(runuser -u postgres --)
fi
node_pids=()
pgpid=
cleanup() {
	stop_pid "${node_pids[@]}"
	# PostgreSQL by its postmaster's pid: SIGINT is a fast shutdown.
	if [ -f "$pgdir/data/postmaster.pid" ]; then
		pgpid=$(head -1 "$pgdir/data/postmaster.pid")
	fi
	if [ -n "$pgpid" ] && kill -0 "$pgpid" 2>/dev/null; then
		kill -INT "$pgpid" 2>/dev/null || true
		for _ in $(seq 300); do
			kill -0 "$pgpid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pgpid" 2>/dev/null && kill -KILL "$pgpid" 2>/dev/null || true
	fi
	if [ -d "$RESULTS" ]; then
		cp "$pgdir/server.log" "$RESULTS/postgres.log" 2>/dev/null || true
	fi
	rm -rf "$work" "$pgdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$RESULTS"
say "results go to $RESULTS"

say "building culvert and the load tools"
go build -o "$work/culvert" ./cmd/culvert || die "building culvert"
go build -o "$work/load" ./bench/load || die "building bench/load"
go build -o "$work/runs" ./bench/runs || die "building bench/runs"

# PostgreSQL with the durability of production: every commit waits until
# its WAL is flushed to disk (fsync, synchronous_commit and
# full_page_writes are all on, as by default). initdb's own --no-sync only
# skips flushing the new cluster's files once, at its end.
pgport=$(free_port)
"${as_pg[@]}" "$PGBIN/initdb" -D "$pgdir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync \
	>"$RESULTS/initdb.log" 2>&1 || { cat "$RESULTS/initdb.log" >&2; die "initdb failed"; }
"${as_pg[@]}" "$PGBIN/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -t 30 -o \
	"-c listen_addresses=127.0.0.1 -p $pgport -k $pgdir -c fsync=on -c synchronous_commit=on -c full_page_writes=on -c max_connections=300" \
	start >"$RESULTS/pg_ctl.log" 2>&1 || { cat "$RESULTS/pg_ctl.log" "$pgdir/server.log" >&2 || true; die "PostgreSQL did not start"; }
pgpid=$(head -1 "$pgdir/data/postmaster.pid")
psql_() { "$PGBIN/psql" -X -q -A -t -h 127.0.0.1 -p "$pgport" -U postgres "$@"; }
pgsettings=$(psql_ -d postgres -c "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings
	WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method', 'shared_buffers', 'max_connections')")
pgversion=$(psql_ -d postgres -c "SHOW server_version")
say "PostgreSQL $pgversion (pid $pgpid) on 127.0.0.1:$pgport: $pgsettings"
say "durability as in production: fsync on, synchronous_commit on: every commit waits for its WAL to reach the disk"

cpus=$(nproc)
say "NOTE: this machine has $cpus CPUs, and the load client, PostgreSQL and every culvert node share them:"
say "      $NODES nodes cannot be faster than 1 here; the figures show what coordination through the database costs, not scale-out"


# proc_cpu PID prints the user+system CPU seconds of PID so far.
proc_cpu() {
	awk '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / 100 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# leader_of URL prints yes when the node at URL leads, no when it does not,
# ? when it cannot tell.
leader_of() {
	curl -s --max-time 2 "$1/healthz?detail" | python3 -c '
import json, sys
try:
    print("yes" if json.load(sys.stdin)["leader"]["self"] else "no")
except Exception:
    print("?")' 2>/dev/null || echo "?"
}

# scenario NAME COUNT [runs flags...]: a fresh database, COUNT nodes on it,
# bench/load and bench/runs against all of them, then the nodes stop.
scenario() {
	local name=$1 count=$2
	shift 2
	local db=culvert_$name i port ports=("$pgport") urls=() pids=() idle
	"$PGBIN/createdb" -h 127.0.0.1 -p "$pgport" -U postgres "$db" || die "createdb $db"
	local dburl="postgres://postgres@127.0.0.1:$pgport/$db?sslmode=disable"
	for i in $(seq "$count"); do
		port=$(free_port "${ports[@]}")
		ports+=("$port")
		"$work/culvert" serve --listen "127.0.0.1:$port" --data "$work/$name-node$i" --database-url "$dburl" \
			--embedded-runner=false --log-level warn --limit minSchedulePeriod=15m --limit minRetryDelay=1m \
			>"$RESULTS/$name-node$i.log" 2>&1 &
		pids+=($!)
		node_pids+=($!)
		urls+=("http://127.0.0.1:$port")
	done
	for i in $(seq 0 $((count - 1))); do
		wait_ready "${urls[i]}/healthz" "${pids[i]}" "$name node $((i + 1))" "$RESULTS/$name-node$((i + 1)).log"
	done
	# One node leads (runs the scheduler); wait for the lease to be taken.
	local leads=() lead=none
	for _ in $(seq 100); do
		leads=()
		for i in $(seq 0 $((count - 1))); do
			leads+=("$(leader_of "${urls[i]}")")
		done
		case " ${leads[*]} " in *" yes "* | *" ? "*) break ;; esac
		sleep 0.2
	done
	for i in $(seq 0 $((count - 1))); do
		if [ "${leads[i]}" = yes ]; then lead=$((i + 1)); fi
	done
	# The tools get the followers first and the leader last: the wake
	# phases' pollers wait on the first endpoint and their tasks are made
	# ready through the second, so with 3 nodes a wake goes the whole way,
	# from a follower's API through the leader's scheduler to a poller on
	# another follower. The load spreads evenly in any order.
	local order=() eps pidlist tool_urls=() tool_pids=()
	for i in $(seq 0 $((count - 1))); do
		[ "$((i + 1))" = "$lead" ] || order+=("$i")
	done
	[ "$lead" = none ] || order+=("$((lead - 1))")
	for i in "${order[@]}"; do
		tool_urls+=("${urls[i]}")
		tool_pids+=("${pids[i]}")
	done
	eps=$(IFS=,; echo "${tool_urls[*]}")
	pidlist=$(IFS=,; echo "${tool_pids[*]}")
	local poll_node=$((order[0] + 1)) trigger_node=$((order[1 % count] + 1))
	say "$name: $count node(s) (pids $pidlist) on $eps, database $db; leader: node $lead"
	if [ "$count" -gt 1 ]; then
		say "$name: wake pollers on node $poll_node, tasks made ready through node $trigger_node, node $lead leads"
	fi
	{
		echo "nodes=$count"
		echo "endpoints=$eps"
		echo "pids=$pidlist"
		echo "leader=$lead"
		echo "poll_node=$poll_node"
		echo "trigger_node=$trigger_node"
	} >"$RESULTS/$name-nodes.txt"

	idle=$(cpu_idle)
	echo "$name: CPU $idle% idle before the run" >>"$RESULTS/idle.txt"
	[ "$idle" -ge 85 ] || say "WARNING: the CPU was only $idle% idle before $name: other work competes for the cores; the figures will be low and noisy"

	say "$name: bench/load, N=$PIPELINES M=$DEFINED, read phases $DURATION each, $CONCURRENCY client goroutines"
	"$work/load" --endpoint "$eps" --label "$name" --server-pid "$pidlist" --db-pid "$pgpid" \
		--pipelines "$PIPELINES" --defined "$DEFINED" --objects "$OBJECTS" --concurrency "$CONCURRENCY" \
		--duration "$DURATION" --list-duration "$LIST_DURATION" --json "$RESULTS/$name-load.json" \
		>"$RESULTS/$name-load.txt" 2> >(tee "$RESULTS/$name-load.log" >&2) ||
		say "$name: bench/load failed (see $RESULTS/$name-load.log)"

	say "$name: bench/runs, $POLLERS pollers for $RUNS_DURATION, then the wake phases ($WAKE_ITERATIONS wakes each)"
	"$work/runs" --endpoint "$eps" --server-pid "$pidlist" --db-pid "$pgpid" \
		--pollers "$POLLERS" --duration "$RUNS_DURATION" --throughput-target 0 --wake-iterations "$WAKE_ITERATIONS" \
		"$@" --json "$RESULTS/$name-runs.json" \
		>"$RESULTS/$name-runs.txt" 2> >(tee "$RESULTS/$name-runs.log" >&2) ||
		say "$name: bench/runs reported a failure (see $RESULTS/$name-runs.txt and .log)"

	# Each node's CPU over the whole scenario, and who led at its end.
	for i in $(seq 0 $((count - 1))); do
		echo "node$((i + 1))_cpu=$(proc_cpu "${pids[i]}")"
		echo "node$((i + 1))_leads=$(leader_of "${urls[i]}")"
	done >>"$RESULTS/$name-nodes.txt"
	stop_pid "${pids[@]}"
	node_pids=()
}

# The 50 ms target is the PostgreSQL deployment's, one node or several;
# the 20 ms bench/runs sets by default is the embedded SQLite server's.
scenario one 1 --wake-target "$WAKE_TARGET"
scenario many "$NODES" --wake-target "$WAKE_TARGET"

for f in one-load.txt one-runs.txt many-load.txt many-runs.txt; do
	[ -s "$RESULTS/$f" ] && cat "$RESULTS/$f"
done

echo
set +e
python3 - "$RESULTS" "$NODES" "$cpus" "$pgversion" <<'PY'
import json, os, sys, textwrap

results, nodes, cpus, pgversion = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

def load(name):
    try:
        with open(os.path.join(results, name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None

def info(name):
    d = {}
    try:
        with open(os.path.join(results, name)) as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                d[k] = v
    except OSError:
        pass
    return d

one_load, many_load = load("one-load.json"), load("many-load.json")
one_runs, many_runs = load("one-runs.json"), load("many-runs.json")
one_info, many_info = info("one-nodes.txt"), info("many-nodes.txt")
labels = ("1 node", "%d nodes" % nodes)

def table(rows, right=True):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        cells = []
        for i, c in enumerate(r):
            cells.append(c.ljust(widths[i]) if i == 0 or not right else c.rjust(widths[i]))
        print("  ".join(cells).rstrip())

def per_op(cpu, ops):
    return "%.0f" % (cpu / ops * 1e6) if ops else "-"

print("== culvert on PostgreSQL %s (fsync=on, synchronous_commit=on): 1 node against %d" % (pgversion, nodes))
print("   %d CPUs shared by the load client, PostgreSQL and every node: %d nodes cannot be faster than 1 here;" % (cpus, nodes))
print("   the figures show what coordinating through the database costs, not scale-out.")
print("   µs/op columns: CPU per operation of the culvert nodes (summed) and of PostgreSQL (all its processes).")
print()

errors = {labels[0]: 0, labels[1]: 0}
disturbed = []

def phases(rep):
    return {p["name"]: p for p in rep["phases"]} if rep else {}

p1, pn = phases(one_load), phases(many_load)
names = [p["name"] for p in one_load["phases"]] if one_load else list(pn)
rows = [["phase", labels[0] + " ops/s", "p99 ms", "srv µs/op", "db µs/op",
         labels[1] + " ops/s", "p99 ms", "srv µs/op", "db µs/op", "%d/1 ops/s" % nodes, "errors"]]
for name in names:
    row = [name]
    for label, ph in ((labels[0], p1.get(name)), (labels[1], pn.get(name))):
        if ph is None:
            row += ["-"] * 4
            continue
        row += ["%.0f" % ph["ops_per_sec"], "%.2f" % ph["p99_ms"],
                per_op(ph.get("server_cpu_s", 0), ph["ops"]), per_op(ph.get("db_cpu_s", 0), ph["ops"])]
        errors[label] += ph["errors"]
        if ph["seconds"] > 0 and ph.get("other_cpu_s", 0) / ph["seconds"] > 0.25:
            disturbed.append("%s %s (other work %.2f cores)" % (label, name, ph["other_cpu_s"] / ph["seconds"]))
    a, b = p1.get(name), pn.get(name)
    row.append("%.2f×" % (b["ops_per_sec"] / a["ops_per_sec"]) if a and b and a["ops_per_sec"] > 0 else "-")
    row.append("%s / %s" % (a["errors"] if a else "-", b["errors"] if b else "-"))
    rows.append(row)
if len(rows) > 1:
    table(rows)
else:
    print("(no bench/load results: see the logs in %s)" % results)

print()
rows = [["pipeline runs", labels[0], labels[1]]]
def tp(r, key):
    t = r and r.get("throughput")
    if not t:
        return "-"
    if key == "tasks/s":
        return "%.0f" % t["tasks_per_sec"]
    if key == "cycle p99":
        return "%.2f ms" % t["cycle"]["p99_ms"]
    if key == "srv":
        return per_op(t.get("server_cpu_s", 0), t["tasks"])
    if key == "db":
        return per_op(t.get("db_cpu_s", 0), t["tasks"])
    if key == "cores":
        s = t.get("span_s") or 0
        return "%.2f / %.2f / %.2f" % (t.get("server_cpu_s", 0) / s, t.get("db_cpu_s", 0) / s, t.get("client_cpu_s", 0) / s) if s else "-"
    if key == "errors":
        return str(t["errors"])
pollers = (one_runs or many_runs or {}).get("config", {}).get("pollers", "?")
for key, title in (("tasks/s", "task throughput, tasks/s (%s pollers)" % pollers), ("cycle p99", "poll→progress→finish cycle p99"),
                   ("srv", "nodes' CPU µs/task"), ("db", "PostgreSQL CPU µs/task"),
                   ("cores", "cores: nodes / PostgreSQL / client"), ("errors", "errors")):
    rows.append([title, tp(one_runs, key), tp(many_runs, key)])
for r, label in ((one_runs, labels[0]), (many_runs, labels[1])):
    t = r and r.get("throughput")
    if t:
        errors[label] += t["errors"]
        if t.get("span_s") and t.get("other_cpu_s", 0) / t["span_s"] > 0.25:
            disturbed.append("%s throughput (other work %.2f cores)" % (label, t["other_cpu_s"] / t["span_s"]))
table(rows)

print()
checks = []
rows = [["wake: task made ready → delivered", "ready → delivered", "n", "p50 ms", "p99 ms", "max ms", "target", "", "lost", "errors"]]
for r, label, inf in ((one_runs, labels[0], one_info), (many_runs, labels[1], many_info)):
    got = {w["trigger"]: w for w in (r or {}).get("wake") or []}
    for trigger in ("ActivatePipeline", "SetStatus RERUN"):
        w = got.get(trigger)
        if w is None:
            rows.append(["%s, %s" % (label, trigger), "-", "-", "-", "-", "-", "-", "MISSING", "-", "-"])
            checks.append(("%s %s wake p99 (no result)" % (label, trigger), False))
            continue
        cross = w.get("poll_endpoint") != w.get("trigger_endpoint")
        where = "node %s → node %s" % (inf.get("trigger_node", "?"), inf.get("poll_node", "?")) if cross else "one node"
        fs = w["from_call_start"]
        ok = fs["n"] > 0 and fs["p99_ms"] <= w["target_p99_ms"] and w["lost"] == 0 and w["errors"] == 0
        checks.append(("%s %s wake p99 %s (%.2f ms, ≤ %.0f ms)" % (label, trigger, "across nodes" if cross else "on one node",
                                                                 fs["p99_ms"], w["target_p99_ms"]), ok))
        errors[label] += w["errors"]
        if w.get("span_s") and w.get("other_cpu_s", 0) / w["span_s"] > 0.25:
            disturbed.append("%s %s wake (other work %.2f cores)" % (label, trigger, w["other_cpu_s"] / w["span_s"]))
        rows.append(["%s, %s" % (label, trigger), where, str(fs["n"]), "%.2f" % fs["p50_ms"], "%.2f" % fs["p99_ms"],
                     "%.2f" % fs["max_ms"], "≤ %.0f ms" % w["target_p99_ms"], "PASS" if ok else "FAIL", str(w["lost"]), str(w["errors"])])
table(rows)
print("   measured from the start of the call that makes the task ready (ActivatePipeline, SetStatus) to its delivery;")
print("   with %d nodes the call goes to node %s, the pollers wait on node %s, and node %s leads (runs the scheduler)" % (
    nodes, many_info.get("trigger_node", "?"), many_info.get("poll_node", "?"), many_info.get("leader", "?")))

print()
for label, inf in ((labels[0], one_info), (labels[1], many_info)):
    cpu = ["node %d%s %s s" % (i, " (leader)" if inf.get("node%d_leads" % i) == "yes" else "", inf.get("node%d_cpu" % i, "?"))
           for i in range(1, int(inf.get("nodes", 0) or 0) + 1)]
    if cpu:
        print("   %s, CPU of each node over the whole scenario: %s" % (label, ", ".join(cpu)))

for label in labels:
    checks.append(("%s no errors (got %d)" % (label, errors[label]), errors[label] == 0))
for r, label in ((one_load, labels[0]), (many_load, labels[1])):
    if not r:
        checks.append(("%s bench/load results" % label, False))
print()
failed = [c for c, ok in checks if not ok]
for c, ok in checks:
    print("%s  %s" % ("PASS" if ok else "FAIL", c))
if disturbed:
    print("WARNING: other work on the machine used more than 0.25 cores during:")
    print(textwrap.fill(", ".join(disturbed), width=110, initial_indent="  ", subsequent_indent="  "))
if failed:
    print("%d of %d checks FAILED" % (len(failed), len(checks)))
    sys.exit(1)
if disturbed:
    print("all %d checks passed, but UNRELIABLE: other work competed for the CPU" % len(checks))
    sys.exit(3)
print("all %d checks passed" % len(checks))
PY
status=$?
set -e
say "raw results in $RESULTS"
exit "$status"
