#!/usr/bin/env python3
"""DynamoDB write and read units of a receiver's calls, by DynamoDB's documented sizing rules.

moto's ConsumedCapacity counts neither index writes nor item sizes the way DynamoDB does, so
Recorder, a keep-alive recording proxy in front of moto_server, reads the item each write touches
before and after it, and charges, per the DynamoDB Developer Guide:
- item size: the lengths of attribute names plus values (S: UTF-8 bytes, N: 1 byte per two
  significant digits plus 1, B: bytes, BOOL/NULL: 1, M/L: 3 plus their elements, 1 byte more per
  element, a map's element names counted) ("Item sizes and formats");
- a write (PutItem, UpdateItem, DeleteItem): 1 WRU per KB of the larger of the item before and
  after, at least 1, also when its condition fails ("Capacity unit consumption for writes");
- each global secondary index: nothing when the item is in it neither before nor after, or when a
  write changes no attribute the index projects; a put or delete of the entry when it enters or
  leaves the index; delete and put (two writes) when its key changes; else one write, each of the
  entry's size (index keys + table keys + projected attributes), 1 WRU per KB
  ("Provisioned throughput considerations for Global Secondary Indexes");
- a read: GetItem 1 RRU per 4 KB (half when eventually consistent), Query the sum of the items it
  returns rounded up to 4 KB (half when eventually consistent), BatchGetItem each item so.
"""
import base64, http.client, http.server, json, math, os, re, threading, urllib.parse

import boto3
import yaml

KB = 1024


class _Tagged(yaml.SafeLoader):
    """Reads template.yaml, turning CloudFormation's tags (!Ref, !If, ...) into None."""


_Tagged.add_multi_constructor("!", lambda loader, suffix, node: None)


