# Sourced by the tests where core 0's app task spins for good after 20 UDP
# echoes (echo --spin-after 20 --core-stats:20): cores_mq_spin.sh (a queue
# pair per core) and cores_echo_test.sh spin (one queue pair). The caller sets
# $log, $loadgen, $harts and fail()/die().
#
#   core0_spin_load LOADGEN_TARGET_ARGS...
# drives UDP traffic at echo until core 0 spins (its flows' datagrams are
# lost from then on), then 64 UDP flows, 4,000 requests: at least 3,000 must
# be answered (those of core 0's ~16 flows time out), every byte right, every other core must serve more (its
# --core-stats line), core 0 none. Sets $completed and $after (the console
# lines since core 0 began spinning) for the caller's own checks.
core0_spin_load() {
  # Each client is a flow (its source port), hashed to a core: 16 flows miss
  # core 0 altogether about once in a hundred boots, so new clients (new
  # flows) go on until core 0 has echoed its 20 and spins.
  local attempt
  for attempt in 1 2 3 4 5 6; do
    "$loadgen" "$@" --proto udp --clients 16 --size 64 --requests 400 \
      --timeout-ms 300 --allow-timeouts --no-progress >/dev/null 2>&1
    for _ in $(seq 1 20); do
      grep -q "^echo: core 0 spinning on purpose" <(tr -d '\r' <"$log") && break 2
      sleep 0.1
    done
  done
  tr -d '\r' <"$log" | grep -q "^echo: core 0 spinning on purpose (--spin-after)$" || die "core 0 did not start spinning"
  local before summary mismatched k
  before=$(tr -d '\r' <"$log" | wc -l)
  sleep 0.5  # every core runs dry and sleeps

  summary=$("$loadgen" "$@" --proto udp --clients 64 --size 64 --requests 4000 \
    --timeout-ms 500 --allow-timeouts --json --no-progress 2>/dev/null)
  completed=$(grep -oE '"completed":[0-9]+' <<<"$summary" | cut -d: -f2)
  mismatched=$(grep -oE '"mismatched_bytes":[0-9]+' <<<"$summary" | cut -d: -f2)
  echo "with core 0 spinning: ${completed:-?} of 4000 UDP requests answered"
  [ "${completed:-0}" -ge 3000 ] || fail "only ${completed:-0} of 4000 requests answered with core 0 spinning"
  [ "${mismatched:-1}" = 0 ] || fail "answers with wrong bytes"
  sleep 0.5
  after=$(tr -d '\r' <"$log" | tail -n +"$((before + 1))")
  for k in $(seq 1 $((harts - 1))); do
    grep -qE "^echo: core $k: served [0-9]+$" <<<"$after" || fail "core $k served nothing more with core 0 spinning"
  done
  [ "$(grep -cE '^echo: core 0: served' <<<"$after")" = 0 ] || fail "core 0 served on while spinning"
}
