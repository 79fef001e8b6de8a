"""Serving the application with waitress, a pure-Python production WSGI server (no C build, no
reverse proxy required on a LAN; put one in front for TLS)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from waitress import create_server

THREADS = 4


def make_server(app: Flask, host: str, port: int) -> Any:
    """A waitress server bound to host:port (0: any free port), not yet serving: call .run()."""
    return create_server(app, host=host, port=port, threads=THREADS, ident="tenderwatch")


def serve_until(server: Any, stop: Any, poll_seconds: float = 0.1) -> None:
    """Serve until `stop` (a threading.Event) is set, then close: a server run in a thread (tests,
    benchmarks) stops cleanly, not with its sockets closed under it."""
    try:
        while not stop.is_set():
            server.asyncore.loop(timeout=poll_seconds, map=server._map, count=1)
    finally:
        server.task_dispatcher.shutdown()
        server.close()
