#!/usr/bin/env python3
"""Raises the listen backlog of QEMU's user-network port forwards.

    apps_listen_backlog.py QEMU_PID PORT [PORT...] [--backlog N]

QEMU's user networking (libslirp) listens on each `hostfwd` TCP port with a
backlog of 1 (`ss -ltn` shows Send-Q 1). A client that opens many
connections at once (redis-benchmark -c 50, wrk -c 16) then overflows the
host kernel's accept queue: SYNs beyond the second queued connection are
dropped (nstat: TcpExtListenOverflows) and each such client waits for its
SYN's retransmission, 1 s, 3 s, 7 s... later, in synchronized bursts that
overflow the queue again. That stalled the apps benchmark on every guest.

Calling listen() again on a listening socket only changes its backlog
(Linux), so this takes a duplicate of QEMU's listening socket
(pidfd_getfd(2), Linux 5.6+, needs ptrace rights over QEMU: the same user
suffices unless Yama forbids it) and re-listens it with a backlog of N. QEMU
keeps accepting on it as before. Prints how many sockets it changed; exit
status 1 if a port was not found or the duplicate was refused.
"""
import ctypes
import os
import socket
import sys

SYS_PIDFD_GETFD = 438  # the same number on x86-64, arm64 and riscv64


def relisten(pid: int, ports: set, backlog: int) -> set:
    """Re-listens QEMU's listening TCP sockets on `ports`; returns the ports done."""
    libc = ctypes.CDLL(None, use_errno=True)
    done = set()
    pidfd = os.pidfd_open(pid)
    try:
        for name in os.listdir(f"/proc/{pid}/fd"):
            try:
                if not os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:"):
                    continue
            except OSError:
                continue
            fd = libc.syscall(SYS_PIDFD_GETFD, pidfd, int(name), 0)
            if fd < 0:
                raise OSError(ctypes.get_errno(), "pidfd_getfd")
            s = socket.socket(fileno=fd)
            try:
                if (s.family == socket.AF_INET and s.type == socket.SOCK_STREAM
                        and s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
                        and s.getsockname()[1] in ports):
                    s.listen(backlog)
                    done.add(s.getsockname()[1])
            finally:
                s.close()  # only our duplicate: QEMU's descriptor stays open
    finally:
        os.close(pidfd)
    return done


def main(argv):
    args = list(argv)
    backlog = 128
    if "--backlog" in args:
        i = args.index("--backlog")
        backlog = int(args[i + 1])
        del args[i:i + 2]
    if len(args) < 2 or args[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if args and args[0] in ("-h", "--help") else 2
    pid, ports = int(args[0]), {int(p) for p in args[1:]}
    try:
        done = relisten(pid, ports, backlog)
    except OSError as e:
        print(f"apps_listen_backlog: cannot change QEMU's listen backlog: {e}", file=sys.stderr)
        return 1
    print(f"apps_listen_backlog: backlog {backlog} on port(s) {' '.join(map(str, sorted(done))) or 'none'}")
    return 0 if done == ports else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
