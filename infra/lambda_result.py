"""Reads what a local invocation of the webhook function returned.

    python3 infra/lambda_result.py show RESPONSE              print it as HTTP status and body
    python3 infra/lambda_result.py check EVENT RESPONSE LOG   compare it with events/expected.json

RESPONSE holds what the runner printed: the emulator's answer, or sam local
invoke's standard output, whose last JSON line is the function's result. LOG
holds the function's output; its JSON line whose message is "request" carries the
outcome. check prints one line and exits 1 when the status, the outcome or the
alert differs from what events/expected.json says.
"""
import json
import os
import sys


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return None


def request_line(log_text):
    for line in log_text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if "request" in (rec.get("message"), rec.get("msg")):
            return rec
    return {}


def main(argv):
    if len(argv) == 2 and argv[0] == "show":
        raw = open(argv[1]).read()
        if raw.strip() == "null":
            print("(none: the function returned no value, as an SNS-invoked function does)")
            return 0
        r = last_json(raw)
        if isinstance(r, dict) and "statusCode" in r:
            print(f"HTTP {r['statusCode']}  {r.get('body', '')}")
        elif r is not None:
            print(json.dumps(r, indent=2, ensure_ascii=False))
        else:
            print(raw)
        return 0
    if len(argv) == 4 and argv[0] == "check":
        event, response, log = argv[1:]
        want = json.load(open("events/expected.json"))[os.path.basename(event)]
        r = last_json(open(response).read()) or {}
        req = request_line(open(log).read())
        got = {"status": r.get("statusCode"), "outcome": req.get("outcome")}
        if want.get("alert"):
            got["alert"] = req.get("alert") == "published"
        ok = all(got.get(k) == v for k, v in want.items())
        print(f"{'ok  ' if ok else 'FAIL'} {os.path.basename(event):32} want {json.dumps(want, sort_keys=True)}"
              + ("" if ok else f"  got {json.dumps(got, sort_keys=True)}"))
        return 0 if ok else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
