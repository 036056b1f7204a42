"""The apps part of scripts/bench.sh's report (issue 16 item 6), used by report.py.

Reads RESULTS_DIR/apps/ as scripts/bench/apps.sh writes it:
  <guest>-<server>/redis-benchmark-P<p>-c50/round<N>.txt   redis-benchmark --csv
  <guest>-<server>/wrk-<file>-c16/round<N>.txt             wrk --latency
  .../round<N>.load                                        1-minute load average
  icount-<guest>-<server>.txt   "REQUEST PIPELINE N1 COUNT1 N2 COUNT2" lines
and returns Markdown lines and gnuplot PNGs. Figures are medians over rounds
with the spread (min-max) beside them, as in the echo tables.
"""
import csv
import glob
import os
import re
import statistics

import report as base

SERVERS = [("ringlet", "kv"), ("linux", "kv"), ("linux", "redis"), ("ringlet", "httpd"), ("linux", "httpd"),
           ("linux", "lighttpd")]
HTTP = [s for s in SERVERS if s[1] in ("httpd", "lighttpd")]
NAMES = {("ringlet", "kv"): "Ringlet kv", ("linux", "kv"): "Linux kv", ("linux", "redis"): "Linux Redis 7",
         ("ringlet", "httpd"): "Ringlet httpd", ("linux", "httpd"): "Linux httpd",
         ("linux", "lighttpd"): "Linux lighttpd 1.4"}
COLOURS = {("ringlet", "kv"): "#9b4fd1", ("linux", "kv"): "#2fa67f", ("linux", "redis"): "#d1495b",
           ("ringlet", "httpd"): "#9b4fd1", ("linux", "httpd"): "#2fa67f", ("linux", "lighttpd"): "#d1495b"}
TO_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def parse_redis_benchmark(path):
    """{'GET': {...}, 'SET': {...}} from redis-benchmark's default output:
    the summary (throughput, latency percentiles) and the 250 ms progress
    lines. 'steady_rps' is the median rate of the progress intervals that
    carried traffic: it leaves out the tail where the run waits for clients
    whose connections QEMU's user network delayed by seconds (see NOTES)."""
    with open(path, errors="replace") as f:
        text = f.read().replace("\r", "\n")
    found = {}
    for test in ("SET", "GET"):
        intervals = [float(m.group(1)) for m in re.finditer(rf"^{test}: rps=([0-9.]+) \(overall", text, re.M)]
        block = re.search(rf"^====== {test} ======$(.*?)(?=^====== |\Z)", text, re.M | re.S)
        rps = lat = None
        if block:
            rps = re.search(r"throughput summary: ([0-9.]+) requests per second", block.group(1))
            lat = re.search(r"avg\s+min\s+p50\s+p95\s+p99\s+max\s*\n\s*([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)"
                            r"\s+([0-9.]+)", block.group(1))
        busy = [v for v in intervals if v > 0]
        if not rps and not busy:
            continue
        found[test] = {"rps": float(rps.group(1)) if rps else None,
                       "steady_rps": statistics.median(busy) if busy else None,
                       "stalled": sum(1 for v in intervals[1:] if v == 0) * 0.25,
                       "p50_ms": float(lat.group(3)) if lat else None, "p99_ms": float(lat.group(5)) if lat else None,
                       "cut": rps is None, "errors": 0}
    if not found:
        base.fail(f"{path}: no GET or SET figures (not redis-benchmark output)")
    try:
        with open(path[:-len(".txt")] + ".err", errors="replace") as f:
            why = [line.strip() for line in f if line.strip()]
    except OSError:
        why = []
    for r in found.values():
        r["why"] = why[-1] if why else ""
    return found


