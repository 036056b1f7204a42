#!/usr/bin/env bash
# The Linux peer for the benchmarks (issue 7, item 2): a minimal riscv64 Linux
# from Debian's linux-source-6.1 plus an initramfs whose init is a static C
# echo server on epoll (scripts/bench/linux-guest/init.c, UDP and TCP 5555,
# like user/echo). Built once and cached outside the source tree; later runs
# reuse the cache and rebuild only what changed. Not part of CI.
#
#   scripts/bench/linux-guest.sh [build|run|paths] [options] [-- extra QEMU args]
#     build   build what is missing, print where it is (default)
#     run     build, then boot it in QEMU (same machine and netdev options as
#             scripts/run-qemu.sh) and serve until QEMU exits
#     paths   build, then print IMAGE=, INITRD=, APPEND= lines for scripts
#   --smp N          harts (1)            --mem SIZE      guest memory (256M)
#   --net SPEC       udp:PORT[:GUEST],tcp:PORT[:GUEST] host forwards (udp:5555,tcp:5555)
#   --icount         -icount shift=0: exact instruction counts (use --smp 1)
#   --report-every N print instructions per request every N requests (10000)
#   --timeout S      stop QEMU after S seconds   --jobs N   make -j (2)
#   --rebuild        forget the cached kernel build and start over
#   --apps DIR       also put the app servers into the initramfs (initramfs-apps-KEY.cpio):
#                    kv and httpd from DIR (a riscv64-linux preset build) and Redis,
#                    cross-built once from Debian's source package (apt-get source
#                    redis, ~4 min; cached under redis/) and lighttpd (its CMake build,
#                    static, ~2 min; under lighttpd/), serving /www on port 8080
#   --app NAME       boot into NAME (redis, kv, httpd or lighttpd) instead of echo: app=NAME
# Cache: $RINGLET_CACHE or ~/.cache/ringlet, under linux-guest/, redis/ and lighttpd/.
# The guest prints "echo-init: instret N requests I instructions X per request idle Y per request"
# on the console every N requests: everything hart 0 retired in that window,
# kernel and idle loop included. Exact only with --icount --smp 1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
guest_src=$here/linux-guest

cmd=build smp=1 mem=256M net="udp:5555,tcp:5555" icount=0 report_every=10000 timeout_s="" jobs=2 rebuild=0
apps_build="" app=""
extra=()
usage() { sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
case "${1:-}" in build|run|paths) cmd=$1; shift ;; esac
while [ $# -gt 0 ]; do
  case "$1" in
    --smp) smp=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --net) net=$2; shift 2 ;;
    --icount) icount=1; shift ;;
    --report-every) report_every=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --rebuild) rebuild=1; shift ;;
    --apps) apps_build=$(realpath -m "$2"); shift 2 ;;
    --app) app=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "linux-guest.sh: unknown option '$1'" >&2; usage 2 ;;
  esac
done
for v in "$smp" "$report_every" "$jobs"; do
  case "$v" in ''|*[!0-9]*|0) echo "linux-guest.sh: --smp, --report-every and --jobs need a positive number" >&2; exit 2 ;; esac
done

case "$app" in ''|redis|kv|httpd|lighttpd) ;; *) echo "linux-guest.sh: --app: redis, kv, httpd or lighttpd" >&2; exit 2 ;; esac
[ -n "$app" ] && [ -z "$apps_build" ] && { echo "linux-guest.sh: --app needs --apps DIR" >&2; exit 2; }
cache_root=${RINGLET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ringlet}
cache=$cache_root/linux-guest
src_dir=$cache/src
obj_dir=$cache/obj
log=$cache/build.log
say() { echo "linux-guest: $*" >&2; }

