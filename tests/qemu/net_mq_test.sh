#!/usr/bin/env bash
# virtio-net multiqueue with RSS and virtio-blk multiqueue on QEMU 7.2, for
# real: a multiqueue tap (queues=4) inside a private network namespace and
# `virtio-net-device,mq=on,rss=on`, a disk with `num-queues=4`. The guest
# app mqcheck brings up 4 queue pairs with RSS programmed from
# net/flow_steering (the control queue's answer decides), then receives UDP
# datagrams from 64 source ports; every one must arrive on the queue pair
# (core) the software steering computes for its flow, spread over all four,
# and come back, echoed from that pair's TX queue, to the socket it left.
# Then each of the disk's 4 request queues writes and reads back a sector.
# Needs root for unshare -n and the tap device (CI runs as root).
#
#   net_mq_test.sh
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

. "$(dirname "$0")/netns.sh" "$0" "$@"  # from here on in a private network namespace

frames=256
log=$(mktemp)
work=$(mktemp -d)
qemu_pid=""
failed=0
. "$(dirname "$0")/mq_tap.sh"
truncate -s 1M "$work/disk.img"

setpriv --pdeathsig KILL -- "$root/scripts/run-qemu.sh" --no-build --timeout 120 \
  --append "shutdown init=mqcheck:$frames" -- \
  -netdev tap,id=mq0,ifname=tap0,script=no,downscript=no,queues=4 \
  -device virtio-net-device,netdev=mq0,mq=on,rss=on,hash=on \
  -drive "file=$work/disk.img,format=raw,if=none,id=d0" -device virtio-blk-device,drive=d0,num-queues=4 \
  >"$log" 2>&1 &
qemu_pid=$!

for _ in $(seq 1 600); do
  grep -q "mqcheck: net receiving\|mqcheck: done" "$log" && break
  kill -0 "$qemu_pid" 2>/dev/null || break
  sleep 0.1
done
grep -q "mqcheck: net receiving" "$log" || die "the guest never brought the queues up"
mac=$(tr -d '\r' <"$log" | sed -n 's/^mqcheck: net mac \([0-9a-f:]*\).*/\1/p' | head -1)
ip neigh replace 10.0.2.15 lladdr "$mac" dev tap0 nud permanent || die "cannot add the guest's neighbour entry"

# $frames datagrams from 64 source ports (several flows per core); each
# echo must come back to the socket that sent it, byte for byte.
python3 - "$frames" <<'PY' || fail "the echoes did not all come back"
import select, socket, sys, time
n = int(sys.argv[1])
socks = []
for i in range(64):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("10.0.2.2", 40000 + i))
    s.setblocking(False)
    socks.append(s)
want = {}
for i in range(n):
    msg = b"mq %d" % i
    socks[i % 64].sendto(msg, ("10.0.2.15", 7777))
    want.setdefault(i % 64, []).append(msg)
    time.sleep(0.002)
got = {}
deadline = time.time() + 20
while sum(len(v) for v in got.values()) < n and time.time() < deadline:
    ready, _, _ = select.select(socks, [], [], 0.5)
    for s in ready:
        data, addr = s.recvfrom(2048)
        got.setdefault(socks.index(s), []).append(data)
bad = [i for i in want if sorted(want[i]) != sorted(got.get(i, []))]
print("echoes back: %d of %d, sockets with wrong echoes: %d" % (sum(len(v) for v in got.values()), n, len(bad)))
sys.exit(1 if bad else 0)
PY

for _ in $(seq 1 600); do
  grep -q "mqcheck: done" "$log" && break
  kill -0 "$qemu_pid" 2>/dev/null || break
  sleep 0.1
done
wait "$qemu_pid"
rc=$?
qemu_pid=""
console=$(tr -d '\r' <"$log")

grep -q "mqcheck: net pairs 4 of 4, rss on, status Ok" <<<"$console" ||
  fail "the device did not take 4 pairs with RSS"
line=$(grep "mqcheck: net udp" <<<"$console")
read -r udp p0 p1 p2 p3 on_core elsewhere < <(sed -n \
  's/.*udp \([0-9]*\), per pair \([0-9]*\) \([0-9]*\) \([0-9]*\) \([0-9]*\), on their flow.s core \([0-9]*\), elsewhere \([0-9]*\).*/\1 \2 \3 \4 \5 \6 \7/p' <<<"$line")
[ "${udp:-0}" = "$frames" ] || fail "received ${udp:-0} of $frames datagrams: $line"
[ "${elsewhere:-1}" = 0 ] || fail "datagrams on another pair than their flow's core: $line"
for p in "${p0:-0}" "${p1:-0}" "${p2:-0}" "${p3:-0}"; do
  [ "$p" -gt 0 ] || fail "a queue pair received nothing: $line"
done
grep -q "mqcheck: blk queues 4 of 4, verified on 4" <<<"$console" || fail "the disk's 4 queues did not all verify"
grep -q "mqcheck: done, ok" <<<"$console" || fail "mqcheck did not finish ok"
[ "$rc" = 0 ] || fail "QEMU exited with $rc"
if [ $failed -ne 0 ]; then show_console; exit 1; fi
grep "mqcheck:" <<<"$console"
echo "PASSED"
