"""moto_server, answering one request at a time.

DynamoDB applies each write to an item atomically. moto's threaded server does
not: its UpdateItem creates a new item with only its key, then fills it in, with
no lock, so a concurrent request can see the half-made item or lose an update.
Tests that send concurrent deliveries would then test moto's races, not the
receiver's. Serialising requests restores DynamoDB's per-request atomicity while
every interleaving of separate requests, which is what the receiver must
survive, still happens.

Usage: python3 infra/moto_serial.py [--also-host ADDR]... [--own-session] -H 127.0.0.1 -p PORT

After --also-host, the same server (one moto state, one lock) also listens on ADDR
and the same port: infra/local-infra.sh adds the Docker bridge's gateway address, so
that a function's container reaches moto as host.docker.internal while the host's
tools keep using 127.0.0.1. --own-session starts moto in a session of its own, so the
Ctrl-C that stops `make run-moto` (sent to the terminal's whole process group) leaves
it running. The other flags are moto_server's.
"""
import os
import sys
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


_also_hosts = []


def run_simple(host, port, app, **kwargs):
    app = _serialised(app)
    for extra in _also_hosts:
        srv = serving.make_server(extra, port, app, threaded=True, ssl_context=kwargs.get("ssl_context"))
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    return _run_simple(host, port, app, **kwargs)


server.run_simple = run_simple


def _own_flags(argv):
    rest = []
    it = iter(argv)
    for arg in it:
        if arg == "--also-host":
            _also_hosts.append(next(it))
        elif arg == "--own-session":
            os.setsid()
        else:
            rest.append(arg)
    return rest


if __name__ == "__main__":
    server.main(_own_flags(sys.argv[1:]))
