#!/usr/bin/env python3
"""Turns a scripts/bench.sh results folder into results.md and PNG plots.

    report.py RESULTS_DIR
    report.py --run LOADGEN_JSON    (failure count, then a summary line)

Reads runs/<guest>/<proto>-<size>-c<clients>/round<N>.json (loadgen --json),
icount-<guest>-udp-<size>.log (guest consoles under -icount) and
host-<bench>.json (Google Benchmark). Every figure in the table is the
median over rounds (or instret windows, or repetitions) with the spread
(min-max) beside it. Plots go through gnuplot (pngcairo).
"""
import glob
import json
import os
import re
import statistics
import subprocess
import sys

GUESTS = ["ringlet", "linux"]
NAMES = {"ringlet": "Ringlet", "linux": "Linux 6.1"}


def fail(msg):
    print(f"report.py: {msg}", file=sys.stderr)
    sys.exit(1)


def spread(values, fmt):
    """'median (min-max)' of values, or just the value when there is one."""
    if not values:
        return "-"
    med = statistics.median(values)
    if len(values) == 1 or min(values) == max(values):
        return fmt(med)
    return f"{fmt(med)} ({fmt(min(values))}–{fmt(max(values))})"


def n0(v):
    return f"{v:,.0f}"


def us(v):
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}"


def workload_key(name):
    proto, size, clients = re.match(r"(udp|tcp)-(\d+)-c(\d+)$", name).groups()
    return (proto != "udp", int(size), int(clients))


def workload_label(name):
    proto, size, clients = re.match(r"(udp|tcp)-(\d+)-c(\d+)$", name).groups()
    size = int(size)
    size_text = f"{size // 1024} KiB" if size >= 1024 and size % 1024 == 0 else f"{size} B"
    return f"{proto.upper()} {size_text}, {clients} client{'s' if clients != '1' else ''}"


def load_runs(out):
    """{workload: {guest: [summary per round]}}"""
    runs = {}
    for path in sorted(glob.glob(os.path.join(out, "runs", "*", "*", "round*.json"))):
        guest = path.split(os.sep)[-3]
        workload = path.split(os.sep)[-2]
        try:
            with open(path) as f:
                summary = json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            fail(f"{path}: not loadgen JSON ({e})")
        runs.setdefault(workload, {}).setdefault(guest, []).append(summary)
    return runs


def bad_count(s):
    return s["timeouts"] + s["errors"] + s["failed"] + s["mismatched_responses"]


def cut_short(s, duration):
    """A run that ended early with failures: the guest stopped answering."""
    return duration and bad_count(s) > 0 and s["elapsed_s"] < 0.9 * duration


def select_runs(runs, duration):
    """Leaves out runs cut short (their rate covers a few requests before the
    guest stopped answering) unless every round was; returns
    {workload: {guest: (runs used, runs cut short)}}."""
    chosen = {}
    for w, by_guest in runs.items():
        for g, rs in by_guest.items():
            whole = [s for s in rs if not cut_short(s, duration)]
            chosen.setdefault(w, {})[g] = (whole or rs, len(rs) - len(whole))
    return chosen


def throughput_table(chosen, runs, lines):
    guests = [g for g in GUESTS if any(g in r for r in runs.values())]
    lines.append("| workload | guest | requests/s | vs Linux | p50 µs | p99 µs | p99.9 µs | timeouts + errors |")
    lines.append("|---|---|---|---|---|---|---|---|")
    flagged = False
    for w in sorted(runs, key=workload_key):
        med_rps = {g: statistics.median([s["requests_per_s"] for s in chosen[w][g][0]]) for g in guests if g in runs[w]}
        for g in guests:
            if g not in runs[w]:
                continue
            rs, cut = chosen[w][g]
            ratio = "-"
            if g != "linux" and med_rps.get("linux"):
                ratio = f"{med_rps[g] / med_rps['linux']:.2f}×"
            bad = [bad_count(s) for s in runs[w][g]]
            flagged |= any(bad)
            note = ""
            if cut:
                note = f" ({cut} of {len(runs[w][g])} rounds cut short{', all shown' if len(rs) == cut else ', left out'})"
            lines.append(
                f"| {workload_label(w)} | {NAMES[g]} | {spread([s['requests_per_s'] for s in rs], n0)} | {ratio} | "
                f"{spread([s['latency_us']['p50'] for s in rs], us)} | {spread([s['latency_us']['p99'] for s in rs], us)} | "
                f"{spread([s['latency_us']['p99.9'] for s in rs], us)} | {spread(bad, n0)}{' ⚠' if any(bad) else ''}{note} |")
    return flagged


