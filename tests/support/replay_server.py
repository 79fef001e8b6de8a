"""A local stand-in for Find a Tender and Contracts Finder on 127.0.0.1, serving recorded releases.

It follows the APIs' documented and observed semantics: windows read as UK local time with seconds
(`YYYY-MM-DDTHH:MM:SS`, a trailing Z ignored), `limit` 1-100, an opaque base64 cursor embedding the
window, newest first, `links.next` only when more remain, and a JSON 400 for unknown parameters.
Faults are switched on per test: rate limits with Retry-After, truncated or dropped bodies, and Contracts
Finder's full page without a next link.
"""

from __future__ import annotations

import base64
import bisect
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
UNLIMITED_NUMBER = re.compile(rb"(?<=[:\[,] )Infinity")
WINDOW_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z?$")
HOLD_AT_MOST = 90  # seconds a request waits while `answering` is cleared


@dataclass(frozen=True)
class Api:
    path: str
    from_param: str
    to_param: str
    allowed: frozenset[str]


FIND_A_TENDER = Api(
    "/api/1.0/ocdsReleasePackages",
    "updatedFrom",
    "updatedTo",
    frozenset({"stages", "limit", "cursor", "updatedFrom", "updatedTo"}),
)
CONTRACTS_FINDER = Api(
    "/Published/Notices/OCDS/Search",
    "publishedFrom",
    "publishedTo",
    frozenset({"stages", "limit", "cursor", "publishedFrom", "publishedTo"}),
)


@dataclass
class Served:
    """One request as the server saw it."""

    path: str
    query: dict[str, str]
    started: float
    finished: float = 0.0
    status: int = 0


@dataclass
class Fault:
    """Answer request number `on_request` (1-based, per API) this way, `times` times in a row."""

    on_request: int
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    truncate: bool = False
    times: int = 1
    content_length: bool = True  # False: none sent, so the body ends when the connection closes
    dropped: bool = False  # the whole length announced, half sent, the connection closed: data loss


