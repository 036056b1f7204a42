#!/usr/bin/env bash
# Boots the riscv64 build in QEMU and checks its serial console.
#
#   expect_boot.sh [--exit 0|nonzero|timeout] [--has REGEX]... [--count REGEX N]...
#                  [--lacks REGEX]... -- run-qemu.sh options
#
# Fails (exit 1) naming each check that did not hold, and prints the console.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

want_exit=0
has=() lacks=() count_re=() count_n=()
while [ $# -gt 0 ]; do
  case "$1" in
    --exit) want_exit=$2; shift 2 ;;
    --has) has+=("$2"); shift 2 ;;
    --lacks) lacks+=("$2"); shift 2 ;;
    --count) count_re+=("$2"); count_n+=("$3"); shift 3 ;;
    --) shift; break ;;
    *) echo "expect_boot.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$root/scripts/run-qemu.sh" --no-build --timeout "${BOOT_TIMEOUT:-60}" "$@" >"$log" 2>&1
rc=$?
# The console ends lines with CRLF (the SBI console may add its own CR).
tr -d '\r' <"$log" >"$log.clean" && mv "$log.clean" "$log"

failed=0
fail() { echo "FAILED: $*"; failed=1; }
if [ "$want_exit" = timeout ]; then
  [ $rc -eq 124 ] || fail "exit code $rc, expected QEMU to be still running at the timeout"
elif [ "$want_exit" = nonzero ]; then
  { [ $rc -ne 0 ] && [ $rc -ne 124 ]; } || fail "exit code $rc, expected a failure code from the kernel"
else
  [ $rc -eq "$want_exit" ] || fail "exit code $rc, expected $want_exit"
fi
for re in "${has[@]}"; do grep -Eq -- "$re" "$log" || fail "console lacks /$re/"; done
for re in "${lacks[@]}"; do ! grep -Eq -- "$re" "$log" || fail "console has /$re/"; done
for i in "${!count_re[@]}"; do
  n=$(grep -Ec -- "${count_re[$i]}" "$log")
  [ "$n" -eq "${count_n[$i]}" ] || fail "/${count_re[$i]}/ seen $n times, expected ${count_n[$i]}"
done
if [ $failed -ne 0 ]; then
  echo "---- console (exit code $rc) ----"; cat "$log"; exit 1
fi
echo "ok: exit code $rc, all console checks hold"
