#!/usr/bin/env python3
"""Prints the performance figures beside their goals, from what make bench wrote.

usage: table.py BENCH_OUTPUT [CPU_OUTPUT] [COLDSTART_OUTPUT] [BOOTSTRAP_ARM64] [LOADTEST_OUTPUT]
BENCH_OUTPUT is `go test -bench -benchmem` output; CPU_OUTPUT is cpu_per_event.py's table
(rows hello, webhook, python, node); COLDSTART_OUTPUT is coldstart.py's (webhook vs hello);
LOADTEST_OUTPUT is make loadtest's (its "loadgen:" line).
A figure whose input is missing is printed as "not run".
"""
import os, re, sys


def read(path):
    try:
        return open(path).read() if path else ""
    except OSError:
        return ""


bench, cpu, cold = (read(sys.argv[i]) if len(sys.argv) > i else "" for i in (1, 2, 3))
boot = sys.argv[4] if len(sys.argv) > 4 else ""
load = read(sys.argv[5]) if len(sys.argv) > 5 else ""
rows = []


def benchfig(name):
    m = re.search(rf"^{name}(?:-\d+)?\s+\d+\s+([\d.]+) ns/op\s+([\d.]+) B/op\s+(\d+) allocs/op", bench, re.M)
    return (float(m.group(1)), int(float(m.group(2))), int(m.group(3))) if m else None


c = benchfig("BenchmarkCorePath")
rows.append(("core path time (BenchmarkCorePath)", f"{c[0] / 1000:.2f} µs" if c else "not run", "≤ 5 µs",
             c and c[0] <= 5000))
rows.append(("core path allocations", f"{c[2]}" if c else "not run", "≤ 20", c and c[2] <= 20))
w = benchfig("BenchmarkBuildWrite")
if w:
    rows.append(("DynamoDB write built (BenchmarkBuildWrite)", f"{w[0] / 1000:.2f} µs, {w[2]} allocs", "(part of the core path)", None))

cpus = dict((m.group(1), float(m.group(2))) for m in re.finditer(r"^(\S+)\s+([\d.]+)\s+[\d.]+\s+\d+\s+[\d.]+$", cpu, re.M))
if "hello" in cpus and "webhook" in cpus:
    r = cpus["webhook"] / cpus["hello"]
    rows.append(("CPU per delivery vs hello-world (cpu_per_event.py)",
                 f"{cpus['webhook']:.3f} ms vs {cpus['hello']:.3f} ms = {r:.2f}x", "≤ 2.5x", r <= 2.5))
    for peer in ("python", "node"):
        if peer in cpus:
            rows.append((f"  peer: {peer}", f"{cpus[peer]:.3f} ms = {cpus[peer] / cpus['hello']:.2f}x", "", None))
else:
    rows.append(("CPU per delivery vs hello-world", "not run", "≤ 2.5x", None))

m = re.search(r"coldstart ratio A/B \(median of pairs\): ([\d.]+)", cold)
f = re.search(r"first invoke ms: A ([\d.]+)\s+B ([\d.]+)", cold)
rows.append(("cold start vs hello-world (coldstart.py)",
             f"{f.group(1)} ms vs {f.group(2)} ms = {float(m.group(1)):.2f}x" if m and f else "not run", "≤ 1.5x",
             m and float(m.group(1)) <= 1.5))

l = re.search(r"^loadgen: (\d+) workers: .*?([\d.]+) deliveries/s; latency p50 [\d.]+ ms, p99 ([\d.]+) ms.*?errors (\d+)", load, re.M)
rows.append(("local server (make loadtest)",
             f"{l.group(2)}/s at p99 {l.group(3)} ms, {l.group(1)} workers, {l.group(4)} errors" if l else "not run",
             "≥ 2000/s at p99 ≤ 50 ms", l and float(l.group(2)) >= 2000 and float(l.group(3)) <= 50 and l.group(4) == "0"))

size = os.path.getsize(boot) if boot and os.path.exists(boot) else None
rows.append(("webhook bootstrap, linux/arm64", f"{size / 1e6:.2f} MB" if size else "not built", "≤ 12 MB",
             size and size <= 12e6))

width = max(len(r[0]) for r in rows)
print(f"{'figure':<{width}}  {'measured':<36} {'goal':<24} met")
for name, fig, goal, ok in rows:
    print(f"{name:<{width}}  {fig:<36} {goal:<24} {'' if ok is None else ('yes' if ok else 'NO')}")
