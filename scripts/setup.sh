#!/usr/bin/env bash
# Installs what Ringlet needs on a Debian (bookworm) machine, and unpacks lwIP's
# Debian source package into build/third_party/. Idempotent; silent when there
# is nothing to do. Called by run-qemu.sh and test.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

packages=(
  build-essential cmake ninja-build git ca-certificates
  g++-riscv64-linux-gnu binutils-riscv64-linux-gnu
  qemu-system-misc opensbi u-boot-qemu u-boot-tools device-tree-compiler
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  gdb-multiarch cpio netcat-openbsd socat curl iproute2 dosfstools mtools fdisk
  clang lld llvm libclang-rt-14-dev spin valgrind dpkg-dev
  iputils-ping gnuplot-nox redis-tools python3 wrk apache2-utils
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# lwIP comes from Debian's source package, which needs a deb-src entry.
need_src=0
[ -d "$root/build/third_party/lwip/src/core" ] || need_src=1
if [ $need_src -eq 1 ] && ! grep -rqs '^Types:.*deb-src\|^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "setup: adding a deb-src entry for Debian's source packages"
  src=/etc/apt/sources.list.d/ringlet-deb-src.sources
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources | "${sudo_cmd[@]}" tee "$src" >/dev/null
  else
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      | "${sudo_cmd[@]}" tee "$src" >/dev/null
  fi
  missing+=(__update__)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]/__update__/}"
  "${sudo_cmd[@]}" apt-get update -qq
  pkgs=("${missing[@]/__update__/}")
  pkgs=($(printf '%s\n' "${pkgs[@]}" | grep -v '^$' || true))
  if [ ${#pkgs[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${pkgs[@]}" >/dev/null
  fi
fi

if [ $need_src -eq 1 ]; then
  echo "setup: unpacking lwIP (Debian source package) into build/third_party/lwip"
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get source -qq lwip >/dev/null 2>&1) || { echo "setup: apt-get source lwip failed" >&2; exit 1; }
  dir=$(find "$tmp" -maxdepth 1 -type d -name 'lwip-*' | head -n 1)
  [ -n "$dir" ] || { echo "setup: lwIP source not found after apt-get source" >&2; exit 1; }
  mkdir -p "$root/build/third_party"
  rm -rf "$root/build/third_party/lwip"
  mv "$dir" "$root/build/third_party/lwip"
  rm -rf "$tmp"
fi