def parse_wrk(path):
    """Requests/s, latency percentiles (ms) and error counts from wrk --latency."""
    with open(path, errors="replace") as f:
        text = f.read()
    rps = re.search(r"^Requests/sec:\s+([0-9.]+)", text, re.M)
    if not rps:
        base.fail(f"{path}: no Requests/sec line (not wrk output)")
    lat = {m.group(1): float(m.group(2)) * TO_MS[m.group(3)]
           for m in re.finditer(r"^\s+(50|75|90|99)%\s+([0-9.]+)(us|ms|s)\s*$", text, re.M)}
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors += int(non2xx.group(1)) if non2xx else 0
    return {"rps": float(rps.group(1)), "p50_ms": lat.get("50"), "p90_ms": lat.get("90"), "p99_ms": lat.get("99"),
            "errors": errors}


def read_load(txt_path):
    path = txt_path[:-len(".txt")] + ".load"
    try:
        with open(path) as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def load_runs(out):
    """{(guest, server): {workload: [run per round]}}; workloads 'GET P1', 'wrk 1k', ..."""
    runs = {}
    for path in sorted(glob.glob(os.path.join(out, "apps", "*-*", "*", "round*.txt"))):
        parts = path.split(os.sep)
        guest, server = parts[-3].split("-", 1)
        bench = parts[-2]
        load = read_load(path)
        if bench.startswith("redis-benchmark-P"):
            pipe = re.match(r"redis-benchmark-P(\d+)-", bench).group(1)
            for test, r in parse_redis_benchmark(path).items():
                runs.setdefault((guest, server), {}).setdefault(f"{test} P{pipe}", []).append({**r, "load": load})
        elif bench.startswith("wrk-"):
            size = re.match(r"wrk-(\w+)-c", bench).group(1)
            runs.setdefault((guest, server), {}).setdefault(f"wrk {size}", []).append({**parse_wrk(path), "load": load})
    return runs


def load_icount(out):
    """{(guest, server): {'GET P1': instructions per request, ...}}"""
    found = {}
    for path in glob.glob(os.path.join(out, "apps", "icount-*-*.txt")):
        guest, server = os.path.basename(path)[len("icount-"):-len(".txt")].split("-", 1)
        with open(path) as f:
            for line in f:
                words = line.split()
                if len(words) != 6:
                    continue
                req, pipe, n1, c1, n2, c2 = words[0], words[1], *map(int, words[2:])
                if n2 <= n1 or c2 <= c1:
                    base.fail(f"{path}: window of {n2} requests retired {c2}, not more than {n1} requests' {c1}")
                found.setdefault((guest, server), {})[f"{req} P{pipe}"] = (c2 - c1) / (n2 - n1)
    return found


def med(rs, key):
    v = [r[key] for r in rs if r.get(key) is not None]
    return statistics.median(v) if v else None


def ms(v):
    return f"{v:,.0f}" if v >= 100 else f"{v:.2f}"


def ratio(a, b):
    return f"{a / b:.2f}×" if a and b else "-"


def kv_order(w):
    req, pipe = w.split()
    return (int(pipe[1:]), req)


def clean_rps(rs):
    """Whole-run requests/s over the rounds that neither stalled nor ended early (None if none did): a
    whole-run figure with seconds of stall in it measures the stall, so no ratio is taken from it."""
    return med([r for r in rs if not r["cut"] and not r["stalled"]], "rps")


