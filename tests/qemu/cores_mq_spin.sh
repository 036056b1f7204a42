# Sourced by cores_mq_test.sh LOADGEN spin, once echo serves on 4 harts with
# a queue pair each (it sets $log, $loadgen, $harts, $qemu_pid, $failed): a
# core that stops polling cannot stall the others' queues (issue 14, bad
# input). Core 0's app task spins for good after 20 UDP echoes (echo
# --spin-after): core 0 holds the device's one interrupt line and rings the
# other cores' doorbells, so from then on nothing wakes them - but a core on
# its own pair sleeps at most 10 ms (RingletPlatform::set_max_sleep_ns) and
# then polls its pair. Afterwards, of 64 UDP flows (RSS spreads them over the
# 4 pairs: ~16 each, so every core gets some) those on cores 1-3 must still be
# answered: at least half of all requests, each core serving more (its
# --core-stats line every 20), and some waits ended by the cap.

# Until core 0 spins: its flows' datagrams are lost from then on.
"$loadgen" --host 10.0.2.15 --proto udp --port 5555 --clients 16 --size 64 --requests 400 \
  --timeout-ms 300 --allow-timeouts --no-progress >/dev/null 2>&1
for _ in $(seq 1 100); do
  grep -q "^echo: core 0 spinning on purpose" <(tr -d '\r' <"$log") && break
  sleep 0.1
done
tr -d '\r' <"$log" | grep -q "^echo: core 0 spinning on purpose (--spin-after)$" || die "core 0 did not start spinning"
before=$(tr -d '\r' <"$log" | wc -l)
sleep 0.5  # let every core run dry and sleep: from now on only the cap wakes them

summary=$("$loadgen" --host 10.0.2.15 --proto udp --port 5555 --clients 64 --size 64 --requests 4000 \
  --timeout-ms 500 --allow-timeouts --json --no-progress 2>/dev/null)
completed=$(grep -oE '"completed":[0-9]+' <<<"$summary" | cut -d: -f2)
mismatched=$(grep -oE '"mismatched_bytes":[0-9]+' <<<"$summary" | cut -d: -f2)
echo "with core 0 spinning: ${completed:-?} of 4000 UDP requests answered"
[ "${completed:-0}" -ge 2000 ] || fail "only ${completed:-0} of 4000 requests answered with core 0 spinning"
[ "${mismatched:-1}" = 0 ] || fail "answers with wrong bytes"
# Each other core served on (its --core-stats line every 20 requests) and
# slept with the cap (its sleep counters, printed with --stats).
sleep 0.5
after=$(tr -d '\r' <"$log" | tail -n +"$((before + 1))")
for k in $(seq 1 $((harts - 1))); do
  grep -qE "^echo: core $k: served [0-9]+$" <<<"$after" || fail "core $k served nothing more with core 0 spinning"
done
capped=$(grep -oE "^echo: sleep: core [1-9] .* capped=[0-9]+" <<<"$after" | grep -oE "capped=[0-9]+$" |
  cut -d= -f2 | sort -n | tail -1)
[ "${capped:-0}" -gt 0 ] || fail "no core's sleep was ended by the cap"
[ "$(grep -cE '^echo: core 0: served' <<<"$after")" = 0 ] || fail "core 0 served on while spinning"

kill -0 "$qemu_pid" 2>/dev/null || fail "QEMU exited during the test"
grep -E "PANIC|killed:|assertion failed" <<<"$after" && fail "the console reports a panic, a killed app or an lwIP assertion"
if [ $failed -ne 0 ]; then show_console; exit 1; fi
echo "ok: echo on $harts harts with a queue pair each: core 0 spinning, cores 1-$((harts - 1)) still answered ${completed} of 4000"