ICOUNT_RE = {
    # echo --stats: app, libOS, lwIP and driver; the time in the wait syscall
    # (kernel path and idle) is already taken out by the app.
    "ringlet": re.compile(r"^echo: (\d+) requests, (\d+) instructions per request"),
    # echo-init: everything hart 0 retired (kernel, idle included), and the
    # idle part estimated from the kernel's idle accounting.
    "linux": re.compile(r"^echo-init: instret (\d+) requests \d+ instructions ([0-9.]+) per request"
                        r"(?: idle ([0-9.]+) per request)?"),
}


def icount_order(key):
    """(proto, size) keys: UDP first, then by size."""
    return (key[0] != "udp", key[1])


def load_icount(out):
    """{(proto, size): {guest: [(per_request, idle_per_request or None) per window]}}, warm-up window dropped."""
    figures = {}
    for path in glob.glob(os.path.join(out, "icount-*-*-*.log")):
        m = re.match(r"icount-(\w+)-(udp|tcp)-(\d+)\.log$", os.path.basename(path))
        if not m:
            continue
        guest, proto, size = m.group(1), m.group(2), int(m.group(3))
        windows = []
        with open(path, errors="replace") as f:
            for line in f:
                hit = ICOUNT_RE[guest].match(line.strip())
                if hit:
                    idle = hit.group(3) if guest == "linux" else None
                    windows.append((float(hit.group(2)), float(idle) if idle is not None else None))
        if len(windows) < 2:
            fail(f"{path}: {len(windows)} instret windows (want at least 2)")
        figures.setdefault((proto, size), {})[guest] = windows[1:]  # the first window holds the warm-up
    return figures


def load_linux_syscall(out):
    """Linux's getppid() round trip in instructions (echo-init prints it at start), or None."""
    for path in sorted(glob.glob(os.path.join(out, "icount-linux-*.log"))):
        with open(path, errors="replace") as f:
            for line in f:
                m = re.match(r"^echo-init: syscall round trip \(getppid\): (\d+) instructions$", line.strip())
                if m:
                    return int(m.group(1))
    return None


ICOUNT_NOTES = [
    "What each figure counts (rdinstret read by the echo server in the guest; the first window, which holds the "
    "warm-up, is dropped):",
    "- **Ringlet**: everything the hart retired between requests (app, libOS, lwIP, virtio driver, and the kernel for "
    "every syscall and trap taken while the app runs) *minus* what it retired inside the libOS's `wait` syscall: "
    "the kernel's sleep path, the interrupt that ends it, and idle time. So the kernel's part of sleeping is not "
    "counted (user/echo prints only this net figure; a with-idle figure would need a change to echo).",
    "- **Linux**: everything hart 0 retired (kernel, softirq, TCP/IP stack, virtio-net driver, the 250 Hz tick, the "
    "app) *including idle*. Under `-icount` instret is the virtual clock (1 ns = 1 instruction at shift=0) and an "
    "idle hart's clock runs with host time, so the idle part depends on how soon the host answers and varies "
    "between windows. *Without idle* subtracts the kernel's own idle accounting (/proc/stat, charged by 4 ms "
    "ticks: a sampled estimate, good to a few hundred instructions per request over 20,000 requests).",
    "- The comparable pair is Ringlet's figure and Linux *without idle*; Ringlet's still leaves out its kernel "
    "sleep path, so it errs in Ringlet's favour.",
    "- TCP is measured on Linux only (a request is one read of the echoed message there); Ringlet's echo counts "
    "UDP with `--stats`, and its TCP figure is the exact profile's (scripts/profile.sh, profile-tcp-64.md), which "
    "counts everything its hart retired, the sleep path included.",
]

