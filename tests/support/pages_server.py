"""A local web server on 127.0.0.1 that answers chosen paths with chosen pages (JSON, HTML, feeds).

Pages are keyed by path and query string (`/api/frameworks?limit=100&page=1`); anything else is a
404. `replace` swaps a page between crawls; `faults` answer chosen requests (1-based) otherwise.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Page:
    body: bytes
    content_type: str = "application/json"
    status: int = 200


@dataclass
class PagesServer:
    pages: dict[str, Page] = field(default_factory=dict)
    faults: dict[int, Page] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    user_agents: list[str] = field(default_factory=list)

    def __enter__(self) -> PagesServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server._answer(self)

            def log_message(self, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        self.requests.append(handler.path)
        self.user_agents.append(handler.headers.get("User-Agent", ""))
        page = self.faults.get(len(self.requests)) or self.pages.get(handler.path)
        page = page or Page(b"Not found", "text/plain", 404)
        handler.send_response(page.status)
        handler.send_header("Content-Type", page.content_type)
        handler.send_header("Content-Length", str(len(page.body)))
        handler.end_headers()
        handler.wfile.write(page.body)