def kv_table(runs, lines):
    lines.append("| request | server | requests/s, whole run | requests/s, intervals with traffic | stalled s | "
                 "vs Redis (whole / intervals) | vs kv on Linux (whole / intervals) | p50 ms | p99 ms | load (1 min) |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|")
    kv_servers = [s for s in SERVERS if s[1] in ("kv", "redis") and s in runs]
    workloads = sorted({w for s in kv_servers for w in runs[s]}, key=kv_order)
    flagged = False
    for w in workloads:
        ref = {s: (clean_rps(runs.get(s, {}).get(w, [])), med(runs.get(s, {}).get(w, []), "steady_rps"))
               for s in (("linux", "redis"), ("linux", "kv"))}
        for s in kv_servers:
            rs = runs[s].get(w)
            if not rs:
                continue
            mine = (clean_rps(rs), med(rs, "steady_rps"))
            cut = sum(1 for r in rs if r["cut"])
            flagged |= cut > 0

            def vs(other):
                return f"{ratio(mine[0], ref[other][0])} / {ratio(mine[1], ref[other][1])}" if s != other else "-"

            values = lambda key: [r[key] for r in rs if r.get(key) is not None]  # noqa: E731
            lines.append(f"| {w.replace(' P', ', pipeline ')} | {NAMES[s]} | {base.spread(values('rps'), base.n0)}"
                         f"{f' ⚠ {cut} ended early' if cut else ''} | {base.spread(values('steady_rps'), base.n0)} | "
                         f"{base.spread(values('stalled'), lambda v: f'{v:.2f}')} | {vs(('linux', 'redis'))} | "
                         f"{vs(('linux', 'kv')) if s == ('ringlet', 'kv') else '-'} | "
                         f"{base.spread(values('p50_ms'), ms)} | {base.spread(values('p99_ms'), ms)} | "
                         f"{base.spread(values('load'), lambda v: f'{v:.2f}')} |")
    return workloads, flagged


def httpd_table(runs, lines):
    lines.append("| file | server | requests/s | vs httpd on Linux | vs lighttpd | p50 ms | p90 ms | p99 ms | errors | "
                 "load (1 min) |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|")
    flagged = False
    for w in ("wrk 1k", "wrk 64k"):
        linux = med(runs.get(("linux", "httpd"), {}).get(w, []), "rps")
        lighttpd = med(runs.get(("linux", "lighttpd"), {}).get(w, []), "rps")
        for s in HTTP:
            rs = runs.get(s, {}).get(w)
            if not rs:
                continue
            errors = [r["errors"] for r in rs]
            flagged |= any(errors)
            lines.append(f"| {w[4:].replace('k', ' KiB')} | {NAMES[s]} | {base.spread([r['rps'] for r in rs], base.n0)} | "
                         f"{ratio(med(rs, 'rps'), linux) if s != ('linux', 'httpd') else '-'} | "
                         f"{ratio(med(rs, 'rps'), lighttpd) if s[1] == 'httpd' else '-'} | "
                         + " | ".join(base.spread([r[k] for r in rs if r[k] is not None], ms)
                                      for k in ("p50_ms", "p90_ms", "p99_ms"))
                         + f" | {base.spread(errors, base.n0)}{' ⚠' if any(errors) else ''} | "
                         f"{base.spread([r['load'] for r in rs if r['load'] is not None], lambda v: f'{v:.2f}')} |")
    return flagged


def icount_table(icount, lines):
    lines.append("| request | Ringlet kv | Linux kv | Linux Redis 7 | Redis / Ringlet kv | Linux kv / Ringlet kv |")
    lines.append("|---|---|---|---|---|---|")
    kv_req = sorted({w for s, f in icount.items() if s not in HTTP for w in f}, key=kv_order)
    for w in kv_req:
        r, lk, rd = (icount.get(s, {}).get(w) for s in (("ringlet", "kv"), ("linux", "kv"), ("linux", "redis")))
        cell = lambda v: f"{v:,.0f}" if v else "-"  # noqa: E731
        lines.append(f"| {w.replace(' P', ', pipeline ')} | {cell(r)} | {cell(lk)} | {cell(rd)} | {ratio(rd, r)} | "
                     f"{ratio(lk, r)} |")
    rh, lh, lt = (icount.get(s, {}).get("GET-1k P1") for s in HTTP)
    if rh or lh or lt:
        cell = lambda v: f"{v:,.0f}" if v else "-"  # noqa: E731
        lines += ["", "| request | Ringlet httpd | Linux httpd | Linux lighttpd 1.4 | Linux httpd / Ringlet | "
                  "lighttpd / Ringlet |", "|---|---|---|---|---|---|",
                  f"| HTTP GET 1 KiB, keep-alive (ab -k -c 1) | {cell(rh)} | {cell(lh)} | {cell(lt)} | {ratio(lh, rh)} | "
                  f"{ratio(lt, rh)} |"]