# --- tools ---------------------------------------------------------------
need=()
for p in linux-source-6.1 gcc-riscv64-linux-gnu flex bison bc cpio qemu-system-misc opensbi; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  sudo_cmd=(); [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
fi
cross=riscv64-linux-gnu-
mkdir -p "$cache"

# --- kernel source ---------------------------------------------------------
src_version=$(dpkg-query -W -f='${Version}' linux-source-6.1)
if [ $rebuild -eq 1 ]; then rm -rf "$obj_dir" "$cache/Image"; fi
if [ "$(cat "$src_dir/.ringlet-version" 2>/dev/null)" != "$src_version" ]; then
  say "unpacking linux-source-6.1 $src_version into $src_dir (about a minute, once)"
  rm -rf "$src_dir" "$obj_dir" "$cache/Image"
  mkdir -p "$src_dir"
  tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$src_dir" --strip-components=1
  echo "$src_version" >"$src_dir/.ringlet-version"
fi

# --- kernel ---------------------------------------------------------------
# The key names everything the Image depends on; a match means reuse.
key=$( { echo "$src_version"; cat "$guest_src/kernel.config"; ${cross}gcc --version | head -1; } | sha256sum | cut -c1-16)
kmake() { nice -n 19 make -C "$src_dir" O="$obj_dir" ARCH=riscv CROSS_COMPILE=$cross "$@"; }

# Prints a progress line every 15 s while make runs: files compiled so far
# against the count from the last full build (or an estimate), and the time.
progress() {
  local pid=$1 total=$2 start=$SECONDS done_n elapsed eta
  while kill -0 "$pid" 2>/dev/null; do
    sleep 15
    done_n=$(grep -c '^  CC ' "$log" 2>/dev/null || true)
    elapsed=$((SECONDS - start))
    eta="?"
    if [ "${done_n:-0}" -gt 20 ]; then eta="~$(( (total - done_n) * elapsed / done_n / 60 + 1 )) min left"; fi
    say "kernel: ${done_n:-0}/~$total files compiled, $((elapsed / 60))m$((elapsed % 60))s elapsed, $eta"
  done
}

if [ "$(cat "$cache/.ringlet-key" 2>/dev/null)" != "$key" ] || [ ! -f "$cache/Image" ]; then
  total=$(cat "$cache/.ringlet-files" 2>/dev/null || echo 700)
  say "building the kernel (tinyconfig + $(grep -c '^CONFIG_' "$guest_src/kernel.config") options) in $obj_dir"
  say "expected time: ~6-10 min on 2 cores with nice -n 19 make -j$jobs the first time (longer when the machine is busy); seconds when cached"
  mkdir -p "$obj_dir"
  : >"$log"
  kmake tinyconfig >>"$log" 2>&1
  # tinyconfig + fragment, then let Kconfig fill in dependencies.
  "$src_dir/scripts/kconfig/merge_config.sh" -m -O "$obj_dir" "$obj_dir/.config" "$guest_src/kernel.config" >>"$log" 2>&1
  kmake olddefconfig >>"$log" 2>&1
  # Options Kconfig dropped (a dependency missing) would make a guest that
  # boots without a network: refuse early instead.
  for opt in CONFIG_VIRTIO_NET CONFIG_VIRTIO_MMIO CONFIG_VIRTIO_BLK CONFIG_EPOLL CONFIG_INET \
             CONFIG_BLK_DEV_INITRD CONFIG_SERIAL_8250_CONSOLE CONFIG_RISCV_PMU_SBI; do
    grep -q "^$opt=y" "$obj_dir/.config" || { say "Kconfig dropped $opt; see $log"; exit 1; }
  done
  set +e
  kmake -j"$jobs" Image >>"$log" 2>&1 &
  make_pid=$!
  progress "$make_pid" "$total" &
  progress_pid=$!
  wait "$make_pid"
  rc=$?
  kill "$progress_pid" 2>/dev/null; wait "$progress_pid" 2>/dev/null
  set -e
  if [ $rc -ne 0 ]; then say "kernel build failed; last lines of $log:"; tail -20 "$log" >&2; exit 1; fi
  files=$(grep -c '^  CC ' "$log" || true)
  # Only a build from scratch knows the full file count for next time's estimate.
  [ "$files" -gt "$total" ] && echo "$files" >"$cache/.ringlet-files"
  cp "$obj_dir/arch/riscv/boot/Image" "$cache/Image"
  echo "$key" >"$cache/.ringlet-key"
  say "kernel built in $((SECONDS / 60))m$((SECONDS % 60))s"
fi

# --- Redis 7 from Debian's source package (issue 16 item 6) -------------------
# Static, MALLOC=libc (no jemalloc), no TLS or systemd: the reference server
# for user/kv. Only redis-server is built; rebuilt when the source version or
# the cross compiler changes.
build_redis() {
  local rdir=$cache_root/redis rkey dsc
  rkey=$( { apt-cache policy redis | sed -n 's/ *Candidate: //p'; ${cross}gcc --version | head -1; } | sha256sum | cut -c1-16)
  [ "$(cat "$rdir/.ringlet-key" 2>/dev/null)" = "$rkey" ] && [ -x "$rdir/redis-server" ] && return 0
  say "Redis: apt-get source redis into $rdir, then a static riscv64 cross-build (~4 min on 2 busy cores)"
  rm -rf "$rdir/dl" "$rdir/src" && mkdir -p "$rdir/dl"
  (cd "$rdir/dl" && apt-get source --download-only -qq redis >"$rdir/fetch.log" 2>&1) ||
    { say "apt-get source redis failed (is there a deb-src entry? scripts/setup.sh adds one); see $rdir/fetch.log"; exit 1; }
  dsc=$(ls "$rdir"/dl/redis_*.dsc | tail -1)
  dpkg-source -x "$dsc" "$rdir/src" >>"$rdir/fetch.log" 2>&1 || { say "dpkg-source -x failed; see $rdir/fetch.log"; exit 1; }
  nice -n 19 make -C "$rdir/src/src" -j"$jobs" redis-server CC=${cross}gcc AR=${cross}ar RANLIB=${cross}ranlib \
    MALLOC=libc LDFLAGS=-static BUILD_TLS=no USE_SYSTEMD=no uname_M=riscv64 OPTIMIZATION=-O2 >"$rdir/build.log" 2>&1 ||
    { say "Redis build failed; last lines of $rdir/build.log:"; tail -20 "$rdir/build.log" >&2; exit 1; }
  ${cross}strip -o "$rdir/redis-server" "$rdir/src/src/redis-server"
  echo "$rkey" >"$rdir/.ringlet-key"
}

# --- lighttpd from Debian's source package, beside httpd --------------------
# Its CMake build, static with the three modules a static site needs (the
# module table, plugin-static.h, goes into the build folder), no PCRE2 or
# zlib (no riscv64 libraries for them here). Serves /www: the same two files
# as httpd's benchmark files (pack_site.py's pattern, byte for byte).
build_lighttpd() {
  local ldir=$cache_root/lighttpd lkey dsc
  lkey=$( { apt-cache policy lighttpd | sed -n 's/ *Candidate: //p'; ${cross}gcc --version | head -1; cat "$here/riscv64-linux.cmake"; } | sha256sum | cut -c1-16)
  [ "$(cat "$ldir/.ringlet-key" 2>/dev/null)" = "$lkey" ] && [ -x "$ldir/lighttpd" ] && return 0
  say "lighttpd: apt-get source lighttpd into $ldir, then a static riscv64 cross-build (~2 min)"
  rm -rf "$ldir/dl" "$ldir/src" "$ldir/obj" && mkdir -p "$ldir/dl"
  (cd "$ldir/dl" && apt-get source --download-only -qq lighttpd >"$ldir/fetch.log" 2>&1) ||
    { say "apt-get source lighttpd failed; see $ldir/fetch.log"; exit 1; }
  dsc=$(ls "$ldir"/dl/lighttpd_*.dsc | tail -1)
  dpkg-source -x "$dsc" "$ldir/src" >>"$ldir/fetch.log" 2>&1 || { say "dpkg-source -x failed; see $ldir/fetch.log"; exit 1; }
  { cmake -S "$ldir/src" -B "$ldir/obj" -G Ninja --toolchain "$here/riscv64-linux.cmake" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DBUILD_STATIC=ON -DWITH_PCRE2=OFF -DWITH_ZLIB=OFF &&
    printf 'PLUGIN_INIT(mod_indexfile)\nPLUGIN_INIT(mod_dirlisting)\nPLUGIN_INIT(mod_staticfile)\n' >"$ldir/obj/build/plugin-static.h" &&
    nice -n 19 ninja -C "$ldir/obj" -j"$jobs" lighttpd; } >"$ldir/build.log" 2>&1 ||
    { say "lighttpd build failed; last lines of $ldir/build.log:"; tail -20 "$ldir/build.log" >&2; exit 1; }
  ${cross}strip -o "$ldir/lighttpd" "$ldir/obj/build/lighttpd"
  echo "$lkey" >"$ldir/.ringlet-key"
}

# --- initramfs (seconds; rebuilt when init.c or a server changes) -------------
initramfs=$cache/initramfs.cpio
app_files=()
if [ -n "$apps_build" ]; then
  build_redis
  for f in "$apps_build/user/kv/kv" "$apps_build/user/httpd/httpd"; do
    [ -x "$f" ] || { say "no $f: build the riscv64-linux preset first (cmake --build --preset riscv64-linux)"; exit 1; }
  done
  mkdir -p "$cache/bin"
  ${cross}strip -o "$cache/bin/kv" "$apps_build/user/kv/kv"
  ${cross}strip -o "$cache/bin/httpd" "$apps_build/user/httpd/httpd"
  cp "$cache_root/redis/redis-server" "$cache/bin/redis-server"
  build_lighttpd
  cp "$cache_root/lighttpd/lighttpd" "$cache/bin/lighttpd"
  mkdir -p "$cache/www"
  PYTHONDONTWRITEBYTECODE=1 python3 - "$cache/www" "$here/../../user/httpd" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
from pack_site import pattern  # httpd's --generate files, byte for byte
for name, size in (("1k.bin", 1024), ("64k.bin", 65536)):
    with open(f"{sys.argv[1]}/{name}", "wb") as f:
        f.write(pattern(size))
PY
  cat >"$cache/lighttpd.conf" <<'CONF'
server.document-root = "/www"
server.port = 8080
server.bind = "0.0.0.0"
server.event-handler = "linux-sysepoll"
server.max-keep-alive-requests = 1000000
server.max-keep-alive-idle = 60
server.errorlog = "/dev/console"
mimetype.assign = (".bin" => "application/octet-stream", ".html" => "text/html")
CONF
  app_files=("$cache/bin/redis-server" "$cache/bin/kv" "$cache/bin/httpd" "$cache/bin/lighttpd"
             "$cache/www/1k.bin" "$cache/www/64k.bin" "$cache/lighttpd.conf")
fi
init_key=$( { cat "$guest_src/init.c"; ${cross}gcc --version | head -1; cat "${app_files[@]}" /dev/null; } | sha256sum | cut -c1-16)
# Named by its content: a rebuild never changes the file a running benchmark boots.
[ -n "$apps_build" ] && initramfs=$cache/initramfs-apps-$init_key.cpio
key_file=$cache/.ringlet-init-key${apps_build:+-apps}
if [ "$(cat "$key_file" 2>/dev/null)" != "$init_key" ] || [ ! -f "$initramfs" ]; then
  say "building the initramfs (static echo-init${apps_build:+, redis-server, kv, httpd, lighttpd})"
  ${cross}gcc -static -O2 -Wall -Wextra -Werror -o "$cache/echo-init" "$guest_src/init.c"
  cc -O2 -o "$cache/gen_init_cpio" "$src_dir/usr/gen_init_cpio.c"
  # gen_init_cpio needs no root for device nodes: /dev/console must exist for
  # the kernel to give init a console.
  {
    echo "dir /dev 0755 0 0"
    echo "nod /dev/console 0600 0 0 c 5 1"
    echo "dir /proc 0755 0 0"
    echo "dir /tmp 1777 0 0"
    echo "file /init $cache/echo-init 0755 0 0"
    if [ ${#app_files[@]} -gt 0 ]; then
      echo "dir /bin 0755 0 0"
      for f in redis-server kv httpd lighttpd; do echo "file /bin/$f $cache/bin/$f 0755 0 0"; done
      echo "dir /www 0755 0 0"
      for f in 1k.bin 64k.bin; do echo "file /www/$f $cache/www/$f 0644 0 0"; done
      echo "dir /etc 0755 0 0"
      echo "file /etc/lighttpd.conf $cache/lighttpd.conf 0644 0 0"
      echo "nod /dev/null 0666 0 0 c 1 3"  # lighttpd opens it for stdin
    fi
  } >"$cache/initramfs.list"
  "$cache/gen_init_cpio" "$cache/initramfs.list" >"$initramfs"
  echo "$init_key" >"$key_file"
fi

append="console=ttyS0 quiet report_every=$report_every${app:+ app=$app}"
case "$cmd" in
  build)
    say "kernel:    $cache/Image"
    say "initramfs: $initramfs"
    say "boot it:   $0 run   (echo on UDP and TCP 5555 forwarded from 127.0.0.1)"
    exit 0 ;;
  paths)
    echo "IMAGE=$cache/Image"
    echo "INITRD=$initramfs"
    echo "APPEND=$append"
    exit 0 ;;
esac

# --- run: the same QEMU invocation shape as scripts/run-qemu.sh -------------
fwd=""
IFS=, read -r -a rules <<<"$net"
for rule in "${rules[@]}"; do
  IFS=: read -r proto hport gport <<<"$rule"
  case "$proto" in udp|tcp) ;; *) echo "linux-guest.sh: --net: bad rule '$rule'" >&2; exit 2 ;; esac
  fwd+=",hostfwd=$proto:127.0.0.1:$hport-:${gport:-$hport}"
done
# shellcheck source=scripts/qemu_cpu.sh
source "$here/../qemu_cpu.sh"  # the CPU Ringlet boots on, so both guests run on the same one
# shellcheck disable=SC2054  # the commas belong to QEMU option values
qemu=(qemu-system-riscv64 -machine virt -cpu "$RINGLET_QEMU_CPU" -smp "$smp" -m "$mem" -bios default
      -kernel "$cache/Image" -initrd "$initramfs" -append "$append"
      -display none -serial stdio -monitor none
      -global virtio-mmio.force-legacy=false
      -netdev "user,id=net0$fwd" -device virtio-net-device,netdev=net0)
[ $icount -eq 1 ] && qemu+=(-icount shift=0)
qemu+=("${extra[@]}")
say "booting: ${qemu[*]}"
if [ -n "$timeout_s" ]; then
  set +e
  timeout --foreground "$timeout_s" "${qemu[@]}" </dev/null
  rc=$?
  set -e
  [ $rc -eq 124 ] && say "QEMU still running after ${timeout_s}s; stopped"
  exit $rc
fi
exec "${qemu[@]}"
