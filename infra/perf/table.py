#!/usr/bin/env python3
"""Prints the performance figures beside their goals, from what make bench wrote.

usage: table.py [--bench F] [--cpu F] [--cpu-nokeepalive F] [--units F] [--coldstart F]
                [--bootstrap F] [--loadtest F] [--prices F] [--template F]
--bench: `go test -bench -benchmem` output. --cpu: cpu_per_event.py's table through the keep-alive
proxy (rows hello, gopeer, webhook, python, node); --cpu-nokeepalive: the same straight to moto.
--units: tables.py's UNITS_OUT (units per table and index, publishes, bytes logged, per receiver).
--coldstart: coldpairs.py's output. --loadtest: make loadtest's. --prices: prices.json.
--template: template.yaml, for the functions' MemorySize. A figure whose input is missing is
printed as "not run".
"""
import argparse, json, math, os, re

ap = argparse.ArgumentParser()
for flag in ("bench", "cpu", "cpu-nokeepalive", "units", "coldstart", "bootstrap", "loadtest", "prices", "template"):
    ap.add_argument("--" + flag, default="")
a = ap.parse_args()


def read(path):
    try:
        return open(path).read() if path else ""
    except OSError:
        return ""


bench, cpu, cpu_nk, cold, load = (read(p) for p in (a.bench, a.cpu, a.cpu_nokeepalive, a.coldstart, a.loadtest))
units = json.loads(read(a.units) or "{}")
prices = {k: v["usd"] for k, v in json.loads(read(a.prices) or '{"prices": {}}')["prices"].items()}
m = re.search(r"^\s+MemorySize:\s*(\d+)", read(a.template), re.M)
memory = int(m.group(1)) if m else 256
rows = []


def row(name, fig, goal="", ok=None):
    rows.append((name, fig, goal, ok))


def benchfig(name):
    m = re.search(rf"^{name}(?:-\d+)?\s+\d+\s+([\d.]+) ns/op\s+([\d.]+) B/op\s+(\d+) allocs/op", bench, re.M)
    return (float(m.group(1)), int(float(m.group(2))), int(m.group(3))) if m else None


c = benchfig("BenchmarkCorePath")
row("core path time (BenchmarkCorePath)", f"{c[0] / 1000:.2f} µs" if c else "not run", "≤ 5 µs", c and c[0] <= 5000)
row("core path allocations", f"{c[2]}" if c else "not run", "≤ 20", c and c[2] <= 20)


def cpu_rows(text):
    return {m.group(1): (float(m.group(2)), float(m.group(3))) for m in
            re.finditer(r"^(\S+)\s+([\d.]+)\s+([\d.]+)\s+\d+\s+[\d.]+$", text, re.M)}


ka, nk = cpu_rows(cpu), cpu_rows(cpu_nk)
if "webhook" in ka and "gopeer" in ka:
    r = ka["webhook"][0] / ka["gopeer"][0]
    row("CPU per delivery vs the Go peer, keep-alive",
        f"{ka['webhook'][0]:.3f} ms vs {ka['gopeer'][0]:.3f} ms = {r:.2f}x", "≤ 1.2x the Go peer", r <= 1.2)
    for name in ("hello", "gopeer", "python", "node"):
        if name in ka:
            row(f"  {name}", f"{ka[name][0]:.3f} ms = {ka[name][0] / ka['gopeer'][0]:.2f}x the Go peer")
    if "webhook" in nk and "gopeer" in nk:
        row("  without keep-alive",
            f"{nk['webhook'][0]:.3f} ms vs {nk['gopeer'][0]:.3f} ms = {nk['webhook'][0] / nk['gopeer'][0]:.2f}x")
else:
    row("CPU per delivery, keep-alive", "not run", "≤ 1.2x the Go peer")

base = re.search(r"baseline first invoke ms \(median of (\d+)\): ([\d.]+)", cold)
cs = {m.group(1): (float(m.group(2)), float(m.group(3))) for m in
      re.finditer(r"^(\S+): first invoke ms ([\d.]+); ratio to baseline \(median of \d+ pairs\): ([\d.]+)", cold, re.M)}
if base and "webhook" in cs and "gopeer" in cs:
    w, g = cs["webhook"], cs["gopeer"]
    row(f"cold start vs hello-world, median of {base.group(1)}",
        f"{w[0]:.1f} ms = {w[1]:.2f}x; peer {g[0]:.1f} ms = {g[1]:.2f}x",
        f"≤ Go peer's + 0.1 = {g[1] + 0.1:.2f}x", w[1] <= g[1] + 0.1)
else:
    row("cold start vs hello-world", "not run", "≤ Go peer's ratio + 0.1")


# The sweeper's units on the same mix, per delivery (BenchmarkWatchdogUnits in bench.txt): the
# watchdog reads each cashbill once its deadline passes, which the webhook's run does not see.
sw = re.search(r"^BenchmarkWatchdogUnits(?:-\d+)?\s+\d+\s+[\d.]+ ns/op\s+([\d.]+) sweeper-RRU/delivery\s+([\d.]+) sweeper-WRU/delivery",
               bench, re.M)


