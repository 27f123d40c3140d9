# bench/lib.sh: what run.sh and profile.sh share. Source it after setting
# LIB_TAG (the prefix of messages). It sets the workload sizes from the
# environment and defines say, die, free_port, wait_ready and stop_pid.

PIPELINES=${PIPELINES:-5000}
DEFINED=${DEFINED:-500}
OBJECTS=${OBJECTS:-100}
CONCURRENCY=${CONCURRENCY:-16}
DURATION=${DURATION:-5s}
LIST_DURATION=${LIST_DURATION:-2s}

say() { printf '[%s] %s\n' "$LIB_TAG" "$*" >&2; }
die() { say "error: $*"; exit 2; }

# free_port prints a port below the ephemeral range (32768-60999 here) that
# nothing listens on, so a server can bind it and no client socket takes
# it. Ports given as arguments are never returned.
free_port() {
	python3 - "$@" <<'PY'
import random, socket, sys
taken = set(sys.argv[1:])
for _ in range(200):
    port = random.randint(20000, 32767)
    if str(port) in taken:
        continue
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
    print(port)
    break
else:
    raise SystemExit("no free port")
PY
}

# wait_ready URL PID NAME LOG: poll URL until it answers 200, or fail if
# the process dies or 30 s pass.
wait_ready() {
	local url=$1 pid=$2 name=$3 log=$4
	for _ in $(seq 300); do
		kill -0 "$pid" 2>/dev/null || { tail -20 "$log" >&2; die "$name exited during startup"; }
		if [ "$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)" = 200 ]; then
			return 0
		fi
		sleep 0.1
	done
	tail -20 "$log" >&2
	die "$name did not become ready at $url within 30 s"
}

# stop_pid PID...: SIGTERM each process, give it 5 s, then SIGKILL. Not
# `wait`: it would hang on a server that ignores SIGTERM.
stop_pid() {
	local pid
	for pid in "$@"; do
		kill -0 "$pid" 2>/dev/null && kill "$pid" 2>/dev/null || true
	done
	for pid in "$@"; do
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
	done
}

# cpu_idle prints the share of the machine's CPU that was idle over one
# second. The load client and the servers share this machine's cores, so
# anything else running skews the numbers.
cpu_idle() {
	local a b
	a=$(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
	sleep 1
	b=$(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
	echo "$a $b" | awk '{ d = $4 - $2; printf "%d", (d > 0 ? 100 * ($3 - $1) / d : 100) }'
}
