#!/usr/bin/env python3
"""Packs a directory into httpd's site archive (format: user/httpd/site.h).

    pack_site.py OUT DIR [--generate PATH:BYTES ...]

--generate adds a file of BYTES bytes at PATH (e.g. /1k.bin:1024) made of a
fixed text pattern, so benchmark files need not live in the repository.
"""
import os
import struct
import sys

ALIGN = 512
MAX_FILES = 256


def pattern(size):
    line = b"ringlet httpd: a file made at build time for benchmarks.\n"
    return (line * (size // len(line) + 1))[:size]


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    out, root = argv[1], argv[2]
    files = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.startswith("."):
                continue
            full = os.path.join(dirpath, name)
            rel = "/" + os.path.relpath(full, root).replace(os.sep, "/")
            with open(full, "rb") as f:
                files[rel.encode()] = f.read()
    rest = argv[3:]
    while rest:
        if rest[0] != "--generate" or len(rest) < 2:
            print(__doc__, file=sys.stderr)
            return 2
        path, size = rest[1].rsplit(":", 1)
        files[path.encode()] = pattern(int(size))
        rest = rest[2:]
    if len(files) > MAX_FILES:
        print("pack_site.py: too many files", file=sys.stderr)
        return 1
    paths = sorted(files)
    index_len = 16 + 16 * len(paths)
    path_offs = []
    for p in paths:
        path_offs.append(index_len)
        index_len += len(p)
    data = bytearray()
    data_offs = []
    pos = index_len
    for p in paths:
        pad = (-pos) % ALIGN
        data += b"\0" * pad
        pos += pad
        data_offs.append(pos)
        data += files[p]
        pos += len(files[p])
    total = pos
    blob = bytearray(b"RGLSITE1" + struct.pack("<II", len(paths), total))
    for p, po, do in zip(paths, path_offs, data_offs):
        blob += struct.pack("<IIII", po, len(p), do, len(files[p]))
    for p in paths:
        blob += p
    blob += data
    assert len(blob) == total
    # Padded to whole sectors, so the file is also a disk image (--root-disk).
    blob += b"\0" * ((-len(blob)) % ALIGN)
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(blob)
    os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
