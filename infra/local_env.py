"""The functions' environment for a local run, from events/env.json.

events/env.json names every variable template.yaml declares for each function
(a test keeps the two equal) with the values of a local run against moto_server.
A variable of that list that is set in this process's environment overrides the
file's value: infra/invoke.sh sets AWS_ENDPOINT_URL, STATE_TABLE and
ALERT_TOPIC_ARN from the moto_server it started, the Makefile sets AUTH_MODE and
AUTH_CREDENTIAL, and anything else (ALLOWED_CORPNUMS=... make invoke) passes
through. So a new variable is added in template.yaml and events/env.json, and
every local runner picks it up from there.

    python3 infra/local_env.py --json FILE        write sam local invoke's --env-vars file
    python3 infra/local_env.py --function ID      print ID's variables, KEY=value, NUL-separated
"""
import argparse
import json
import os
import sys


def resolve(path="events/env.json", environ=os.environ):
    with open(path) as f:
        envs = json.load(f)
    return {fn: {k: environ.get(k, v) for k, v in variables.items()} for fn, variables in envs.items()}


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--env-file", default="events/env.json")
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--function", metavar="ID")
    args = ap.parse_args(argv)
    envs = resolve(args.env_file)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(envs, f, indent=2)
            f.write("\n")
    if args.function:
        if args.function not in envs:
            print(f"{args.env_file} has no function {args.function}; it has {', '.join(envs)}", file=sys.stderr)
            return 2
        for k, v in envs[args.function].items():
            sys.stdout.write(f"{k}={v}\0")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
