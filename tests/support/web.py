"""`tenderwatch web` served for real on 127.0.0.1 (waitress, in a thread), and a client that signs in."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from typing import Any

import requests

from store.models import utcnow
from store.notice import Notice
from web.app import create_app
from web.server import make_server, serve_until

VRP = "find_a_tender:076396-2026"  # Violence Reduction Partnership Research and Evaluation: strong
PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class WebServer:
    """The application over `config` and `database`, listening on a free local port until closed."""

    def __init__(self, config: Any, database: Any):
        self.app = create_app(config, database)
        self.server = make_server(self.app, "127.0.0.1", 0)
        self.base = f"http://127.0.0.1:{self.server.effective_port}"
        self.stop = threading.Event()
        self.thread = threading.Thread(target=serve_until, args=(self.server, self.stop), daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return self.base + path

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)

    def __enter__(self) -> WebServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def csrf_token(html: str) -> str:
    """The CSRF token in a page's forms."""
    match = _TOKEN.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def sign_in(server: WebServer, name: str, password: str = PASSWORD) -> requests.Session:
    client = requests.Session()
    page = client.get(server.url("/login"))
    answer = client.post(
        server.url("/login"),
        data={"name": name, "password": password, "csrf_token": csrf_token(page.text)},
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text
    return client


def hostile_notice(**fields: Any) -> Notice:
    """An open Find a Tender tender the example profile calls a strong match, its text hostile: the
    <script>, javascript: link and Markdown tricks of the digest tests."""
    now = utcnow()
    values: dict[str, Any] = {
        "source": "find_a_tender",
        "source_id": "099999-2026",
        "ocid": "ocds-h6vhtk-fffff1",
        "title": '<script>alert("x")</script> Independent review (RFI) and evaluation of <b>services</b>'
        " [Click](https://ev.il/p) <at>x</at>",
        "url": "https://evil.example.org/Notice/099999-2026",
        "notice_type": "UK4",
        "stage": "tender",
        "is_opportunity": True,
        "status": "active",
        "buyer_name": "Council <img src=x onerror=alert(1)>",
        "description": "An independent evaluation [click](javascript:alert(1)) of service review",
        "published_at": now - timedelta(days=1),
        "deadline": now + timedelta(days=20),
        "category": "services",
        "cpv": ("79419000",),
        "regions": ("UKG",),
        **fields,
    }
    return Notice(**values)
