"""Mail servers that fail in different ways, each a real aiosmtpd server on 127.0.0.1 (or a closed port).

A server that keeps the message but answers late must not be sent it twice; failures before the
message is handed over are retried as before, and each says what went wrong; the daemon reports
failures at WARNING and above.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta

import apprise
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from notify.render import Message
from notify.run import send_digests, targets
from notify.send import send, with_smtp_timeout
from scheduler import due_digests
from store.ingest import store_releases
from store.models import DeliveryRow, DigestRow, utcnow
from tenderwatch import config as configuration
from tenderwatch.cli import cli
from tenderwatch.errors import ConfigError
from tests.support.cli import TENDERWATCH, tenderwatch
from tests.support.receivers import SmtpReceiver, free_port
from tests.support.recorded import fts_releases, shifted
from tests.support.stored import filled_store
from tests.support.waiting import wait_until

SHORT = 0.3  # the test's smtp_timeout_seconds: a late server answers after LATE seconds
LATE = 1.5
PASSWORD = "S3cretPassw0rd"


@pytest.fixture
def stored(request, env):
    """Two recorded days of Find a Tender, moved to end an hour before the worker first stored them:
    digests are built for now, as the daemon and `run` build them."""
    return filled_store(request, env, "two recorded days of Find a Tender ending an hour ago", store_recent)


def store_recent(database) -> None:
    releases = fts_releases()
    newest = max(datetime.fromisoformat(release["date"]) for release in releases)
    with database.writing() as session:
        store_releases(session, "find_a_tender", shifted(releases, utcnow() - timedelta(hours=1) - newest))


@pytest.fixture
def late():
    """Keeps the message, and says 250 only after LATE seconds."""
    receiver = SmtpReceiver(reply_delay=LATE).start()
    yield receiver
    receiver.stop()


def configure(tmp_path, channels, **digest) -> configuration.Config:
    lines = ["[digest]", *(f"{key} = {json.dumps(value)}" for key, value in digest.items())]
    lines += [
        "[schedule]",
        'digest_at = ["00:00"]',
        'digest_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]',
    ]
    lines += [f'[[channels]]\nname = "{name}"\nurl = "{url}"' for name, url in channels]
    (tmp_path / "tenderwatch.toml").write_text("\n".join(lines) + "\n")
    return configuration.load()


def sent(config, database):
    return send_digests(config, database, targets(config), as_of=utcnow())


def delivered(database) -> int:
    with database.reading() as session:
        return session.scalar(select(func.count()).select_from(DeliveryRow))


def outcomes(database) -> list[str]:
    with database.reading() as session:
        return list(session.scalars(select(DigestRow.outcome).order_by(DigestRow.id)))


def mail_url(port: int, scheme: str = "mailto", login: str = "") -> str:
    return f"{scheme}://{login}127.0.0.1:{port}?from=tenderwatch@example.org&to=bids@example.org"


# ------------------------------------------------------------------------- a server that answers late


def test_a_late_answer_is_unconfirmed_and_the_next_run_does_not_send_it_again(env, tmp_path, stored, late):
    config = configure(tmp_path, [("bids", late.url())], smtp_timeout_seconds=SHORT)
    [first] = sent(config, stored)
    assert first.outcome == "unconfirmed" and not first.ok
    assert f"did not confirm the message within {SHORT:g} s" in first.reason
    assert len(late.messages) == 1  # the server has it
    # Its items count as told, so neither the next run nor the daemon's retry sends them again.
    assert delivered(stored) == len(first.digest.announcements()) > 0
    assert due_digests(config, stored, utcnow()) == []
    [second] = sent(config, stored)
    assert second.outcome == "skipped"
    time.sleep(LATE)  # anything the server was still answering has finished
    assert len(late.messages) == 1


def test_status_names_an_unconfirmed_digest_and_resend_sends_its_items_once_more(
    env, tmp_path, stored, late, monkeypatch
):
    config = configure(tmp_path, [("bids", late.url())], smtp_timeout_seconds=SHORT)
    [first] = sent(config, stored)
    assert first.outcome == "unconfirmed"
    told = delivered(stored)
    runner = CliRunner()
    status = runner.invoke(cli, ["status"])
    assert status.exit_code == 1, status.output
    [line] = [line for line in status.output.splitlines() if "unconfirmed" in line and "bids:" in line]
    assert "the mail server did not confirm the message within 0.3 s" in line
    assert "`tenderwatch notify resend --channel bids`" in line
    assert "`tenderwatch notify arrived --channel bids`" in line

    resend = runner.invoke(cli, ["notify", "resend"])  # the only channel waiting: no need to name it
    assert resend.exit_code == 0, resend.output
    assert f"{told} items released" in resend.output
    assert delivered(stored) == 0 and outcomes(stored) == ["failed"]
    # The daemon and `run` now retry it like any failed digest; so does a digest sent by hand.
    monkeypatch.setenv("TENDERWATCH_SMTP_TIMEOUT_SECONDS", "30")
    config = configuration.load()
    retry = timedelta(minutes=config.schedule.retry_failed_digest_minutes)
    assert [t.key for t in due_digests(config, stored, utcnow() + retry)] == ["bids"]
    [again] = sent(config, stored)
    assert again.outcome == "sent"
    assert len(late.messages) == 2 and delivered(stored) == told
    assert "unconfirmed" not in runner.invoke(cli, ["status"]).output


def test_an_unconfirmed_digest_from_before_schema_0013_is_still_released_by_resend(
    env, tmp_path, stored, late
):
    from store.db import Database
    from tests.support.schema import migrate

    config = configure(tmp_path, [("bids", late.url())], smtp_timeout_seconds=SHORT)
    [first] = sent(config, stored)
    assert first.outcome == "unconfirmed"
    told = delivered(stored)
    migrate(stored, "downgrade", "0012")  # as an older tenderwatch left it, waiting for the operator
    Database(stored.url).upgrade()
    resend = CliRunner().invoke(cli, ["notify", "resend"])
    assert resend.exit_code == 0 and f"{told} items released" in resend.output
    assert delivered(stored) == 0


def test_a_digest_stopped_while_the_server_answers_is_unconfirmed_not_sent_again(env, tmp_path, stored):
    slow = SmtpReceiver(reply_delay=60).start()  # keeps the message at once, answers a minute later
    try:
        configure(tmp_path, [("bids", slow.url())], smtp_timeout_seconds=120)
        process = subprocess.Popen([*TENDERWATCH, "digest", "--channel", "bids"], cwd=tmp_path)
        try:
            wait_until(lambda: len(slow.messages) == 1, what="the message handed to the server")
            # Meanwhile the operator cannot settle the digest being sent, nor is it a problem yet.
            busy = tenderwatch("notify", "resend", "--channel", "bids")
            assert busy.returncode == 1 and "a digest is being sent on this channel now" in busy.stderr
            assert "unconfirmed" not in tenderwatch("status").stdout
        finally:
            process.send_signal(signal.SIGTERM)  # stopped before the server answered
            process.wait(timeout=30)
        assert outcomes(stored) == ["unconfirmed"] and delivered(stored) > 0
        status = tenderwatch("status")
        assert "is unconfirmed: tenderwatch stopped before the channel answered" in status.stdout
        again = tenderwatch("digest", "--channel", "bids")
        assert again.returncode == 0, again.stderr
        assert len(slow.messages) == 1  # its items counted as told: nothing handed over twice
    finally:
        slow.stop()


def test_arrived_counts_an_unconfirmed_digest_as_sent(env, tmp_path, stored, late):
    config = configure(tmp_path, [("bids", late.url())], smtp_timeout_seconds=SHORT)
    sent(config, stored)
    told = delivered(stored)
    runner = CliRunner()
    arrived = runner.invoke(cli, ["notify", "arrived", "--channel", "bids"])
    assert arrived.exit_code == 0, arrived.output
    assert "counts as sent" in arrived.output
    assert outcomes(stored) == ["sent"] and delivered(stored) == told
    status = runner.invoke(cli, ["status"])
    assert status.exit_code == 0, status.output
    assert "unconfirmed" not in status.output
    assert "no digest is waiting" in runner.invoke(cli, ["notify", "arrived"]).output


def test_the_digest_command_exits_non_zero_and_says_what_to_do(env, tmp_path, stored, late):
    configure(tmp_path, [("bids", late.url())], smtp_timeout_seconds=SHORT)
    result = CliRunner().invoke(cli, ["digest"])
    assert result.exit_code == 1
    assert 'bids: NOT CONFIRMED "tenderwatch ' in result.stdout
    assert "its items count as sent" in result.stderr and "notify resend --channel bids" in result.stderr


def test_the_wait_for_the_final_answer_is_as_long_as_configured(env, tmp_path, stored, late):
    config = configure(tmp_path, [("bids", late.url())], smtp_timeout_seconds=LATE + 3)
    [result] = sent(config, stored)
    assert result.outcome == "sent" and len(late.messages) == 1


def test_by_default_apprise_waits_the_ten_minutes_rfc_5321_allows(env, tmp_path, monkeypatch):
    config = configure(tmp_path, [])
    assert config.digest.smtp_timeout_seconds == 600
    url = mail_url(25)
    # What apprise itself makes of the URL tenderwatch hands it: smtplib's one timeout (apprise's
    # default is 15 s).
    assert apprise.Apprise.instantiate(url).socket_connect_timeout == 15
    assert apprise.Apprise.instantiate(with_smtp_timeout(url, 600)).socket_connect_timeout == 600
    own = url + "&cto=42"  # an operator's own cto is kept
    assert apprise.Apprise.instantiate(with_smtp_timeout(own, 600)).socket_connect_timeout == 42
    monkeypatch.setenv("TENDERWATCH_SMTP_TIMEOUT_SECONDS", "90")
    assert configuration.load().digest.smtp_timeout_seconds == 90


def test_a_bad_timeout_in_the_file_is_reported_even_when_the_variable_is_set(env, tmp_path, monkeypatch):
    monkeypatch.setenv("TENDERWATCH_SMTP_TIMEOUT_SECONDS", "90")
    with pytest.raises(ConfigError, match=r"\[digest\] smtp_timeout_seconds must be a number, not 'long'"):
        configure(tmp_path, [], smtp_timeout_seconds="long")
    configure(tmp_path, [], smtp_timeout_seconds=30)
    monkeypatch.setenv("TENDERWATCH_SMTP_TIMEOUT_SECONDS", "0")
    with pytest.raises(ConfigError, match="TENDERWATCH_SMTP_TIMEOUT_SECONDS must be at least"):
        configuration.load()


# ------------------------------------------------- failures before the message, and refusals: retried


def test_a_message_the_server_refuses_is_failed_and_sent_next_time(env, tmp_path, stored):
    refusing = SmtpReceiver(reply="554 5.7.1 Message rejected as spam").start()
    try:
        config = configure(tmp_path, [("bids", refusing.url())], smtp_timeout_seconds=SHORT)
        [refused] = sent(config, stored)
    finally:
        refusing.stop()
    assert refused.outcome == "failed"
    assert refused.reason == "the mail server refused the message: 554 5.7.1 Message rejected as spam"
    assert delivered(stored) == 0


@pytest.mark.parametrize(
    ("case", "said"),
    [
        ("refused", "Connection refused by the mail server: check that it runs at the URL's host and port"),
        ("no AUTH", "the mail server does not offer login (SMTP AUTH) here"),
        ("no STARTTLS", "the mail server does not offer STARTTLS (mailtos://)"),
        (
            "wrong password",
            "the mail server refused the login (535 5.7.8 Authentication credentials invalid)",
        ),
    ],
    ids=["refused", "no-auth", "no-starttls", "wrong-password"],
)
def test_each_connection_failure_says_which_and_is_retried(env, tmp_path, stored, case, said):
    # Offers no STARTTLS, and login (over plain SMTP) only for the wrong-password case.
    receiver = SmtpReceiver(login=("tenders", "the-right-one") if case == "wrong password" else None)
    receiver.start()
    try:
        url = {
            "refused": mail_url(free_port()),
            "no AUTH": mail_url(receiver.port, login=f"tenders:{PASSWORD}@"),
            "no STARTTLS": mail_url(receiver.port, scheme="mailtos", login=f"tenders:{PASSWORD}@"),
            "wrong password": mail_url(receiver.port, login=f"tenders:{PASSWORD}@"),
        }[case]
        config = configure(tmp_path, [("bids", url)], smtp_timeout_seconds=SHORT)
        [result] = sent(config, stored)
        assert result.outcome == "failed"  # nothing was handed over: safe to send again
        assert result.reason.startswith(said), result.reason
        assert "Connection error while submitting email" not in result.reason
        assert PASSWORD not in result.reason and delivered(stored) == 0
        assert receiver.messages == []
        retry = timedelta(minutes=config.schedule.retry_failed_digest_minutes)
        assert [t.key for t in due_digests(config, stored, utcnow() + retry)] == ["bids"]
        with stored.reading() as session:
            assert PASSWORD not in session.scalar(select(DigestRow.error))
    finally:
        receiver.stop()


def test_notify_test_says_which_failure_too(env, tmp_path):
    url = mail_url(free_port())
    outcome = send(url, Message("t", "b", ()), html=False, smtp_timeout=SHORT)
    assert not outcome.ok and not outcome.unconfirmed
    assert outcome.reason.startswith("Connection refused by the mail server")


# ---------------------------------------------------------------------------------------- the daemon


def test_the_daemon_logs_failed_and_unconfirmed_digests_at_log_level_warning(env, tmp_path, database, late):
    """Three failing channels with TENDERWATCH_LOG_LEVEL=WARNING: each is in the daemon's log."""
    plain = SmtpReceiver().start()
    try:
        configure(
            tmp_path,
            [
                ("down", mail_url(free_port())),
                ("nologin", mail_url(plain.port, login=f"tenders:{PASSWORD}@")),
                ("slow", late.url()),
            ],
            smtp_timeout_seconds=SHORT,
            empty="send",  # a store with nothing new still sends a digest
        )
        (tmp_path / "tenderwatch.toml").write_text(
            (tmp_path / "tenderwatch.toml")
            .read_text()
            .replace("[schedule]", "[schedule]\ntick_seconds = 0.2")
        )
        environment = {**os.environ, "TENDERWATCH_LOG_LEVEL": "WARNING"}
        for source in configuration.SOURCE_DEFAULTS:
            environment[f"TENDERWATCH_{source.upper()}_ENABLED"] = "false"
        process = subprocess.Popen(
            [sys.executable, "-m", "tenderwatch", "daemon"],
            env=environment,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            wait_until(lambda: len(outcomes(database)) == 3, what="three digests")
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=90)
    finally:
        plain.stop()
    assert sorted(outcomes(database)) == ["failed", "failed", "unconfirmed"]
    lines = output.splitlines()
    [down] = [line for line in lines if line.startswith("down: digest failed")]
    assert "Connection refused by the mail server" in down and "trying again in 15 min" in down
    [nologin] = [line for line in lines if line.startswith("nologin: digest failed")]
    assert "does not offer login (SMTP AUTH)" in nologin
    [slow] = [line for line in lines if line.startswith("slow: digest unconfirmed")]
    assert "notify resend --channel slow" in slow
    assert PASSWORD not in output