def template_table(logical):
    """The keys and indexes of template.yaml's table resource logical, as a new stack has them
    (without the conditional !If entry of its index list), or None when the template has none."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "template.yaml")) as f:
        res = yaml.load(f, Loader=_Tagged)["Resources"]
    if logical not in res:
        return None
    p = res[logical]["Properties"]
    out = {k: p[k] for k in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes") if k in p}
    if "GlobalSecondaryIndexes" in out:
        out["GlobalSecondaryIndexes"] = [g for g in out["GlobalSecondaryIndexes"] if g]
    return out


def size_of_value(v):
    (t, x), = v.items()
    if t == "S":
        return len(x.encode())
    if t == "N":
        digits = x.lstrip("-").replace(".", "").strip("0") or "0"  # significant digits
        return math.ceil(len(digits) / 2) + 1
    if t == "B":
        return len(x) * 3 // 4 - x.count("=") if isinstance(x, str) else len(x)
    if t in ("BOOL", "NULL"):
        return 1
    if t == "M":
        return 3 + sum(len(k.encode()) + size_of_value(e) + 1 for k, e in x.items())
    if t == "L":
        return 3 + sum(1 + size_of_value(e) for e in x)
    if t in ("SS", "NS", "BS"):
        return sum(size_of_value({t[0]: e}) for e in x)
    return 0


def size_of(item):
    return sum(len(k.encode()) + size_of_value(v) for k, v in (item or {}).items())


def wru(size):
    return max(1, math.ceil(size / KB))


class Recorder:
    def __init__(self, tables):
        self.tables = tables  # name -> AttributeDefinitions, KeySchema, GlobalSecondaryIndexes
        self.results = {}
        self.calls = []
        self.lock = threading.Lock()
        self.moto = None

    # --- the proxy ---------------------------------------------------------
    def serve(self, listen, to):
        self.to = urllib.parse.urlparse(to)
        self.moto = boto3.client("dynamodb", endpoint_url=to, region_name="ap-northeast-2",
                                 aws_access_key_id="test", aws_secret_access_key="test")
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                self.forward()

            def do_POST(self):
                self.forward()

            def forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = self.headers.get("X-Amz-Target", "")
                op = target.split(".", 1)[1] if target.startswith("DynamoDB_") else ""
                req = json.loads(body) if op else None
                before = rec.item_of(op, req) if op in ("PutItem", "UpdateItem", "DeleteItem") else None
                status, headers, data = rec.send(self.command, self.path, self.headers, body)
                call = {"op": op or ("Publish" if b"Action=Publish" in body else "other"), "status": status}
                if op in ("PutItem", "UpdateItem", "DeleteItem"):
                    call.update(table=req["TableName"], before=before, after=rec.item_of(op, req))
                elif op in ("GetItem", "Query", "BatchGetItem") and status == 200:
                    call.update(request=req, response=json.loads(data))
                elif call["op"] == "Publish":
                    call["body"] = urllib.parse.unquote_plus(body.decode(errors="replace"))
                with rec.lock:
                    rec.calls.append(call)
                self.send_response(status)
                for k, v in headers:
                    if k.lower() not in ("connection", "content-length", "transfer-encoding", "server", "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        host, port = listen.rsplit(":", 1)
        server = http.server.ThreadingHTTPServer((host, int(port)), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def send(self, method, path, headers, body):
        c = http.client.HTTPConnection(self.to.hostname, self.to.port, timeout=30)
        c.request(method, path, body, {k: v for k, v in headers.items() if k.lower() != "connection"})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, r.getheaders(), data

    def key_of(self, table, item):
        return {k["AttributeName"]: item[k["AttributeName"]] for k in self.tables[table]["KeySchema"]}

    def item_of(self, op, req):
        table = req["TableName"]
        if table not in self.tables:
            return None
        key = req["Key"] if op != "PutItem" else self.key_of(table, req["Item"])
        out = self.moto.get_item(TableName=table, Key=key, ConsistentRead=True)
        return _plain(out.get("Item"))

    # --- per receiver ------------------------------------------------------
    def begin(self, name):
        with self.lock:
            self.calls = []

    def finish(self, name, prefix, url, log):
        """Charges the calls of name's measured run: those from its first call naming an item
        whose itemKey starts with prefix (the warm-up's items have another prefix)."""
        with self.lock:
            calls, self.calls = self.calls, []
        named = re.compile(r'"' + prefix + r"\d{15}\"|\b" + prefix + r"\d{15}\b")
        start = next((i for i, c in enumerate(calls) if named.search(json.dumps(c))), len(calls))
        calls = calls[start:]
        deliveries = len({m.group(0).strip('"') for c in calls for m in named.finditer(json.dumps(c))})
        wr, rd, ops = {}, {}, {}

        def add(d, where, units):
            d[where] = d.get(where, 0) + units

        for c in calls:
            ops[c["op"]] = ops.get(c["op"], 0) + 1
            if c["op"] in ("PutItem", "UpdateItem", "DeleteItem"):
                self.charge_write(c, lambda where, u: add(wr, where, u))
            elif c["op"] in ("GetItem", "Query", "BatchGetItem"):
                self.charge_read(c, lambda where, u: add(rd, where, u))
        try:
            lines = open(log, "rb").read().splitlines(keepends=True)
        except OSError:
            lines = []
        # The emulator's START/END/REPORT lines: Lambda sends its platform lines at INFO, which
        # the template's SystemLogLevel (WARN) drops; only the function's own lines are ingested.
        logged = b"".join(l for l in lines if not l.startswith((b"START RequestId", b"END RequestId", b"REPORT RequestId")))
        self.results[name] = {"calls": len(calls), "ops": ops, "items": deliveries, "wru": wr, "rru": rd,
                              "publishes": ops.get("Publish", 0), "log_bytes": len(logged),
                              "log_lines": logged.count(b"\n")}

    def charge_write(self, c, add):
        table, before, after = c["table"], c["before"], c["after"]
        changed = before != after
        add(table, wru(max(size_of(before), size_of(after))))
        if not changed:  # a failed condition, or a write of the same values: no index write
            return
        for gsi in self.tables[table].get("GlobalSecondaryIndexes", []):
            old, new = self.entry(table, gsi, before), self.entry(table, gsi, after)
            where = table + "/" + gsi["IndexName"]
            if old == new:
                continue
            if old is not None and new is not None and self.index_key(gsi, old) != self.index_key(gsi, new):
                add(where, wru(size_of(old)) + wru(size_of(new)))
            elif new is not None:
                add(where, wru(size_of(new)))
            elif old is not None:
                add(where, wru(size_of(old)))

    def index_key(self, gsi, entry):
        return [json.dumps(entry.get(k["AttributeName"])) for k in gsi["KeySchema"]]

    def entry(self, table, gsi, item):
        """The index entry of item, None when the item is not in the index."""
        if not item or any(k["AttributeName"] not in item for k in gsi["KeySchema"]):
            return None
        p = gsi.get("Projection", {})
        if p.get("ProjectionType", "ALL") == "ALL":
            return dict(item)
        names = {k["AttributeName"] for k in gsi["KeySchema"] + self.tables[table]["KeySchema"]}
        names |= set(p.get("NonKeyAttributes") or [])
        return {k: v for k, v in item.items() if k in names}

    def charge_read(self, c, add):
        req, resp = c["request"], c["response"]
        half = 1 if req.get("ConsistentRead") else 0.5
        if c["op"] == "GetItem":
            add(req["TableName"], half * max(1, math.ceil(size_of(resp.get("Item")) / (4 * KB))))
        elif c["op"] == "Query":
            where = req["TableName"] + ("/" + req["IndexName"] if req.get("IndexName") else "")
            total = sum(size_of(i) for i in resp.get("Items", []))
            add(where, half * max(1, math.ceil(total / (4 * KB))))
        else:
            for table, items in resp.get("Responses", {}).items():
                for i in items:
                    add(table, half * max(1, math.ceil(size_of(i) / (4 * KB))))


def _plain(item):
    """boto3's low-level client answers in the wire form, bytes for B: back to base64 text."""
    if item is None:
        return None

    def conv(v):
        (t, x), = v.items()
        if t == "B":
            return {"B": base64.b64encode(x).decode()}
        if t == "M":
            return {"M": {k: conv(e) for k, e in x.items()}}
        if t == "L":
            return {"L": [conv(e) for e in x]}
        return {t: x}

    return {k: conv(v) for k, v in item.items()}
