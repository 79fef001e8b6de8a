"""A local web server on 127.0.0.1 that answers chosen paths with chosen pages (JSON, HTML, feeds).

Pages are keyed by path and query string (`/api/frameworks?limit=100&page=1`); anything else is a
404. A test may change `pages` between crawls; `faults` answer chosen requests (1-based) instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from tests.support.local_server import LocalServer, send


@dataclass
class Page:
    body: bytes
    content_type: str = "application/json"
    status: int = 200


@dataclass
class PagesServer(LocalServer):
    pages: dict[str, Page] = field(default_factory=dict)
    faults: dict[int, Page] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    user_agents: list[str] = field(default_factory=list)

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        self.requests.append(handler.path)
        self.user_agents.append(handler.headers.get("User-Agent", ""))
        page = self.faults.get(len(self.requests)) or self.pages.get(handler.path)
        page = page or Page(b"Not found", "text/plain", 404)
        send(handler, page.status, page.body, page.content_type)
