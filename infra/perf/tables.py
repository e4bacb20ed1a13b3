#!/usr/bin/env python3
"""Runs one of the shared instruments ($(PERF_DIR)/*.py, by default ../shared/perf) with this project's tables.

usage: tables.py INSTRUMENT.py ARGS...
cpu_per_event.py creates one table, "state", with only its key: this receiver also writes every
delivery to an archive table (four GSIs) and keeps a sparse GSI "due" on the state table. This
wrapper adds both, as template.yaml declares them, and sets ARCHIVE_TABLE, so that the figure
includes the archive's PutItem the receiver makes on every delivery. Peers ignore ARCHIVE_TABLE.
The instrument itself runs unchanged.
"""
import json, os, runpy, sys

import boto3

_client = boto3.client


def _gsi(name, pk, sk, sk_type="S"):
    return {"IndexName": name, "Projection": {"ProjectionType": "ALL"},
            "KeySchema": [{"AttributeName": pk, "KeyType": "HASH"}, {"AttributeName": sk, "KeyType": "RANGE"}]}


def client(name, *a, **kw):
    c = _client(name, *a, **kw)
    if name != "dynamodb":
        return c
    create = c.create_table

    def create_table(**args):
        if args.get("TableName") != "state":
            return create(**args)
        args["AttributeDefinitions"] = args["AttributeDefinitions"] + [
            {"AttributeName": "dueQueue", "AttributeType": "S"}, {"AttributeName": "dueAt", "AttributeType": "N"}]
        args["GlobalSecondaryIndexes"] = [_gsi("due", "dueQueue", "dueAt")]
        out = create(**args)
        idx = {"by-item": "itemKey", "by-mgtkey": "corpMgtKey", "by-day": "day", "by-outcome": "dayOutcome"}
        create(TableName="archive", BillingMode="PAY_PER_REQUEST",
               KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
               AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ["id", *idx.values()]],
               GlobalSecondaryIndexes=[_gsi(n, pk, "id") for n, pk in idx.items()])
        return out

    c.create_table = create_table
    return c


boto3.client = client
env = json.loads(os.environ.get("RECEIVER_ENV", "{}"))
env.setdefault("ARCHIVE_TABLE", "archive")
os.environ["RECEIVER_ENV"] = json.dumps(env)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
