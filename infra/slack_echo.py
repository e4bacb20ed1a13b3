"""A stand-in for a Slack incoming webhook, for running the Slack notifier locally.

It answers every POST with 200 "ok", as Slack does, and writes what it was sent,
pretty-printed, to standard output: the message the notifier would have posted.

    python3 infra/slack_echo.py PORT [ADDRESS]   (ADDRESS: 127.0.0.1 unless given)
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            shown = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
        except ValueError:
            shown = body.decode("utf-8", "replace")
        print(f"== posted to Slack ({self.path})\n{shown}", flush=True)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    address = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
    ThreadingHTTPServer((address, int(sys.argv[1])), Handler).serve_forever()
