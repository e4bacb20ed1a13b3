#!/usr/bin/env python3
"""A recording proxy in front of moto_server for Go tests that count DynamoDB units.

usage: unitsproxy.py MOTO_URL TABLE_NAME

TABLE_NAME is a table created from template.yaml's StateTable (its keys, indexes and
projections). The proxy charges every call by units.py's rules (DynamoDB's documented sizing:
item sizes, one write unit per KB, index writes, reads per 4 KB). It prints one line,
"PROXY <url> CONTROL <url>", and serves until its standard input closes. A GET of
CONTROL/units answers the write and read units, per table and index, and the count of each
operation, of the calls since the previous GET, and forgets them.
"""
import http.server, json, os, socket, sys, threading


HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import units  # noqa: E402


def state_table():
    return units.template_table("StateTable")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    moto, table = sys.argv[1], sys.argv[2]
    rec = units.Recorder({table: state_table()})
    proxy = free_port()
    rec.serve(f"127.0.0.1:{proxy}", moto)

    class Control(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            with rec.lock:
                calls, rec.calls = rec.calls, []
            wr, rd, ops = {}, {}, {}

            def add(d):
                return lambda where, u: d.__setitem__(where, d.get(where, 0) + u)

            for c in calls:
                ops[c["op"]] = ops.get(c["op"], 0) + 1
                if c["op"] in ("PutItem", "UpdateItem", "DeleteItem"):
                    rec.charge_write(c, add(wr))
                elif c["op"] in ("GetItem", "Query", "BatchGetItem") and "response" in c:
                    rec.charge_read(c, add(rd))
            body = json.dumps({"wru": wr, "rru": rd, "ops": ops}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    control = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", control), Control)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"PROXY http://127.0.0.1:{proxy} CONTROL http://127.0.0.1:{control}", flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
