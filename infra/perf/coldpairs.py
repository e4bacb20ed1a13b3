#!/usr/bin/env python3
"""Cold start of several bootstraps against one baseline, in one run, with the shared coldstart.py.

usage: coldpairs.py COLDSTART.py BASELINE NAME=BOOTSTRAP [NAME=BOOTSTRAP ...] [--runs N]
Each round starts every bootstrap and the baseline once, in turn, with coldstart.py's own `once`
(a fresh emulator, the first invocation timed, then a warm one) and its environment (plus
COLDSTART_ENV). Per bootstrap it prints the median first-invoke time and the median of its
pairwise ratios to the baseline of the same round, as coldstart.py does for one pair.
"""
import json, os, runpy, statistics, sys

args = sys.argv[1:]
runs = int(args[args.index("--runs") + 1]) if "--runs" in args else 11
tool, baseline = args[0], args[1]
named = [a.split("=", 1) for a in args[2:] if "=" in a]
once = runpy.run_path(tool)["once"]
env = dict(os.environ, AWS_REGION="ap-northeast-2", AWS_DEFAULT_REGION="ap-northeast-2", AWS_ACCESS_KEY_ID="test",
           AWS_SECRET_ACCESS_KEY="test", AWS_EC2_METADATA_DISABLED="true", STATE_TABLE="t",
           ALERT_TOPIC_ARN="arn:aws:sns:ap-northeast-2:123456789012:t", AUTH_MODE="basic", AUTH_CREDENTIAL="u:p",
           AWS_ENDPOINT_URL="http://127.0.0.1:9")
env.update(json.loads(os.environ.get("COLDSTART_ENV", "{}")))
for _, boot in named:  # warm the page cache
    once(boot, env)
once(baseline, env)
first = {name: [] for name, _ in named}
ratios = {name: [] for name, _ in named}
base = []
for _ in range(runs):
    b = once(baseline, env)[0]
    base.append(b)
    for name, boot in named:
        x = once(boot, env)[0]
        first[name].append(x)
        ratios[name].append(x / b)
med = statistics.median
print(f"baseline first invoke ms (median of {runs}): {med(base):.2f}")
for name, _ in named:
    print(f"{name}: first invoke ms {med(first[name]):.2f}; ratio to baseline (median of {runs} pairs): {med(ratios[name]):.3f}")
