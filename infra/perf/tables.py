#!/usr/bin/env python3
"""Runs one of the shared instruments ($(PERF_DIR)/*.py) with this project's tables.

usage: tables.py INSTRUMENT.py ARGS...
cpu_per_event.py creates one table, "state", with only its key: this receiver also keeps a sparse
GSI "due-keys" on the state table. This wrapper creates it as template.yaml declares it (attributes,
keys, indexes and projections), and an archive table beside it only when the template declares one
(ArchiveTable; the receiver's archive is now its request line, which the figure's log bytes count).
The instrument itself runs unchanged.

With UNITS_OUT=FILE (and KEEPALIVE set), the keep-alive proxy the instrument starts is replaced by
a recording one (still keep-alive towards the receivers) that reads each written item before and
after every DynamoDB write, and FILE gets, per receiver, the write and read units of its measured
run per table and per index by DynamoDB's sizing rules (units.py), the SNS publishes, and the bytes
the receiver logged. The extra reads make that run's times meaningless: take times from another run.
"""
import json, os, runpy, subprocess, sys

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import units  # noqa: E402


def template_tables():
    out = {}
    for logical, name in (("StateTable", "state"), ("ArchiveTable", "archive")):
        table = units.template_table(logical)
        if table is not None:
            out[name] = table
    return out


TABLES = template_tables()
_client = boto3.client
endpoint = {}


def client(name, *a, **kw):
    c = _client(name, *a, **kw)
    if name != "dynamodb":
        return c
    create = c.create_table

    def create_table(**args):
        if args.get("TableName") != "state":
            return create(**args)
        endpoint["url"] = kw.get("endpoint_url")
        out = create(**dict(args, **TABLES["state"]))
        if "archive" in TABLES:
            create(TableName="archive", BillingMode="PAY_PER_REQUEST", **TABLES["archive"])
        return out

    c.create_table = create_table
    return c


boto3.client = client
env = json.loads(os.environ.get("RECEIVER_ENV", "{}"))
# What a deployed webhook runs with (template.yaml's defaults, and LoggingConfig's JSON format,
# which Lambda passes as AWS_LAMBDA_LOG_FORMAT, the archive's request line in it), EMF metrics.
for k, v in {"METRICS_NAMESPACE": "PopbillWebhook",
             "AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "INFO"}.items():
    env.setdefault(k, v)
os.environ["RECEIVER_ENV"] = json.dumps(env)

if os.environ.get("UNITS_OUT") and os.environ.get("KEEPALIVE"):
    recorder = units.Recorder(TABLES)
    _popen, _killpg = subprocess.Popen, os.killpg
    boots = {}  # bootstrap path -> receiver name, in the order given
    for arg in sys.argv[2:]:
        if "=" in arg:
            boots[arg.split("=", 1)[1]] = arg.split("=", 1)[0]
    receivers = {}  # pid -> (name, ordinal, log path)

    def popen(args, *a, **kw):
        if args and args[0] == os.environ["KEEPALIVE"]:
            recorder.serve(args[args.index("-listen") + 1], args[args.index("-to") + 1])
            return _popen(["sleep", "infinity"], start_new_session=True)
        if args and args[-1] in boots:
            name = boots[args[-1]]
            log = os.environ["UNITS_OUT"] + "." + name + ".log"
            kw["stdout"] = kw["stderr"] = open(log, "wb")
            p = _popen(args, *a, **kw)
            receivers[p.pid] = (name, list(boots).index(args[-1]), log)
            recorder.begin(name)
            return p
        return _popen(args, *a, **kw)

    def killpg(pid, sig):
        if pid in receivers:
            name, k, log = receivers.pop(pid)
            recorder.finish(name, f"9{k}2", endpoint["url"], log)
        return _killpg(pid, sig)

    subprocess.Popen, os.killpg = popen, killpg

sys.argv = sys.argv[1:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
finally:
    if os.environ.get("UNITS_OUT") and os.environ.get("KEEPALIVE"):
        n = int(sys.argv[sys.argv.index("--events") + 1]) if "--events" in sys.argv else 400
        for r in recorder.results.values():
            r["deliveries"] = n
        with open(os.environ["UNITS_OUT"], "w") as f:
            json.dump(recorder.results, f, indent=1)
