"""Real receivers on 127.0.0.1 for notification tests: an SMTP server and an HTTPS webhook endpoint."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import json
import socket
import ssl
import tempfile
import threading
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpReceiver:
    """aiosmtpd on a free local port, keeping every message it is handed.

    Like aiosmtpd itself it offers no STARTTLS, and no login (SMTP AUTH) unless given `login`, the
    one (user, password) it accepts. `reply_delay` keeps the message but gives the final reply to
    DATA only that many seconds later, as a slow mail server does; `reply` is that final reply (e.g.
    "554 5.7.1 rejected" to refuse the message).
    """

    def __init__(
        self,
        reply_delay: float = 0,
        reply: str = "250 Message accepted for delivery",
        login: tuple[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.reply_delay = reply_delay
        self.reply = reply
        offers_login = (
            {"auth_require_tls": False, "authenticator": self._authenticator(login)} if login else {}
        )
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **offers_login)

    @staticmethod
    def _authenticator(login: tuple[str, str]) -> Any:
        def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
            given = (data.login.decode(), data.password.decode()) if isinstance(data, LoginPassword) else None
            return AuthResult(success=given == login, handled=False)

        return check

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reply.startswith("250"):
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        await asyncio.sleep(self.reply_delay)
        return self.reply

    def url(self, to: str = "bids@example.org") -> str:
        return f"mailto://127.0.0.1:{self.port}?from=tenderwatch@example.org&to={to}&name=tenderwatch"

    def start(self) -> SmtpReceiver:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


class WebhookReceiver:
    """An HTTPS server (self-signed certificate) that records JSON posts, as a Teams workflow would."""

    def __init__(self, status: int = 202, accept: int | None = None, hold_after: int | None = None) -> None:
        self.status = status
        self.accept = accept  # how many posts to take before answering 500 (None: all)
        self.hold_after = hold_after  # how many posts to answer before keeping the answers back
        self.released = threading.Event()  # set: the answers kept back go out
        self.posts: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self._folder = Path(tempfile.mkdtemp())
        certificate, key = _self_signed(self._folder)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, key)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self) -> str:
        return f"workflows://127.0.0.1:{self.port}/workflow1234abcd/signatureSECRET99/?verify=no"

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                receiver.paths.append(self.path)
                receiver.posts.append(json.loads(self.rfile.read(length)))
                if receiver.hold_after is not None and len(receiver.posts) > receiver.hold_after:
                    receiver.released.wait(120)  # taken, not yet answered: the sender may be stopped now
                full = receiver.accept is not None and len(receiver.posts) > receiver.accept
                self.send_response(500 if full else receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class TunnelProxy:
    """An HTTP proxy on 127.0.0.1 that tunnels every CONNECT to one local port, whatever host it names.

    A client given a public https:// URL and HTTPS_PROXY reaches a local receiver through it, as it
    would reach that host: the URL is sent as it is. `asked` records each tunnel's "host:port".
    """

    def __init__(self, to_port: int) -> None:
        self.to_port = to_port
        self.asked: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> TunnelProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_CONNECT(self) -> None:
                proxy.asked.append(self.path)
                with socket.create_connection(("127.0.0.1", proxy.to_port)) as upstream:
                    self.send_response(200, "Connection established")
                    self.end_headers()
                    copying = threading.Thread(target=_pipe, args=(upstream, self.connection), daemon=True)
                    copying.start()
                    _pipe(self.connection, upstream)
                    copying.join(timeout=5)
                self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


def _pipe(source: socket.socket, target: socket.socket) -> None:
    """Copy bytes one way until the source closes, then tell the target nothing more is coming."""
    try:
        while data := source.recv(65536):
            target.sendall(data)
        target.shutdown(socket.SHUT_WR)
    except OSError:
        pass  # the other side closed first
