#!/usr/bin/env bash
# Boots Ringlet in QEMU (riscv64 virt, OpenSBI firmware). Installs what is
# missing and builds first. The exit code is QEMU's, i.e. the kernel's
# shutdown code (0 = clean), or 124 when --timeout expires.
#
#   scripts/run-qemu.sh [--smp N] [--queues N] [--mem SIZE] [--append "ARGS"] [--timeout S]
#                       [--gdb] [--icount] [--machine virt|sifive_u] [--cpu MODEL]
#                       [--initrd FILE|none] [--net SPEC] [--disk FILE] [--disk-queues N] [--uboot] [--no-build]
#                       [--app NAME] [-- extra QEMU args]
# Without --initrd the built initrd (every app in user/) is loaded.
# --cpu MODEL is QEMU's -cpu; on virt the default is rv64 with V (RVV 1.0).
# --net udp:PORT[:GUEST],tcp:PORT[:GUEST],... adds a virtio-net device on QEMU
# user networking (the guest is 10.0.2.15) with those host ports forwarded
# from 127.0.0.1. --net tap:IFNAME puts the virtio-net device on the existing
# host tap device IFNAME instead (no scripts run; the host side configures
# it, e.g. 10.0.2.2/24 inside a network namespace: tests/qemu/net_tap_test.sh);
# with --queues N (a tap made with multi_queue) the device gets N queue pairs
# and RSS, so each of the echo's cores (--smp N) drives its own pair.
# With --smp N the default echo runs on all N harts (one libOS per core).
# With no --append, the default apps run: the echo server on
# UDP and TCP port 5555, reachable from the host (--net udp:5555,tcp:5555
# unless --net is given). --disk FILE adds a virtio-blk device backed by the
# raw image FILE (created, 16 MiB of zeros, if missing); --disk-queues N
# gives it N request queues (num-queues=N), one per core of an app on
# N harts (default 1: the other cores forward to core 0). --uboot
# boots the way a VisionFive 2 does: OpenSBI -> U-Boot -> boot.scr -> booti
# from an SD-card image (scripts/uboot-disk.sh) on a virtio disk.
# --app NAME boots one of the served apps with its usual host ports:
#   echo   UDP and TCP 5555 (the default)
#   httpd  TCP 8080 (the HTTP server: curl http://127.0.0.1:8080/)
#   kv     the RESP key-value server on TCP 6379, its log on --disk FILE
#          (default build/kv-disk.img, created on first use)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/qemu_cpu.sh
source "$root/scripts/qemu_cpu.sh"  # RINGLET_QEMU_CPU: the default CPU on virt

smp=1 queues=1 disk_queues=1 mem=256M append="" timeout_s="" gdb=0 build=1 icount=0 machine=virt cpu="" initrd="" uboot=0 net="" append_given=0 disk="" app=""
extra=()
usage() { sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit "${1:-0}"; }  # the header comment
while [ $# -gt 0 ]; do
  case "$1" in
    --smp) smp=$2; shift 2 ;;
    --queues) queues=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --append) append=$2; append_given=1; shift 2 ;;
    --net) net=$2; shift 2 ;;
    --disk) disk=$2; shift 2 ;;
    --disk-queues) disk_queues=$2; shift 2 ;;
    --app) app=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --gdb) gdb=1; shift ;;
    --icount) icount=1; shift ;;
    --machine) machine=$2; shift 2 ;;
    --cpu) cpu=$2; shift 2 ;;
    --initrd) initrd=$2; shift 2 ;;
    --uboot) uboot=1; shift ;;
    --no-build) build=0; shift ;;
    -h|--help) usage 0 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "run-qemu.sh: unknown option '$1'" >&2; usage 2 ;;
  esac
done
case "$smp" in ''|*[!0-9]*) echo "run-qemu.sh: --smp needs a number" >&2; exit 2 ;; esac
case "$queues" in ''|*[!0-9]*|0) echo "run-qemu.sh: --queues needs a number (1..)" >&2; exit 2 ;; esac
case "$disk_queues" in ''|*[!0-9]*|0) echo "run-qemu.sh: --disk-queues needs a number (1..)" >&2; exit 2 ;; esac

build_dir=${RINGLET_RISCV_BUILD:-$root/build/riscv64}
if [ $build -eq 1 ]; then
  "$root/scripts/setup.sh"
  if [ ! -f "$build_dir/build.ninja" ]; then
    cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$root/arch/riscv64/toolchain.cmake" \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  cmake --build "$build_dir" -- -j"$(nproc)" >/dev/null || cmake --build "$build_dir" -- -j1
fi
image=$build_dir/Image
[ -f "$image" ] || { echo "run-qemu.sh: no kernel image at $image" >&2; exit 2; }

[ $append_given -eq 0 ] && [ -z "$app" ] && app=echo
# Each served app: its boot arguments, host port forwards and a hint.
case "$app" in
  '') ;;
  echo)
    # On every hart (@all): one libOS and one lwIP per core (README: one app on many harts).
    app_append="init=echo:--udp:5555:--tcp:5555@all" app_net="udp:5555,tcp:5555"
    app_hint="echo server on UDP and TCP port 5555; try: echo hi | socat - UDP:127.0.0.1:5555" ;;
  httpd)
    app_append="init=httpd:--port:8080" app_net="tcp:8080"
    app_hint="httpd on TCP port 8080; try: curl http://127.0.0.1:8080/" ;;
  kv)
    app_append="init=kv:--port:6379" app_net="tcp:6379:6379"
    [ -z "$disk" ] && disk=$root/build/kv-disk.img
    app_hint="kv (Redis protocol) on TCP port 6379, log on $disk; try: redis-cli -p 6379 set a 1" ;;
  *) echo "run-qemu.sh: --app: unknown app '$app' (echo, httpd, kv)" >&2; exit 2 ;;