HOST_NOTES = [
    "x86-64 host nanoseconds, not guest instructions (for those see user/microbench). The ring figures are two "
    "threads spinning on the kernel's 16-slot SpscRing (kernel/smp/mailbox.cc), pinned to two CPUs: the cost of "
    "the shared cache lines, not of the IPI that wakes a sleeping hart. On a shared machine a descheduled spinner "
    "makes them noisy.",
]


def icount_table(figures, lines):
    lines.append("| message | Ringlet, without its wait syscall | Linux: all of hart 0, idle included | "
                 "Linux: idle part (estimate) | Linux without idle |")
    lines.append("|---|---|---|---|---|")
    for key in sorted(figures, key=icount_order):
        proto, size = key
        f = figures[key]
        r = f.get("ringlet", [])
        lx = f.get("linux", [])
        with_idle = [w[0] for w in lx]
        idle = [w[1] for w in lx if w[1] is not None]
        busy = [w[0] - w[1] for w in lx if w[1] is not None]
        ring = spread([w[0] for w in r], n0) if r else "see the exact profile"
        lines.append(f"| {proto.upper()} {size} B | {ring} | {spread(with_idle, n0)} | {spread(idle, n0)} | "
                     f"{spread(busy, n0)} |")


def load_microbench(out):
    """[(what, instructions)] from user/microbench's console under -icount."""
    path = os.path.join(out, "icount-microbench.log")
    if not os.path.exists(path):
        return []
    with open(path, errors="replace") as f:
        rows = [m.groups() for m in (re.match(r"^microbench: (.+): (\d+) instructions$", line.strip()) for line in f) if m]
    if not rows:
        fail(f"{path}: no microbench figures")
    return rows


HOST_ROWS = [
    ("libos_bench", "BM_PickNext/1", "executor pick-next, 1 ready task", 1),
    ("libos_bench", "BM_PickNext/4096", "executor pick-next, 4096 ready tasks", 1),
    ("libos_bench", "BM_YieldRoundTrip", "coroutine yield round trip", 1),
    ("libos_bench", "BM_SpawnResumeComplete", "spawn + run + complete a task", 1),
    ("libos_bench", "BM_LoopbackPushPopRoundTrip", "PDPIX loopback push + pop", 1),
    ("ring_bench", "BM_RingRoundTrip/real_time", "inter-hart ring message, one way (half a round trip)", 0.5),
    ("ring_bench", "BM_RingRoundTrip/real_time", "inter-hart ring message, round trip", 1),
    ("ring_bench", "BM_RingStream/real_time", "inter-hart ring message, streamed (per message)", 1),
]
LATENCY_COLOURS = {
    "ringlet": {"p50": "#d4b3ef", "p99": "#9b4fd1", "p99.9": "#55127f"},
    "linux": {"p50": "#b0e3d3", "p99": "#2fa67f", "p99.9": "#125c44"},
}
TO_NS = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}


def load_host(out):
    """{(bench, name): [ns per iteration per repetition]}"""
    found = {}
    for path in glob.glob(os.path.join(out, "host-*.json")):
        bench = os.path.basename(path)[len("host-"):-len(".json")]
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            fail(f"{path}: not Google Benchmark JSON ({e})")
        for b in data.get("benchmarks", []):
            if b.get("run_type") != "iteration" or b.get("error_occurred"):
                continue
            name = b.get("run_name", b["name"])
            found.setdefault((bench, name), []).append(b["real_time"] * TO_NS[b.get("time_unit", "ns")])
    return found


