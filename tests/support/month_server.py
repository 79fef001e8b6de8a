"""A local stand-in for Proactis's OCDS Web API (Public Contracts Scotland, Sell2Wales) on 127.0.0.1.

`GET /v1/Notices?dateFrom=MM-YYYY&noticeType=N&outputType=0` answers with the release package of
that month and type: the releases given for it, else none. Like the recorded response, each release
id starts with its position in the response ("rls-1-...", "rls-2-..."), so a release moves from
one id to another as others come and go. Faults replace the answer to chosen requests.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.support.local_server import LocalServer, send

POSITION = re.compile(r"^rls-\d+-")
MONTH = re.compile(r"^\d{2}-\d{4}$")


@dataclass
class MonthFault:
    """Answer request number `on_request` (1-based) with this status and body, `times` times."""

    on_request: int
    status: int = 500
    body: bytes = b""
    content_type: str = "text/plain"
    times: int = 1


@dataclass
class MonthServer(LocalServer):
    releases: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    faults: list[MonthFault] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)
    ssl_context: Any = None

    def asked(self) -> list[tuple[str, str]]:
        """(month, notice type) of each request so far, in order."""
        return [(query.get("dateFrom", ""), query.get("noticeType", "")) for query in self.requests]

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        query = dict(parse_qsl(parts.query))
        self.requests.append(query)
        number = len(self.requests)
        for fault in self.faults:
            if fault.on_request <= number < fault.on_request + fault.times:
                send(handler, fault.status, fault.body, fault.content_type)
                return
        if parts.path != "/v1/Notices" or not MONTH.match(query.get("dateFrom", "")):
            body = b"Error converting data type nvarchar to float."
            send(handler, 500, body, "text/plain")
            return
        releases = self.releases.get((query["dateFrom"], query.get("noticeType", "")), [])
        numbered = [
            {**release, "id": f"rls-{position}-{POSITION.sub('', str(release['id']))}"}
            for position, release in enumerate(releases, 1)
        ]
        package = {"uri": handler.path, "publishedDate": "2026-09-19T17:30:34Z", "releases": numbered}
        send(handler, 200, json.dumps(package).encode(), "application/json")
