# Sourced by cores_mq_test.sh LOADGEN spin, once echo serves on 4 harts with
# a queue pair each (it sets $log, $loadgen, $harts, $qemu_pid, $failed): a
# core that stops polling cannot stall the others' queues (issue 14, bad
# input). Core 0's app task spins for good after 20 UDP echoes (echo
# --spin-after): core 0 holds the device's one interrupt line and rings the
# other cores' doorbells, so from then on its libOS wakes no one - but its
# upcall (libos/backend/owner_upcall.h) does, every 200 us while its app
# code runs on. Afterwards, of 64 UDP flows (RSS spreads them over the 4
# pairs: ~16 each, so every core gets some) those on cores 1-3 must still be
# answered: at least 3,000 of 4,000 (core0_spin.sh; with only the 100 ms
# sleep cap, the backstop, 2,313 were), each core serving more (its
# --core-stats line every 20).

. "$(dirname "${BASH_SOURCE[0]}")/core0_spin.sh"
core0_spin_load --host 10.0.2.15 --port 5555

kill -0 "$qemu_pid" 2>/dev/null || fail "QEMU exited during the test"
grep -E "PANIC|killed:|assertion failed" <<<"$after" && fail "the console reports a panic, a killed app or an lwIP assertion"
if [ $failed -ne 0 ]; then show_console; exit 1; fi
echo "ok: echo on $harts harts with a queue pair each: core 0 spinning, cores 1-$((harts - 1)) still answered ${completed} of 4000"