esac
if [ -n "$app" ]; then
  [ $append_given -eq 0 ] && append=$app_append
  [ -z "$net" ] && net=$app_net
  echo "run-qemu.sh: $app_hint" >&2
fi
netdev=()
if [[ "$net" == tap:* ]]; then
  ifname=${net#tap:}
  case "$ifname" in ''|*[!A-Za-z0-9_.-]*) echo "run-qemu.sh: --net tap:IFNAME: bad interface name '$ifname'" >&2; exit 2 ;; esac
  if [ "$queues" -gt 1 ]; then
    # A multiqueue tap (created with `ip tuntap add ... multi_queue`): one
    # queue pair per core, RSS programmed by the libOS.
    netdev=(-netdev "tap,id=net0,ifname=$ifname,script=no,downscript=no,queues=$queues"
            -device virtio-net-device,netdev=net0,mq=on,rss=on,hash=on)
  else
    netdev=(-netdev "tap,id=net0,ifname=$ifname,script=no,downscript=no" -device virtio-net-device,netdev=net0)
  fi
elif [ -n "$net" ]; then
  fwd=""
  IFS=, read -r -a rules <<<"$net"
  for rule in "${rules[@]}"; do
    IFS=: read -r proto hport gport <<<"$rule"
    case "$proto" in udp|tcp) ;; *) echo "run-qemu.sh: --net: bad rule '$rule' (udp:PORT or tcp:PORT)" >&2; exit 2 ;; esac
    case "$hport" in ''|*[!0-9]*) echo "run-qemu.sh: --net: bad port in '$rule'" >&2; exit 2 ;; esac
    fwd+=",hostfwd=$proto:127.0.0.1:$hport-:${gport:-$hport}"
  done
  netdev=(-netdev "user,id=net0$fwd" -device virtio-net-device,netdev=net0)
fi
if [ -n "$disk" ]; then
  [ -f "$disk" ] || truncate -s 16M "$disk" || { echo "run-qemu.sh: cannot create $disk" >&2; exit 2; }
  blkdev=virtio-blk-device,drive=disk0
  [ "$disk_queues" -gt 1 ] && blkdev+=",num-queues=$disk_queues"
  netdev+=(-drive "file=$disk,format=raw,if=none,id=disk0" -device "$blkdev")
fi
[ -z "$initrd" ] && initrd=$build_dir/initrd.cpio
if [ "$initrd" != none ] && [ ! -f "$initrd" ]; then
  echo "run-qemu.sh: no initrd at $initrd" >&2; exit 2
fi
if [ $uboot -eq 1 ]; then
  # The kernel, initrd and boot arguments travel inside the disk image.
  disk=$build_dir/uboot-sd.img
  "$root/scripts/uboot-disk.sh" --build-dir "$build_dir" --bootargs "$append" --initrd "$initrd" "$disk" >/dev/null
  qemu=(qemu-system-riscv64 -machine virt -smp "$smp" -m "$mem" -bios default
        -kernel /usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin
        -drive file="$disk",format=raw,if=none,id=hd0 -device virtio-blk-device,drive=hd0
        -display none -serial stdio -monitor none)
else
  qemu=(qemu-system-riscv64 -machine "$machine" -smp "$smp" -m "$mem" -bios default
        -kernel "$image" -display none -serial stdio -monitor none)
  [ -n "$append" ] && qemu+=(-append "$append")
  [ "$initrd" != none ] && qemu+=(-initrd "$initrd")
fi
[ "$machine" = virt ] && qemu+=(-global virtio-mmio.force-legacy=false)
qemu+=("${netdev[@]}")
# On virt, unless --cpu says otherwise: rv64 with V (scripts/qemu_cpu.sh).
[ -z "$cpu" ] && [ "$machine" = virt ] && cpu=$RINGLET_QEMU_CPU
[ -n "$cpu" ] && qemu+=(-cpu "$cpu")
[ $icount -eq 1 ] && qemu+=(-icount shift=0)
if [ $gdb -eq 1 ]; then
  qemu+=(-S -gdb tcp::1234)
  echo "run-qemu.sh: waiting for gdb; attach with:" >&2
  echo "  gdb-multiarch $build_dir/arch/riscv64/ringlet.elf -ex 'target remote :1234'" >&2
fi
qemu+=("${extra[@]}")

if [ -n "$timeout_s" ]; then
  set +e
  timeout --foreground "$timeout_s" "${qemu[@]}" </dev/null &
  qemu_child=$!
  # Stopping this script stops QEMU too (timeout passes the signal on): a
  # test that kills it when done must not leave QEMU running out its
  # timeout on the machine's cores while the other tests run.
  trap 'kill -TERM "$qemu_child" 2>/dev/null' TERM INT HUP
  wait "$qemu_child"
  rc=$?
  while kill -0 "$qemu_child" 2>/dev/null; do
    wait "$qemu_child"
    rc=$?
  done
  set -e
  [ $rc -eq 124 ] && echo "run-qemu.sh: QEMU still running after ${timeout_s}s; stopped" >&2
  exit $rc
fi
exec "${qemu[@]}"