def per_delivery(name):
    u = units.get(name)
    if not u:
        return None
    n = u["deliveries"]
    out = {"wru": {k: v / n for k, v in u["wru"].items()}, "rru": {k: v / n for k, v in u["rru"].items()},
           "publishes": u["publishes"] / n, "log_bytes": u["log_bytes"] / (n + 40)}
    if name == "webhook" and sw:
        out["rru"]["sweeper (state, due-keys)"] = float(sw.group(1))
        out["wru"]["sweeper (state)"] = float(sw.group(2))
    return out


def dollars(name):
    """Dollars per million deliveries, by item, from the keep-alive run's CPU and wall time and
    the units run's counts. Lambda bills wall time: the CPU part is stretched by the share of a
    vCPU the configured memory gets (1,769 MB is one vCPU), the waiting part is the wall time
    this machine spent beyond CPU (moto is slower than DynamoDB: an upper bound)."""
    u = per_delivery(name)
    if not u or name not in ka or not prices:
        return None
    cpu_ms, wall_ms = ka[name]
    billed_ms = math.ceil(cpu_ms * 1769 / memory + max(0.0, wall_ms - cpu_ms))
    p = prices
    items = {
        "API Gateway HTTP API": p["apigw_http_per_million"],
        "Lambda requests": p["lambda_requests_per_million"],
        f"Lambda duration ({billed_ms} ms at {memory} MB)": 1e6 * memory / 1024 * billed_ms / 1000 * p["lambda_arm_gb_second"],
        "DynamoDB writes": sum(u["wru"].values()) * p["dynamodb_wru_per_million"],
        "DynamoDB reads": sum(u["rru"].values()) * p["dynamodb_rru_per_million"],
        "SNS publishes": u["publishes"] * p["sns_publish_per_million"],
        f"CloudWatch Logs ({u['log_bytes']:.0f} bytes)": 1e6 * u["log_bytes"] / 2 ** 30 * p["logs_ingest_per_gb"],
    }
    return items


if not sw and units.get("webhook"):
    row("sweeper units per delivery", "not run (BenchmarkWatchdogUnits): not in the $ figure")
for name, label in (("webhook", "webhook and its sweeper" if sw else "webhook"), ("gopeer", "floor (the Go peer)")):
    u = per_delivery(name)
    if not u:
        row(f"units per delivery, {label}", "not run")
        continue
    row(f"WRU per delivery, {label}", f"{sum(u['wru'].values()):.2f}")
    for k, v in sorted(u["wru"].items()):
        row(f"  {k}", f"{v:.2f}")
    if u["rru"]:
        row(f"RRU per delivery, {label}", f"{sum(u['rru'].values()):.2f}")
        for k, v in sorted(u["rru"].items()):
            row(f"  {k}", f"{v:.2f}")
    row("  SNS publishes per delivery", f"{u['publishes']:.3f}")
    row("  bytes logged per delivery", f"{u['log_bytes']:.0f}")

dw, df = dollars("webhook"), dollars("gopeer")
if dw and df:
    tw, tf = sum(dw.values()), sum(df.values())
    row("$ per million deliveries, ap-northeast-2", f"${tw:.2f} vs floor ${tf:.2f} = {tw / tf:.2f}x",
        "≤ 1.5x the floor", tw <= 1.5 * tf)
    for k in dw:
        fk = next((x for x in df if x.split(" (")[0] == k.split(" (")[0]), None)
        row(f"  {k}", f"${dw[k]:.3f}" + (f", floor ${df[fk]:.3f}" if fk else ""))
else:
    row("$ per million deliveries", "not run", "≤ 1.5x the floor")

l = re.search(r"^loadgen: (\d+) workers: .*?([\d.]+) deliveries/s; latency p50 [\d.]+ ms, p99 ([\d.]+) ms.*?errors (\d+)", load, re.M)
row("local server (make loadtest)",
    f"{l.group(2)}/s at p99 {l.group(3)} ms, {l.group(1)} workers, {l.group(4)} errors" if l else "not run",
    "≥ 2000/s at p99 ≤ 50 ms", l and float(l.group(2)) >= 2000 and float(l.group(3)) <= 50 and l.group(4) == "0")

size = os.path.getsize(a.bootstrap) if a.bootstrap and os.path.exists(a.bootstrap) else None
row("webhook bootstrap, linux/arm64", f"{size / 1e6:.2f} MB" if size else "not built", "≤ 12 MB", size and size <= 12e6)

width = max(len(r[0]) for r in rows)
fw = max(len(r[1]) for r in rows)
print(f"{'figure':<{width}}  {'measured':<{fw}}  {'goal':<26} met")
for name, fig, goal, ok in rows:
    print(f"{name:<{width}}  {fig:<{fw}}  {goal:<26} {'' if ok is None else ('yes' if ok else 'NO')}")