class ReplayServer:
    def __init__(self, releases: dict[Api, list[dict[str, Any]]], *, response_delay: float = 0.0):
        self.releases = {api: sorted(items, key=_newest_first) for api, items in releases.items()}
        self._index: dict[Api, tuple[tuple[int, int], list[float], list[bytes]]] = {}
        self.response_delay = response_delay
        # Cleared, requests are held (logged, then answered once it is set again, or after HOLD_AT_MOST):
        # a crawl paused part-way for as long as a test needs, however slowly the machine runs.
        self.answering = threading.Event()
        self.answering.set()
        self.faults: dict[Api, list[Fault]] = {api: [] for api in (FIND_A_TENDER, CONTRACTS_FINDER)}
        self.drop_next_link_when_full = False  # Contracts Finder's hole
        self.log: list[Served] = []
        self._counts: dict[Api, int] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add_fault(self, api: Api, fault: Fault) -> None:
        self.faults[api].append(fault)

    def requests_to(self, api: Api) -> list[Served]:
        return [served for served in self.log if served.path == api.path]

    # -------------------------------------------------------------------------------------- serving

    def respond(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, str], bytes, Fault | None]:
        """The answer, and the fault it plays (whose truncate and content_length the handler applies)."""
        api = next((api for api in self.releases if api.path == path), None)
        if api is None:
            return 404, {"Content-Type": "application/json"}, b'{"status":404,"error":"Not Found"}', None
        with self._lock:
            self._counts[api] = number = self._counts.get(api, 0) + 1
        playing = [f for f in self.faults[api] if f.on_request <= number < f.on_request + f.times]
        answer = next((f for f in playing if not (f.truncate or f.dropped)), None)
        if answer:
            return answer.status, answer.headers, answer.body or b"", answer
        status, headers, body = self.page(api, query)
        return status, headers, body, next(iter(playing), None)

    def page(self, api: Api, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        problem = self.bad_request(api, query)
        if problem:
            return (
                400,
                {"Content-Type": "application/json"},
                json.dumps(
                    {
                        "status": 400,
                        "error": "Bad Request",
                        "message": "Request parameters unknown",
                        "path": api.path,
                        "exception": problem,
                    }
                ).encode(),
            )
        if "cursor" in query:
            window = dict(
                part.split("=", 1) for part in base64.b64decode(query["cursor"]).decode().split("|")
            )
            start, end, offset = window[api.from_param], window[api.to_param], int(window["nextCursor"])
        else:
            start, end, offset = query[api.from_param], query[api.to_param], 0
        limit = int(query.get("limit", 100))
        matching = self._in_window(api, _local(start), _local(end))
        package: dict[str, Any] = {
            "uri": f"{self.url}{api.path}?{urlencode(query)}",
            "version": "1.1",
            "publishedDate": "",
        }
        more = offset + limit < len(matching)
        if more and not (self.drop_next_link_when_full and api is CONTRACTS_FINDER):
            cursor = f"{api.from_param}={start}|{api.to_param}={end}|nextCursor={offset + limit}"
            next_query = {
                api.from_param: start,
                api.to_param: end,
                "limit": str(limit),
                "cursor": base64.b64encode(cursor.encode()).decode(),
            }
            package["links"] = {"next": f"{self.url}{api.path}?{urlencode(next_query)}"}
        releases = b",".join(matching[offset : offset + limit])
        body = json.dumps(package).encode()[:-1] + b', "releases": [' + releases + b"]}"
        return 200, {"Content-Type": "application/json"}, body

    def _in_window(self, api: Api, low: datetime, high: datetime) -> list[bytes]:
        """The JSON of each release updated in [low, high), newest first (indexed once per list)."""
        releases = self.releases[api]
        key = (id(releases), len(releases))
        if self._index.get(api, (None,))[0] != key:
            # "Unlimited" is written as the service writes it: 1e9999, not JSON's non-standard Infinity.
            encoded = [
                (-_release_time(r).timestamp(), UNLIMITED_NUMBER.sub(b"1e9999", json.dumps(r).encode()))
                for r in releases
            ]
            self._index[api] = (key, [moment for moment, _ in encoded], [body for _, body in encoded])
        _, moments, bodies = self._index[api]
        first = bisect.bisect_right(moments, -high.timestamp())
        last = bisect.bisect_right(moments, -low.timestamp())
        return bodies[first:last]

    @staticmethod
    def bad_request(api: Api, query: dict[str, str]) -> str | None:
        unknown = sorted(set(query) - api.allowed)
        if unknown:
            return (
                f"Request parameter '{unknown[0]}' is not recognised, allowed parameters are: "
                f"{', '.join(sorted(api.allowed))}"
            )
        if "cursor" in query:
            return None
        for name in (api.from_param, api.to_param):
            if not WINDOW_TIME.match(query.get(name, "")):
                return f"'{name}' must be a date and time like 2025-10-29T19:24:46"
        if not 1 <= int(query.get("limit", "100")) <= 100:
            return "'limit' must not exceed the maximum value"
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                served = Served(parts.path, dict(parse_qsl(parts.query)), time.monotonic())
                server.log.append(served)
                server.answering.wait(HOLD_AT_MOST)
                status, headers, body, fault = server.respond(parts.path, served.query)
                time.sleep(server.response_delay)
                cut = fault and (fault.truncate or fault.dropped)
                sent = body[: len(body) // 2] if cut else body
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if not fault or fault.content_length:
                    self.send_header("Content-Length", str(len(body if fault and fault.dropped else sent)))
                if fault and fault.dropped:
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(sent)
                served.finished, served.status = time.monotonic(), status

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


def _local(text: str) -> datetime:
    return datetime.fromisoformat(text.rstrip("Z")).replace(tzinfo=LONDON)


def _release_time(release: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(release["date"])


def _newest_first(release: dict[str, Any]) -> tuple[float, str]:
    return (-_release_time(release).timestamp(), release["id"])