NOTES = [
    "How these were measured: the same QEMU machine (virt, -smp 1, the same memory, virtio-net on user "
    "networking), one guest after the other, the client on the host through QEMU's port forward. Ringlet runs "
    "user/kv and user/httpd; the Linux 6.1 guest runs Redis 7 (Debian's source package, static, MALLOC=libc, no "
    "RDB/AOF), lighttpd 1.4 (Debian's source package, static) and the same kv and httpd sources over the libOS's linux backend (riscv64-linux preset, static). kv "
    "runs with --no-disk on both guests (no log), like Redis without persistence. redis-benchmark: 50 clients, "
    "default 3-byte values on one key. wrk: 2 threads, 16 keep-alive connections. QEMU TCG emulates the guest "
    "on a shared host: the load average beside each figure says how busy the host was; the instruction counts "
    "below do not depend on it.",
    "Stalls: runs before 2026-12-03 stopped for seconds with 50 clients, for two reasons found since: QEMU's "
    "port forward listens with a backlog of 1, so the host dropped most of a 50-connection burst's SYNs (clients "
    "retried after 1, 3, 7 s; every guest), and Ringlet's listener dropped the SYNs beyond 32 half-open "
    "connections (QEMU resent them after ~6 s). apps.sh now raises QEMU's backlog "
    "(apps_listen_backlog.py) and Ringlet's cap follows the listen backlog (up to 64). A 60 s cap ends "
    "a run that still stalls, without redis-benchmark's summary. 'Whole run' is redis-benchmark's own figure; its ratio is "
    "taken only between rounds without any stall. 'Intervals with traffic' is the median of the 250 ms progress "
    "figures that were not 0 (the rate while requests flowed); 'stalled s' sums the 0 intervals after the first.",
    "Instructions per request: -icount shift=0 -singlestep -smp 1, QEMU's exec log counted through the monitor "
    "over two windows of N and 3N requests from one client (redis-benchmark -c 1, ab -k -c 1); the figure is "
    "the difference over 2N, so connection set-up and the client's first queries cancel out. It counts "
    "everything the hart retired: app, libc or libOS, network stack, driver, kernel, timer ticks; idle retires "
    "nothing. With pipelining, per request = per command.",
]


def plots(out, runs, workloads, icount):
    made = []
    kv_servers = [s for s in SERVERS if s[1] in ("kv", "redis") and s in runs]
    if kv_servers and workloads:
        _write_dat(out, "apps-kv", [(w.replace(" P", " -P "), [
            [r["steady_rps"] for r in runs[s].get(w, []) if r["steady_rps"] is not None] for s in kv_servers])
            for w in workloads])
        made.append(_bars(out, "apps-kv", kv_servers, "kv and Redis: redis-benchmark, 50 clients, intervals with traffic "
                           "(median of rounds, bars: min-max) - QEMU TCG"))
    httpd = [s for s in HTTP if s in runs]
    if httpd:
        _write_dat(out, "apps-httpd", [(f"GET {w[4:].replace('k', ' KiB')}", [
            [r["rps"] for r in runs[s].get(w, [])] for s in httpd]) for w in ("wrk 1k", "wrk 64k")])
        made.append(_bars(out, "apps-httpd", httpd, "httpd: wrk, 16 connections (median of rounds, bars: min-max) - "
                          "QEMU TCG, emulated"))
    servers = [s for s in SERVERS if s not in HTTP and s in icount]
    reqs = sorted({w for s in servers for w in icount[s]}, key=kv_order)
    if servers and reqs:
        with open(os.path.join(out, "apps-instructions.dat"), "w") as f:
            for w in reqs:
                f.write(f'"{w.replace(" P", " -P ")}" ' + " ".join(str(icount[s].get(w, 0)) for s in servers) + "\n")
        made.append(_histogram(out, "apps-instructions", servers, "Guest instructions per request, everything the "
                               "hart retired (QEMU -icount shift=0 -smp 1)", "instructions per request", False))
    return made


