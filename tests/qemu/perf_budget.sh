#!/usr/bin/env bash
# An instruction-count budget, checked on one QEMU boot under -icount
# shift=0 (exact and deterministic guest instruction counts, so this is no
# timing test: the same build always reads the same figure).
#
#   perf_budget.sh --line REGEX --budget N [--margin PCT] -- run-qemu.sh options
#
# REGEX (extended) must match a whole console line (anchor it) and capture
# the figure as its first parenthesised group. Fails if the line is missing or the figure is
# above N * (100 + PCT) / 100 (PCT defaults to 10).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

line="" budget="" margin=10
while [ $# -gt 0 ]; do
  case "$1" in
    --line) line=$2; shift 2 ;;
    --budget) budget=$2; shift 2 ;;
    --margin) margin=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "perf_budget.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$line" ] && [ -n "$budget" ] || { echo "perf_budget.sh: --line and --budget are required" >&2; exit 2; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$root/scripts/run-qemu.sh" --no-build --icount --smp 1 --timeout "${BOOT_TIMEOUT:-60}" "$@" >"$log" 2>&1
rc=$?
tr -d '\r' <"$log" >"$log.clean" && mv "$log.clean" "$log"

figure=$(sed -nE "s/${line}/\\1/p" "$log" | head -n 1)
limit=$(( budget * (100 + margin) / 100 ))
if [ $rc -ne 0 ] || [ -z "$figure" ]; then
  echo "FAILED: exit code $rc, figure matching /$line/: '${figure}'"
  echo "---- console ----"; cat "$log"; exit 1
fi
if [ "$figure" -gt "$limit" ]; then
  echo "FAILED: $figure instructions, budget $budget (+$margin % = $limit)"; exit 1
fi
echo "ok: $figure instructions, budget $budget (+$margin % = $limit)"
