# Sourced by cores_mq_test.sh LOADGEN reset, once echo serves on 4 harts
# with a queue pair each (it sets $log, $loadgen, $harts, $qemu_pid, $failed):
# a multiqueue NIC reset by every core together (issue 15 item 4). The first
# core other than core 0 to echo 30 UDP requests makes its NIC act as if the
# device had broken its pair (echo --nic-fault-after): it tells core 0,
# which owns the device; the cores stop their pairs, core 0 resets QEMU's
# device, every core gives its buffers back, core 0 brings the device up
# again (4 pairs, RSS_CONFIG once more) and every core re-arms its pair.
# Afterwards 16 UDP and 16 TCP clients must be served on every pair, with
# exactly one reset line and no "given up".

# Until the fault: datagrams in flight when it hits are lost (as on a wire),
# so this run may fail; it only has to reach the fault.
"$loadgen" --host 10.0.2.15 --proto udp --port 5555 --clients 4 --size 64 --requests 400 \
  --timeout-ms 1000 --no-progress >/dev/null 2>&1
for _ in $(seq 1 100); do
  grep -q "resetting every queue pair" "$log" && break
  sleep 0.1
done
grep -qE "echo: core [1-9][0-9]*: NIC fault injected" "$log" || die "no NIC fault was injected on a core other than 0"
grep -q "virtio-net: multiqueue device misbehaved, resetting every queue pair (reset 1 of 8)" "$log" ||
  die "no multiqueue reset line"
sleep 1

"$loadgen" --host 10.0.2.15 --proto udp --port 5555 --clients 16 --sizes 16-1472 --requests 4000 \
  --timeout-ms 3000 --no-progress || fail "loadgen: UDP on every pair after the reset"
"$loadgen" --host 10.0.2.15 --proto tcp --port 5555 --clients 16 --sizes 64,1024,8192 --requests 1600 \
  --timeout-ms 10000 --no-progress || fail "loadgen: 16 TCP clients after the reset"
# 16 flows land on every pair (RSS): a pair left dead would time its clients out.
console=$(tr -d '\r' <"$log")
[ "$(grep -c 'resetting every queue pair' <<<"$console")" = 1 ] || fail "not exactly one reset"
grep -E "given up|giving it up" <<<"$console" && fail "the device was given up"

kill -0 "$qemu_pid" 2>/dev/null || fail "QEMU exited during the test"
grep -E "PANIC|killed:|assertion failed" <<<"$console" && fail "the console reports a panic, a killed app or an lwIP assertion"
if [ $failed -ne 0 ]; then show_console; exit 1; fi
echo "ok: echo on $harts harts, $harts queue pairs with RSS: one injected fault reset the device on every core, then every client was answered"