def host_table(found, lines):
    lines.append("| host micro-benchmark | ns |")
    lines.append("|---|---|")
    for bench, name, text, scale in HOST_ROWS:
        values = [v * scale for v in found.get((bench, name), [])]
        if values:
            lines.append(f"| {text} | {spread(values, lambda v: f'{v:,.1f}')} |")


def gnuplot(out, script):
    try:
        subprocess.run(["gnuplot"], input=script, text=True, cwd=out, check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        fail(f"gnuplot failed: {getattr(e, 'stderr', '') or e}")


def plots(out, chosen, figures):
    """Plots the runs `chosen` by select_runs and the icount figures."""
    runs = {w: {g: rs for g, (rs, _) in by_guest.items()} for w, by_guest in chosen.items()}
    guests = [g for g in GUESTS if any(g in r for r in runs.values())]
    made = []
    if runs:
        order = sorted(runs, key=workload_key)
        with open(os.path.join(out, "throughput.dat"), "w") as f:
            for w in order:
                cols = [f'"{workload_label(w)}"']
                for g in guests:
                    v = [s["requests_per_s"] for s in runs[w].get(g, [])] or [0]
                    cols += [str(statistics.median(v)), str(min(v)), str(max(v))]
                f.write(" ".join(cols) + "\n")
        bars = ", ".join(f"'throughput.dat' using {2 + 3 * i}:{3 + 3 * i}:{4 + 3 * i}{':xtic(1)' if i == 0 else ''} "
                         f"title '{NAMES[g]}'" for i, g in enumerate(guests))
        gnuplot(out, f"""
set terminal pngcairo size 1200,600 font ',10'
set output 'throughput.png'
set title 'Echo throughput, closed loop (median of rounds, bars: min-max) - QEMU TCG, emulated'
set ylabel 'requests/s'
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.8 border -1
set xtics rotate by -30
set yrange [0:*]
set key top right
set grid ytics
plot {bars}
""")
        made.append("throughput.png")
        # One hue per guest, darker for the higher percentile.
        series = [(g, p) for g in guests for p in ("p50", "p99", "p99.9")]
        with open(os.path.join(out, "latency.dat"), "w") as f:
            for w in order:
                cols = [f'"{workload_label(w)}"']
                for g, p in series:
                    v = [s["latency_us"][p] for s in runs[w].get(g, [])] or [0]
                    cols.append(str(statistics.median(v)))
                f.write(" ".join(cols) + "\n")
        bars = ", ".join(f"'latency.dat' using {2 + i}{':xtic(1)' if i == 0 else ''} title '{NAMES[g]} {p}' "
                         f"lc rgb '{LATENCY_COLOURS[g][p]}'" for i, (g, p) in enumerate(series))
        gnuplot(out, f"""
set terminal pngcairo size 1300,600 font ',10'
set output 'latency.png'
set title 'Echo latency percentiles, closed loop (median of rounds) - QEMU TCG, emulated'
set ylabel 'latency (µs, log scale)'
set logscale y
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set xtics rotate by -30
set key outside right top
set grid ytics
plot {bars}
""")
        made.append("latency.png")
    if figures:
        with open(os.path.join(out, "instructions.dat"), "w") as f:
            for proto, size in sorted(figures, key=icount_order):
                fg = figures[(proto, size)]
                if "ringlet" not in fg:
                    continue  # Linux only (TCP): no pair to plot
                ring = statistics.median([w[0] for w in fg["ringlet"]])
                lx = fg.get("linux", [])
                busy = statistics.median([w[0] - w[1] for w in lx if w[1] is not None]) if lx else 0
                total = statistics.median([w[0] for w in lx]) if lx else 0
                f.write(f'"{proto.upper()} {size} B" {ring} {busy} {total}\n')
        gnuplot(out, """
set terminal pngcairo size 900,500 font ',10'
set output 'instructions.png'
set title 'Guest instructions per echoed request (QEMU -icount shift=0 -smp 1)'
set ylabel 'instructions per request'
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set yrange [0:*]
set key top left
set grid ytics
plot 'instructions.dat' using 2:xtic(1) title 'Ringlet (without the wait syscall: kernel sleep path + idle)' lc rgb '#9b4fd1', \\
     '' using 3 title 'Linux (without idle, estimate)' lc rgb '#2fa67f', \\
     '' using 4 title 'Linux (everything, idle included)' lc rgb '#b0e3d3'
""")
        made.append("instructions.png")
    return made


def run_summary(path):
    """For bench.sh's progress: the run's failure count, then a one-line summary."""
    try:
        with open(path) as f:
            s = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        fail(f"{path}: not loadgen JSON ({e})")
    lat = s["latency_us"]
    print(bad_count(s))
    print(f"{s['requests_per_s']:.0f} req/s, p50 {lat['p50']:.0f} us, p99 {lat['p99']:.0f} us, "
          f"timeouts {s['timeouts']}, errors {s['errors'] + s['failed'] + s['mismatched_responses']}")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--run":
        run_summary(sys.argv[2])
        return
    if len(sys.argv) != 2:
        fail("usage: report.py RESULTS_DIR | report.py --run LOADGEN_JSON")
    out = sys.argv[1]
    meta = {}
    if os.path.exists(os.path.join(out, "meta.txt")):
        with open(os.path.join(out, "meta.txt")) as f:
            meta = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
    runs, figures, host = load_runs(out), load_icount(out), load_host(out)
    chosen = select_runs(runs, float(meta.get("duration_s", 0)))
    sys.dont_write_bytecode = True  # no __pycache__ in scripts/bench/
    import apps_report  # the apps phase (issue 16); imports this module for its helpers
    apps_lines, apps_plots = apps_report.section(out)
    if not runs and not figures and not host and not apps_lines:
        fail(f"{out}: nothing to report")
    lines = ["# Ringlet vs Linux: benchmarks", ""]
    if meta:
        lines.append(f"{meta.get('date', '?')}, commit {meta.get('commit', '?')}, {meta.get('qemu', '?')}, "
                     f"host {meta.get('host', '?')} (load {meta.get('load', '?')}); {meta.get('machine', '')}.")
        lines.append("")
    if runs:
        lines += ["## Throughput and latency (loadgen, closed loop; median of rounds, (min–max) across rounds)", ""]
        if throughput_table(chosen, runs, lines):
            lines += ["", "⚠ some runs had timeouts or errors (the count is per run; see runs/*/*.json). A run "
                      "*cut short* ended early with timeouts: the guest stopped answering, so its rate covers only "
                      "the requests before that; such runs are left out of the medians when another round "
                      "completed."]
        incidents = os.path.join(out, "incidents.txt")
        if os.path.exists(incidents):
            with open(incidents) as f:
                lines += [""] + [f"- ⚠ {line.strip()}" for line in f if line.strip()]
        lines.append("")
    if figures:
        lines += ["## Guest instructions per echoed request (-icount shift=0 -smp 1; median of windows)", ""]
        icount_table(figures, lines)
        lines += ["", *ICOUNT_NOTES, ""]
    micro = load_microbench(out)
    linux_syscall = load_linux_syscall(out)
    if micro:
        lines += ["## Micro-figures in guest instructions (Ringlet: user/microbench; Linux: echo-init; "
                  "-icount shift=0 -smp 1)", "",
                  "| operation | instructions |", "|---|---|"]
        lines += [f"| {what} | {int(n):,} |" for what, n in micro]
        if linux_syscall is not None:
            lines.append(f"| syscall round trip, Linux 6.1 (getppid, the least of 20 runs of 100) | {linux_syscall:,} |")
        lines.append("")
    if host:
        lines += ["## Host micro-benchmarks (Google Benchmark, Release; median of repetitions)", ""]
        host_table(host, lines)
        lines += ["", *HOST_NOTES, ""]
    lines += apps_lines
    made = plots(out, chosen, figures) + apps_plots
    lines += [f"![{p[:-4]}]({p})" for p in made]
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
