#!/usr/bin/env bash
# Runs every Ringlet test: host unit tests (GoogleTest, ASan+UBSan) and the
# QEMU system tests, all through ctest. Installs what is missing first.
# Warnings are errors here. Extra arguments go to ctest (e.g. -R qemu).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=$(nproc)

scripts/setup.sh
echo "== building riscv64 (kernel Image, apps)"
cmake --preset riscv64 -DRINGLET_WERROR=ON >/dev/null
cmake --build --preset riscv64 -- -j"$jobs"
echo "== building riscv64-zbb (the same with Zbb, for qemu.zbb)"
cmake --preset riscv64-zbb -DRINGLET_WERROR=ON >/dev/null
cmake --build --preset riscv64-zbb -- -j"$jobs"
echo "== building host (unit tests, tools)"
cmake --preset host -DRINGLET_WERROR=ON >/dev/null
cmake --build --preset host -- -j"$jobs"
echo "== running tests"
ctest --preset host -j"$jobs" --timeout 600 "$@"
