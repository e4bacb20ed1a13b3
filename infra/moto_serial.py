"""moto_server, answering one request at a time.

DynamoDB applies each write to an item atomically. moto's threaded server does
not: its UpdateItem creates a new item with only its key, then fills it in, with
no lock, so a concurrent request can see the half-made item or lose an update.
Tests that send concurrent deliveries would then test moto's races, not the
receiver's. Serialising requests restores DynamoDB's per-request atomicity while
every interleaving of separate requests, which is what the receiver must
survive, still happens.

Usage: python3 infra/moto_serial.py -H 127.0.0.1 -p PORT   (moto_server's flags)
"""
import threading

import moto.server as server
from werkzeug import serving

_lock = threading.Lock()
_run_simple = serving.run_simple


def _serialised(app):
    def serve(environ, start_response):
        with _lock:
            # Drain the response inside the lock: WSGI apps may work lazily.
            return list(app(environ, start_response))

    return serve


def run_simple(host, port, app, **kwargs):
    return _run_simple(host, port, _serialised(app), **kwargs)


server.run_simple = run_simple

if __name__ == "__main__":
    server.main()
