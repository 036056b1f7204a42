#!/usr/bin/env bash
# kv on Ringlet (QEMU, user networking, virtio-blk), driven by real clients:
#   1. redis-cli: every command against its expected reply;
#   2. redis-benchmark -t ping,set,get,incr,mset -P 16: finishes, no errors
#      (its requests/s are printed, not asserted);
#   3. malformed RESP over raw sockets (binary junk, a 1 GiB `$` header, a
#      half request then close): an error to that client, others served;
#   4. SIGKILL, boot again on the same disk: every write is there;
#   5. blkdebug fails the first commit's flush: that SET gets -ERR, the next
#      works, nothing acknowledged is lost, and a normal boot finds it all.
set -uo pipefail
source "$(dirname "$0")/kv_lib.sh"
img=$dir/kv.img
truncate -s 16M "$img"

kv_boot "$dir/boot1.log" || exit 1
# ---- 1. every command -------------------------------------------------------
expect "PONG" PING
expect '"hi"' PING hi
expect '"hello world"' ECHO "hello world"
expect "OK" SET a 1
expect '"1"' GET a
expect "(nil)" GET none
expect "(nil)" SET a 2 NX
expect '"1"' SET a 2 XX GET
expect "OK" SET e v EX 100
expect "(integer) 100" TTL e
expect "OK" SET p v PX 100000
expect "(integer) 1" PERSIST p
expect "(integer) -1" PTTL p
expect "(integer) 1" EXPIRE p 50
expect "(integer) 1" PEXPIRE p 50000
expect "(integer) -2" TTL none
expect '"2"' GETSET a 3
expect "(integer) 1" INCR n
expect "(integer) 11" INCRBY n 10
expect "(integer) 10" DECR n
expect "(integer) 6" DECRBY n 4
expect "(error) ERR value is not an integer or out of range" INCR e
expect "(error) ERR wrong number of arguments for 'incr' command" INCR a x
expect "(integer) 3" APPEND s foo
expect "(integer) 6" APPEND s bar
expect "(integer) 6" STRLEN s
expect "OK" MSET m1 x m2 y
expect $'1) "x"\n2) (nil)\n3) "y"' MGET m1 none m2
expect "(integer) 2" EXISTS m1 m2 none
expect "(integer) 1" DEL m1 none
expect '1) "m2"' KEYS 'm*'
expect $'1) "0"\n2) 1) "m2"' SCAN 0 MATCH 'm*' COUNT 100
expect "(integer) 6" DBSIZE
expect "OK" SELECT 0
expect "(error) ERR DB index is out of range" SELECT 1
expect "(error) ERR syntax error" SET a 1 NX XX
expect "(error) ERR unknown command 'foo', with args beginning with: 'bar' " foo bar
expect "(error) ERR wrong number of arguments for 'get' command" GET
cli INFO | grep -q "^os:ringlet" || fail "INFO lacks os:ringlet"
cli INFO | grep -q "^aof_enabled:1" || fail "INFO lacks aof_enabled:1"

# ---- 2. redis-benchmark -----------------------------------------------------
bench=$(timeout 120 redis-benchmark -p "$port" -t ping,set,get,incr,mset -P 16 -q -n 2000 2>&1 | tr '\r' '\n')
rc=$?
[ $rc = 0 ] || fail "redis-benchmark exited $rc"
for t in PING_INLINE PING_MBULK SET GET INCR MSET; do
  echo "$bench" | grep -q "^$t.*requests per second" || fail "redis-benchmark: no result for $t"
done
echo "$bench" | grep -qi "error" && fail "redis-benchmark reported errors"
echo "$bench" | grep "requests per second"
expect '"2000"' GET counter:__rand_int__

# ---- 3. malformed RESP --------------------------------------------------------
python3 - "$port" <<'PY' || fail "malformed RESP handling"
import socket, sys
port = int(sys.argv[1])
def conn():
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    return s
def reply_and_close(payload):
    s = conn(); s.sendall(payload); data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk: break
        data += chunk
    s.close(); return data
good = conn(); good.sendall(b"*1\r\n$4\r\nPI")  # half a request, completed later
cases = [
    (b"*1\r\n\x00\xff\x10junk", b"-ERR Protocol error: expected '$', got '?'\r\n"),
    (b"*2\r\n$3\r\nSET\r\n$1073741824\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*-5x\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*" + bytes(range(256)) * 300, b"-ERR Protocol error: too big mbulk count string\r\n"),  # binary junk
]
for payload, want in cases:
    got = reply_and_close(payload)
    if not got.startswith(b"-ERR Protocol error: ") or (want is not None and got != want):
        print("case", payload[:20], "got", got); sys.exit(1)
half = conn(); half.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$5\r\nab"); half.close()
good.sendall(b"NG\r\n")
if good.recv(100) != b"+PONG\r\n": print("the patient client was not served"); sys.exit(1)
PY
expect "(nil)" GET x
expect "PONG" PING

# ---- 4. SIGKILL and boot again ------------------------------------------------
keys=$(cli DBSIZE)
kv_kill
kv_boot "$dir/boot2.log" || exit 1
grep -E "^kv: log: generation" "$dir/boot2.log"
expect '"3"' GET a
expect '"foobar"' GET s
expect '"6"' GET n
expect '"2000"' GET counter:__rand_int__
expect "$keys" DBSIZE
kv_kill

# ---- 5. a flush that fails (QEMU blkdebug) -------------------------------------
# Flush 1 is the boot's superblock; the first commit's flush (2) fails once.
cat >"$dir/blkdebug.conf" <<'CONF'
[set-state]
state = "1"
event = "flush_to_disk"
new_state = "2"

[inject-error]
state = "2"
event = "flush_to_disk"
errno = "5"
once = "on"
CONF
kv_boot "$dir/boot3.log" -drive "file=blkdebug:$dir/blkdebug.conf:$img,format=raw,if=none,id=disk0" \
  -device virtio-blk-device,drive=disk0 || exit 1
expect "(error) ERR disk error: the write could not be made durable" SET f 1
expect "OK" SET g 2
expect '"3"' GET a
cli INFO | grep -q "^log_failed_commits:1" || fail "INFO: log_failed_commits is not 1"
kv_kill
kv_boot "$dir/boot4.log" || exit 1
expect '"2"' GET g
expect '"3"' GET a
expect "OK" SET h 3
kv_kill
[ $failed = 0 ] || { for f in "$dir"/boot*.log; do echo "== $f"; tail -20 "$f"; done; exit 1; }
echo "kv on Ringlet: all checks passed"
