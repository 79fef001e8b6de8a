"""`tenderwatch status` as an operator's monitoring check: crawl failures in words, channels checked.

Channels are checked against real servers on 127.0.0.1 (aiosmtpd, an HTTPS webhook), up and down,
through the real command; nothing may be sent by the check.
"""

from __future__ import annotations

import pytest

from tests.support.cli import tenderwatch
from tests.support.local_server import LocalServer, send
from tests.support.receivers import SmtpReceiver, WebhookReceiver, free_port

A_CHANNEL_CHECK = "a channel check talks to the channel, not the store"

SOURCES = [
    "find_a_tender",
    "contracts_finder",
    "public_contracts_scotland",
    "sell2wales",
    "crown_commercial_service",
    "digital_outcomes",
]


class NotFound(LocalServer):
    def answer(self, handler):
        send(handler, 404, b"<html><body>Not Found</body></html>", "text/html")


def status_row(output: str, name: str) -> str:
    [row] = [line for line in output.splitlines() if line.startswith(f"{name} ")]
    return row


# test_cli's status tests record failed crawls on both backends
@pytest.mark.above_the_store(reason="how status words a failed crawl")
@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("fault", ["dns", "404"])
def test_a_crawl_that_failed_on_dns_or_a_404_is_a_failure_never_unreadable_data(env, source, fault):
    with NotFound() as server:
        url = "http://tenderwatch.invalid" if fault == "dns" else server.url
        settings = {f"TENDERWATCH_{source.upper()}_URL": url, f"TENDERWATCH_{source.upper()}_ENABLED": "true"}
        crawl = tenderwatch("crawl", source, env_extra=settings)
        status = tenderwatch("status", env_extra=settings)
    assert crawl.returncode == 1 and f"{source}: FAILED: " in crawl.stdout + crawl.stderr
    assert status.returncode == 1
    assert " failed (0 pages, 0 new, 0 changed)" in status_row(status.stdout, source)
    assert f"{source}: the last crawl failed" in status.stdout
    assert "unreadable" not in status.stdout


def configure(tmp_path, *channels: tuple[str, str], empty: str = "skip") -> None:
    lines = [f'[digest]\nempty = "{empty}"']
    lines += [f'[[channels]]\nname = "{name}"\nurl = "{url}"' for name, url in channels]
    (tmp_path / "tenderwatch.toml").write_text("\n".join(lines) + "\n")


@pytest.fixture
def store(env):
    assert tenderwatch("db", "upgrade").returncode == 0
    return env


@pytest.mark.above_the_store(reason=A_CHANNEL_CHECK)
def test_a_mail_server_up_is_reachable_without_being_sent_anything_and_down_fails_status(store, tmp_path):
    smtp = SmtpReceiver().start()
    configure(tmp_path, ("bids-email", smtp.url()))
    up = tenderwatch("status")
    assert up.returncode == 0, up.stdout
    row = status_row(up.stdout, "bids-email")
    assert row.split()[-3:-1] == ["never", "up"]  # last worked: never; server: up
    assert smtp.messages == []  # EHLO and QUIT, no message
    smtp.stop()
    down = tenderwatch("status")
    assert down.returncode == 1
    assert " down " in status_row(down.stdout, "bids-email")
    assert (
        f"bids-email: cannot reach the mail server 127.0.0.1:{smtp.port}: Connection refused by the mail "
        "server: check that it runs at the URL's host and port (it never has)"
    ) in down.stdout


def test_a_channel_down_on_a_quiet_day_says_when_it_last_worked(store, tmp_path):
    smtp = SmtpReceiver().start()
    configure(tmp_path, ("bids-email", smtp.url()), empty="send")
    sent = tenderwatch("digest", "--channel", "bids-email")
    assert sent.returncode == 0, sent.stderr
    assert len(smtp.messages) == 1
    smtp.stop()
    down = tenderwatch("status")
    assert down.returncode == 1
    [problem] = [line for line in down.stdout.splitlines() if "cannot reach the mail server" in line]
    worked = status_row(down.stdout, "bids-email").split("sent (nothing new)")[1].split()[:2]
    assert problem.endswith(f"(it last worked {' '.join(worked)})")


