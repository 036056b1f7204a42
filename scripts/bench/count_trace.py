#!/usr/bin/env python3
"""Counts the lines of QEMU's exec log (-d exec,nochain -singlestep: one
"Trace" line per instruction executed) as QEMU writes them into a FIFO, so a
multi-gigabyte log never touches the disk (scripts/bench/apps.sh).

    count_trace.py FIFO STATE

Writes the running total to STATE whenever the stream has been quiet for
0.3 s (logging switched off with the monitor's "log none"; QEMU may keep the
file open or close it: both work, a closed FIFO is opened again). The caller
reads STATE before and after a window. Runs until killed.
"""
import os
import select
import sys


def main():
    fifo, state = sys.argv[1], sys.argv[2]
    total = 0
    written = None

    def publish():
        nonlocal written
        if written != total:
            with open(state + ".tmp", "w") as f:
                f.write(f"{total}\n")
            os.replace(state + ".tmp", state)
            written = total

    publish()
    while True:
        fd = os.open(fifo, os.O_RDONLY)  # blocks until QEMU opens it for writing
        tail = b""
        while True:
            ready, _, _ = select.select([fd], [], [], 0.3)
            if not ready:
                publish()
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            data = tail + chunk
            cut = data.rfind(b"\n") + 1
            complete, tail = data[:cut], data[cut:]
            total += complete.count(b"\nTrace ") + (1 if complete.startswith(b"Trace ") else 0)
        os.close(fd)
        if tail.startswith(b"Trace "):
            total += 1
        publish()


if __name__ == "__main__":
    main()
