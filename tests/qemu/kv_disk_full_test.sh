#!/usr/bin/env bash
# kv on Ringlet with a disk too small for what clients write (issue 16: a full
# disk loses nothing and refuses clearly):
#   1. SET distinct 2 KiB values until the log refuses: the refusal is
#      "-ERR disk full", and it is not a fluke (the next writes are refused too);
#   2. every acknowledged key reads back its own value; reads, PING and INFO
#      still work;
#   3. DEL of half the keys succeeds on the full disk (deleting frees room, so
#      it must not be refused), after which new SETs are accepted again;
#   4. SIGKILL and boot on the same disk: exactly the acknowledged state.
set -uo pipefail
source "$(dirname "$0")/kv_lib.sh"
img=$dir/kv.img
truncate -s 256K "$img"   # two log areas of 126 KiB each

kv_boot "$dir/boot1.log" || exit 1
python3 - "$port" "$dir/state.json" <<'PY' || fail "full-disk session"
import json, socket, sys
port, state_path = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=30)
buf = b""
def command(*args):
    global buf
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    s.sendall(out)
    return reply()
def line():
    global buf
    while b"\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk: raise SystemExit("connection closed")
        buf += chunk
    l, buf = buf.split(b"\r\n", 1)
    return l
def reply():
    global buf
    l = line()
    if l[:1] == b"$":
        n = int(l[1:])
        if n < 0: return None
        while len(buf) < n + 2:
            buf += s.recv(65536)
        v, buf = buf[:n], buf[n + 2:]
        return v
    return l
def value(i, gen=0):
    return (b"%06d-%d:" % (i, gen) * 300)[:2048]
full = b"-ERR disk full: no room in the append-only log for this write"
acked = {}
for i in range(400):
    r = command("SET", "key%d" % i, value(i))
    if r == b"+OK": acked["key%d" % i] = value(i); continue
    if r != full: raise SystemExit("SET %d: unexpected reply %r" % (i, r))
    break
else:
    raise SystemExit("400 SETs of 2 KiB fit on a 256 KiB disk: the log does not fill")
print("acknowledged before the disk was full:", len(acked))
if len(acked) < 20: raise SystemExit("the log refused too early: %d" % len(acked))
for j in range(3):  # still full for a 2 KiB record, also an overwrite (a small one may still fit)
    for args in (("SET", "late%d" % j, value(999)), ("SET", "key0", value(0, 9))):
        r = command(*args)
        if r != full: raise SystemExit("%s on a full disk: %r" % (args[0], r))
for k, v in acked.items():
    got = command("GET", k)
    if got != v: raise SystemExit("GET %s after the disk filled: wrong value" % k)
if command("PING") != b"+PONG": raise SystemExit("PING on a full disk")
if command("DBSIZE") != b":%d" % len(acked): raise SystemExit("DBSIZE is not the acknowledged count")
# Deleting frees room: it must work on a full disk.
doomed = sorted(acked)[::2]
for k in doomed:
    r = command("DEL", k)
    if r != b":1": raise SystemExit("DEL %s on a full disk: %r" % (k, r))
    del acked[k]
later = 0
for i in range(1000, 1000 + len(doomed) // 2):
    r = command("SET", "key%d" % i, value(i, 1))
    if r != b"+OK": raise SystemExit("SET after freeing half the keys: %r" % r)
    acked["key%d" % i] = value(i, 1); later += 1
print("accepted again after deleting %d keys: %d" % (len(doomed), later))
json.dump({k: v.decode() for k, v in acked.items()}, open(state_path, "w"))
PY
kv_kill
kv_boot "$dir/boot2.log" || exit 1
grep -E "^kv: log: generation" "$dir/boot2.log"
python3 - "$port" "$dir/state.json" <<'PY' || fail "state after the restart"
import json, socket, subprocess, sys
port, state = int(sys.argv[1]), json.load(open(sys.argv[2]))
keys = subprocess.run(["redis-cli", "-p", str(port), "--raw", "KEYS", "*"], capture_output=True, text=True,
                      timeout=30).stdout.split()
if sorted(keys) != sorted(state): raise SystemExit("keys after the restart differ: %d vs %d" % (len(keys), len(state)))
for k, v in state.items():
    got = subprocess.run(["redis-cli", "-p", str(port), "--raw", "GET", k], capture_output=True, text=True,
                         timeout=30).stdout.rstrip("\n")
    if got != v: raise SystemExit("GET %s after the restart: wrong value" % k)
print("all %d acknowledged keys survived the restart" % len(state))
PY
kv_kill
[ $failed = 0 ] || { for f in "$dir"/boot*.log; do echo "== $f"; tail -20 "$f"; done; exit 1; }
echo "kv on a full disk: all checks passed"