def test_a_digest_written_only_to_say_a_source_failed_is_not_called_nothing_new(store, tmp_path):
    failing = {"TENDERWATCH_FIND_A_TENDER_URL": "http://tenderwatch.invalid"}
    assert tenderwatch("crawl", "find_a_tender", env_extra=failing).returncode == 1
    written = tenderwatch("digest", env_extra=failing)
    assert written.returncode == 0, written.stderr
    assert "1 source failing" in written.stdout
    status = tenderwatch("status", env_extra=failing)
    assert "written (1 source failing)" in status_row(status.stdout, "file")


@pytest.mark.above_the_store(reason=A_CHANNEL_CHECK)
def test_the_mail_check_logs_in_as_configured_and_names_a_refused_login_without_the_password(store, tmp_path):
    smtp = SmtpReceiver(login=("tenders", "right-password")).start()
    try:
        url = f"mailto://tenders:${{SMTP_PASSWORD}}@127.0.0.1:{smtp.port}?from=t@example.org&to=b@example.org"
        configure(tmp_path, ("bids-email", url))
        good = tenderwatch("status", env_extra={"SMTP_PASSWORD": "right-password"})
        assert good.returncode == 0, good.stdout
        bad = tenderwatch("status", env_extra={"SMTP_PASSWORD": "wrong-password"})
    finally:
        smtp.stop()
    assert bad.returncode == 1
    assert f"cannot reach the mail server 127.0.0.1:{smtp.port}: the mail server refused the login (535" in (
        bad.stdout
    )
    assert "wrong-password" not in bad.stdout + bad.stderr
    assert smtp.messages == []


@pytest.mark.above_the_store(reason=A_CHANNEL_CHECK)
def test_a_teams_webhook_host_is_checked_by_a_tls_handshake_and_never_posted_to(store, tmp_path):
    teams = WebhookReceiver().start()
    configure(tmp_path, ("bids-teams", teams.url()))
    up = tenderwatch("status")
    assert up.returncode == 0, up.stdout
    assert status_row(up.stdout, "bids-teams").split()[-3:-1] == ["never", "up"]
    assert teams.posts == [] and teams.paths == []  # no request at all: no workflow runs
    teams.stop()
    down = tenderwatch("status")
    assert down.returncode == 1
    said = f"bids-teams: cannot reach the webhook host 127.0.0.1:{teams.port}: Connection refused"
    assert said in down.stdout
    assert "signatureSECRET99" not in down.stdout + down.stderr


@pytest.mark.above_the_store(reason=A_CHANNEL_CHECK)
def test_a_webhook_host_whose_certificate_is_not_trusted_is_named(store, tmp_path):
    teams = WebhookReceiver().start()
    try:
        # The receiver's certificate is self-signed: without ?verify=no, apprise would refuse it too.
        configure(tmp_path, ("bids-teams", teams.url().replace("?verify=no", "")))
        result = tenderwatch("status")
    finally:
        teams.stop()
    assert result.returncode == 1
    assert "cannot reach the webhook host 127.0.0.1" in result.stdout
    assert "the TLS handshake failed (CERTIFICATE_VERIFY_FAILED)" in result.stdout


@pytest.mark.above_the_store(reason=A_CHANNEL_CHECK)
def test_no_channel_check_leaves_the_servers_alone_for_offline_use(store, tmp_path):
    port = free_port()  # nothing listens here
    configure(tmp_path, ("bids-email", f"mailto://127.0.0.1:{port}?from=t@example.org&to=b@example.org"))
    assert tenderwatch("status").returncode == 1
    offline = tenderwatch("status", "--no-channel-check")
    assert offline.returncode == 0, offline.stdout
    assert "not checked" in status_row(offline.stdout, "bids-email")
    assert "cannot reach" not in offline.stdout