def _write_dat(out, name, rows):
    """NAME.dat for _bars: per row a label, then median, min and max of each server's values."""
    with open(os.path.join(out, f"{name}.dat"), "w") as f:
        for label, per_server in rows:
            cols = [f'"{label}"']
            for v in per_server:
                v = v or [0]
                cols += [str(statistics.median(v)), str(min(v)), str(max(v))]
            f.write(" ".join(cols) + "\n")


def _bars(out, name, servers, title):
    return _histogram(out, name, servers, title, "requests/s", True)


def _histogram(out, name, servers, title, ylabel, errorbars):
    """NAME.png from NAME.dat: one column per server (three with min and max when errorbars)."""
    step = 3 if errorbars else 1
    cols = lambda i: ":".join(str(2 + step * i + k) for k in range(step))  # noqa: E731
    bars = ", ".join(f"'{name}.dat' using {cols(i)}{':xtic(1)' if i == 0 else ''} title '{NAMES[s]}' "
                     f"lc rgb '{COLOURS[s]}'" for i, s in enumerate(servers))
    style = "errorbars gap 2 lw 1" if errorbars else "clustered gap 1"
    base.gnuplot(out, f"""
set terminal pngcairo size 1000,550 font ',10'
set output '{name}.png'
set title '{title}'
set ylabel '{ylabel}'
set style data histogram
set style histogram {style}
set style fill solid 0.8 border -1
set yrange [0:*]
set key outside right top
set grid ytics
plot {bars}
""")
    return f"{name}.png"


def section(out):
    """(Markdown lines, PNG names) for RESULTS_DIR/apps, or ([], []) when there is none."""
    if not os.path.isdir(os.path.join(out, "apps")):
        return [], []
    runs, icount = load_runs(out), load_icount(out)
    if not runs and not icount:
        base.fail(f"{out}/apps: no runs and no instruction counts")
    lines = ["## Apps: kv vs Redis 7, kv and httpd on Ringlet vs Linux (issue 16)", ""]
    workloads = []
    if any(s not in HTTP for s in runs):
        lines += ["### kv and Redis (redis-benchmark -c 50 -t get,set; median of rounds, (min–max))", ""]
        workloads, cut = kv_table(runs, lines)
        if cut:
            reasons = sorted({r["why"] or "no summary" for s in runs for rs in runs[s].values() for r in rs
                              if r.get("cut")})
            lines += ["", "⚠ *ended early*: a run without redis-benchmark's summary, only its progress lines "
                      f"(apps/*/redis-benchmark-*/round*.txt); reasons: {'; '.join(reasons)}."]
        lines.append("")
    if any(s in HTTP for s in runs):
        lines += ["### httpd (wrk -t 2 -c 16 --latency; median of rounds, (min–max))", ""]
        if httpd_table(runs, lines):
            lines += ["", "⚠ some wrk runs had socket errors or non-2xx responses (see apps/*/wrk-*/round*.txt)."]
        lines.append("")
    incidents = os.path.join(out, "apps", "incidents.txt")
    if os.path.exists(incidents):
        with open(incidents) as f:
            lines += [f"- ⚠ {line.strip()}" for line in f if line.strip()] + [""]
    if icount:
        lines += ["### Instructions per request (-icount shift=0 -smp 1, exec log; marginal cost over 2N requests)", ""]
        icount_table(icount, lines)
        lines.append("")
    lines += [*NOTES, ""]
    return lines, plots(out, runs, workloads, icount)
