#!/bin/sh
# loadgen against socat + cat on 127.0.0.1, UDP and TCP: zero errors, zero
# mismatches, every request answered. Usage: socat_echo_test.sh path/to/loadgen
#
# UDP runs one client: socat's UDP-LISTEN,fork hands the datagrams already
# queued on the listening socket to the first peer's child, and cat glues
# queued datagrams together, so several concurrent UDP clients see corrupt
# echoes that are socat's doing (loadgen reports them correctly as such).
set -eu
LOADGEN=${1:?usage: $0 path/to/loadgen}
command -v socat >/dev/null || { echo "socat not installed: skipping"; exit 0; }

PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

# Is a socket in state $3 on port $2 in /proc/net/$1? (0A = LISTEN, 07 = UDP bound)
listening() {
    hex=$(printf '%04X' "$2")
    awk -v p=":$hex" -v s="$3" 'NR > 1 && substr($2, length($2) - 4) == p && $4 == s { f = 1 } END { exit !f }' "/proc/net/$1"
}

# start_socat PROTO: starts an echo server on a free port; sets PORT.
start_socat() {
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        PORT=$(( 20000 + ($$ * 7 + attempt * 1013) % 40000 ))
        if [ "$1" = udp ]; then
            socat -T 5 UDP-LISTEN:"$PORT",bind=127.0.0.1,fork EXEC:cat &
            table=udp state=07
        else
            socat TCP-LISTEN:"$PORT",bind=127.0.0.1,reuseaddr,fork EXEC:cat &
            table=tcp state=0A
        fi
        pid=$!
        PIDS="$PIDS $pid"
        for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
            if listening "$table" "$PORT" "$state"; then return 0; fi
            kill -0 "$pid" 2>/dev/null || break   # port taken: socat exited
            sleep 0.1
        done
        kill "$pid" 2>/dev/null || true
    done
    echo "could not start socat for $1" >&2
    exit 1
}

# check NAME JSON REQUESTS: the summary says every request was echoed intact.
check() {
    echo "$1: $2"
    for want in "\"completed\":$3," "\"errors\":0," "\"timeouts\":0," "\"mismatched_bytes\":0," '"passed":true'; do
        case "$2" in *"$want"*) ;; *) echo "FAIL $1: expected $want" >&2; exit 1 ;; esac
    done
}

start_socat udp
out=$("$LOADGEN" --proto udp --port "$PORT" --clients 1 --requests 2000 --sizes 16,64,1024 --timeout-ms 10000 --json --no-progress)
check udp "$out" 2000

start_socat tcp
out=$("$LOADGEN" --proto tcp --port "$PORT" --clients 4 --requests 2000 --sizes 16-4000 --timeout-ms 10000 --json --no-progress)
check tcp "$out" 2000
out=$("$LOADGEN" --proto tcp --port "$PORT" --clients 2 --rate 2000 --requests 1000 --timeout-ms 10000 --json --no-progress)
check tcp-open-loop "$out" 1000
echo PASS
