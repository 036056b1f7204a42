#!/usr/bin/env bash
# Crash consistency of kv on Ringlet: ITERATIONS times (default 20) on one
# disk image, host clients issue numbered SETs over 4 connections and record
# each acknowledged one; QEMU is SIGKILLed at a random moment mid-stream.
# After every restart, every acknowledged write of every round is there
# with its value, an overwritten counter holds its last acknowledged value
# or a later one that was sent, and the store takes new writes. Some rounds
# ask for a compaction (BGREWRITEAOF) mid-stream, so kills land before,
# during and after compactions too. SEED picks the random moments (printed).
set -uo pipefail
source "$(dirname "$0")/kv_lib.sh"
img=$dir/kv.img
truncate -s 16M "$img"
iterations=${ITERATIONS:-20}
seed=${SEED:-$(date +%s)}
echo "kv crash test: $iterations rounds, SEED=$seed"
RANDOM=$seed
acked=$dir/acked
mkdir -p "$acked"

writer() {  # writer ROUND COMPACT: writes until the server goes away
  python3 - "$port" "$1" "$2" "$acked" <<'PY'
import socket, sys, threading
port, rnd, compact, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4]
def cmd(*args):
    b = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        b += b"$%d\r\n%s\r\n" % (len(a), a)
    return b
def reply(s, f):
    line = f.readline()
    if not line: raise EOFError
    return line
def run(t):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        f = s.makefile("rb")
        log = open("%s/r%d_t%d" % (out, rnd, t), "w", buffering=1)
        n = 0
        while n < 100000:
            n += 1
            key = "r%d:t%d:%d" % (rnd, t, n)
            s.sendall(cmd("SET", key, "v%d" % n) + cmd("SET", "counter:t%d" % t, "%d:%d" % (rnd, n)))
            log.write("sent %d\n" % n)
            if reply(s, f) != b"+OK\r\n" or reply(s, f) != b"+OK\r\n": break
            log.write("ok %d\n" % n)
            if compact and t == 0 and n % 150 == 0:
                s.sendall(cmd("BGREWRITEAOF")); reply(s, f)
    except (OSError, EOFError) as e:
        print("writer %d: %s" % (t, e), file=sys.stderr)
threads = [threading.Thread(target=run, args=(t,)) for t in range(4)]
for th in threads: th.start()
for th in threads: th.join()
PY
}

verify() {  # every acknowledged write of every round so far
  python3 - "$port" "$acked" <<'PY'
import os, socket, sys
port, out = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=30)
f = s.makefile("rb")
def cmd(*args):
    b = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode()
        b += b"$%d\r\n%s\r\n" % (len(a), a)
    s.sendall(b)
def read():
    line = f.readline()
    if line.startswith(b"*"):
        return [read() for _ in range(int(line[1:]))]
    if line.startswith(b"$"):
        n = int(line[1:])
        if n < 0: return None
        data = f.read(n + 2)[:-2]
        return data.decode()
    return line.decode().strip()
checked, bad, last = 0, 0, {}
for name in sorted(os.listdir(out)):
    rnd, t = [int(x[1:]) for x in name.split("_")]
    acked = sent = 0
    for line in open(os.path.join(out, name)):
        kind, n = line.split()
        if kind == "ok": acked = int(n)
        else: sent = int(n)
    keys = ["r%d:t%d:%d" % (rnd, t, n) for n in range(1, acked + 1)]
    for i in range(0, len(keys), 200):
        batch = keys[i:i + 200]
        cmd("MGET", *batch)
        for k, v in zip(batch, read()):
            checked += 1
            if v != "v" + k.split(":")[2]:
                bad += 1
                if bad < 10: print("LOST: %s = %r" % (k, v))
    last[t] = (rnd, acked, sent)  # rounds sorted: the latest round wins
for t, (rnd, acked, sent) in last.items():
    cmd("GET", "counter:t%d" % t)
    v = read()
    if acked == 0: continue
    r, n = map(int, v.split(":")) if v else (0, 0)
    if (r, n) < (rnd, acked) or (r == rnd and n > sent):
        bad += 1
        print("counter:t%d = %r, acknowledged %d:%d, sent up to %d" % (t, v, rnd, acked, sent))
print("verified %d acknowledged writes, %d wrong" % (checked, bad))
sys.exit(1 if bad else 0)
PY
}

total_rounds_with_torn=0
for round in $(seq 1 "$iterations"); do
  kv_boot "$dir/boot.log" || exit 1
  grep -E "^kv: log: (generation|torn)" "$dir/boot.log" | sed "s/^/round $round: /"
  grep -q "^kv: log: torn" "$dir/boot.log" && total_rounds_with_torn=$((total_rounds_with_torn + 1))
  verify || fail "round $round: acknowledged writes lost"
  compact=0
  [ $((round % 4)) = 2 ] && compact=1
  writer "$round" "$compact" &
  writer_pid=$!
  # Once writes are flowing, a random moment within the next second.
  for _ in $(seq 1 100); do
    grep -qs "^ok" "$acked"/r"${round}"_t* && break
    sleep 0.05
  done
  sleep "0.$(printf %03d $((RANDOM % 1000)))"
  kv_kill
  wait "$writer_pid"
  [ $failed = 0 ] || break
done
kv_boot "$dir/boot.log" || exit 1
verify || fail "final boot: acknowledged writes lost"
expect "OK" SET after-crashes yes
expect '"yes"' GET after-crashes
grep -q "compacted" "$dir"/boot.log 2>/dev/null
cli INFO | grep -E "^log_(generation|records_replayed)"
kv_kill
echo "rounds whose boot found a torn tail: $total_rounds_with_torn"
[ $failed = 0 ] || exit 1
echo "kv crash test: no acknowledged write lost in $iterations SIGKILLs"
