# Performance budgets (label perf): guest instruction counts read from the
# console of a QEMU boot under -icount shift=0 -smp 1, where they are exact
# and deterministic. A test fails when its figure exceeds the budget by more
# than 10 %. Each budget is a measured figure; when a change moves one on
# purpose, measure again and update the constant and where it came from.

set(perf_budget ${CMAKE_CURRENT_SOURCE_DIR}/perf_budget.sh)

# ringlet_perf_test(name BUDGET n LINE regex ARGS run-qemu.sh options...):
# LINE captures the figure as its first group.
function(ringlet_perf_test name)
  cmake_parse_arguments(T "" "BUDGET;LINE" "ARGS" ${ARGN})
  add_test(NAME ${name} COMMAND ${perf_budget} --line ${T_LINE} --budget ${T_BUDGET} -- ${T_ARGS})
  set_tests_properties(${name} PROPERTIES
    ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD};BOOT_TIMEOUT=60"
    TIMEOUT 120 LABELS "qemu;perf")
endfunction()

# A syscall round trip (user/microbench: wait with a deadline already past,
# averaged over 10,000 calls): 143 instructions measured on 2026-12-02 with
# the lock-free fast path (it was 919 before; issue 13 asks for <= 150).
set(RINGLET_BUDGET_SYSCALL_ROUND_TRIP 143)
ringlet_perf_test(perf.syscall_round_trip
  BUDGET ${RINGLET_BUDGET_SYSCALL_ROUND_TRIP}
  LINE "^microbench: syscall round trip: ([0-9]+) instructions$"
  ARGS --append "shutdown init=microbench")

# A PDPIX round (user/microbench: a push and a pop on a loopback pipe, both
# results collected with demi_wait_next_n) while 512 other operations wait -
# an event loop's idle connections. 3,468 instructions (1,000 rounds; 3,314 over 10,000) measured on
# 2026-12-03 with the libOS's done list (3,297 with nothing else pending);
# it was 19,818 (17,558) when wait_next_n scanned all 1,024 operations for
# each result. kv and httpd wait this way, so with 50 clients their cost per
# request no longer grows with the connections open.
# 3,305 (1,000 rounds) on 2026-12-03 with 128-byte ops and one-compare
# token checks; 3,190 with the done list a ring through a sentinel op and
# apps built without frame pointers; 3,252 with the executor's fast round
# (its ready-task count is kept on every task switch, which this round
# with tasks pays and the echoes do not).
set(RINGLET_BUDGET_PDPIX_ROUND_AMONG_PENDING 3250)
ringlet_perf_test(perf.pdpix_round_among_pending
  BUDGET ${RINGLET_BUDGET_PDPIX_ROUND_AMONG_PENDING}
  LINE "^microbench: PDPIX round, 512 operations pending: ([0-9]+) instructions$"
  ARGS --append "shutdown init=microbench:1000")

# The 64-byte UDP echo (user/echo, one closed-loop host client), two ways
# (tests/qemu/perf_echo_budget.sh): the exact profile total - every
# instruction the hart retired per request, kernel sleep/wake included, idle
# excluded - and the figure echo --stats reads in the guest at full speed
# (everything but its time inside wait). History (profile / stats,
# quiet host; builds sharing it add up to ~15 %: the app polls empty and
# sleeps more often): ~14,400 / ~16,900 before issue 13; 5,279 / ~6,600
# after the zero-copy dataplane; ~4,600 / ~5,600 with the cheaper per-packet
# path; 3,763 / 4,236 with the inline poller and the UDP template; 3,238 /
# ~4,000 with batched TX reaping and trimmed PDPIX; 2,467 / 3,439 with
# inline starts, one-compare tokens and the one-step TX. 2026-12-03,
# session 9: 2,027 / 2,836 (this test's window; scripts/profile.sh's 1,971)
# after the one-function UDP receive and send, the cached neighbour MAC, the
# leaner virtqueue (one 16-byte head per descriptor, inline pop), the done
# ring, short checksums in 32-bit words and apps built without frame
# pointers. Session 10: 1,944 / 2,779 (profile.sh 1,945-1,953) with the
# executor's fast round.
# Budgets sit ~6 % above the quiet figures: with the +10 % margin a loaded
# host passes, a real regression does not.
set(RINGLET_BUDGET_UDP_ECHO_64_PROFILE 2050)
set(RINGLET_BUDGET_UDP_ECHO_64_STATS 2950)
foreach(kind profile stats)
  string(TOUPPER ${kind} KIND)
  add_test(NAME perf.udp_echo_64_${kind}
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/perf_echo_budget.sh --figure ${kind}
            --budget ${RINGLET_BUDGET_UDP_ECHO_64_${KIND}} $<TARGET_FILE:ringlet_loadgen>)
  set_tests_properties(perf.udp_echo_64_${kind} PROPERTIES
    ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD}"
    TIMEOUT 300 LABELS "qemu;perf;net" RESOURCE_LOCK qemu_net)
endforeach()

# The 64-byte TCP echo's exact profile total (same script, --proto tcp; the
# window holds the connection's handshake and close too: loadgen connects
# once): 5,095 measured on 2026-12-03 with the TCP fast paths and the UDP
# round's driver cuts (5,667-5,715 with the TCP fast paths alone)
# (net/tcp_fast_path.h: header prediction in front of tcp_input; a push
# queued and sent without tcp_write/tcp_output, its headers in the echoed
# buffer's headroom); it was 8,100-8,190 with every segment through lwIP.
# Budget a little above the quiet-host figure, as for UDP.
# Measured again on 2026-12-03 (4,609, twice, with builds sharing the host;
# 5,128 before on the same host) after a waiting pop took in-order segments
# straight from header prediction (no pbuf, recv callback or tcp_recved) and
# acknowledged fast-sent segments were taken apart in place with their
# tcp_segs reused. Budget just above it: with the 10 % margin, a return to
# the old ~5,100 fails.
# Measured again on 2026-12-03 with the same PDPIX and driver cuts: 3,647-3,657
# on a quiet host (3,993 with builds sharing it). Session 9: 2,977 (TCP
# pushes reaped inline by echo, the announced-window rule and the cached MAC
# in the fast paths, the UDP round's driver/PDPIX cuts, no frame pointers);
# session 10: 2,926-2,929 (profile.sh 2,912-2,922) with the executor's fast
# round.
set(RINGLET_BUDGET_TCP_ECHO_64_PROFILE 3100)
add_test(NAME perf.tcp_echo_64_profile
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/perf_echo_budget.sh --figure profile --proto tcp
          --budget ${RINGLET_BUDGET_TCP_ECHO_64_PROFILE} $<TARGET_FILE:ringlet_loadgen>)
set_tests_properties(perf.tcp_echo_64_profile PROPERTIES
  ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD}"
  TIMEOUT 300 LABELS "qemu;perf;net" RESOURCE_LOCK qemu_net)
