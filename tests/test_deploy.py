"""The deployment files: a systemd unit systemd accepts, crontab lines that call real commands, and
deploy/install.sh run for real."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tenderwatch.cli import cli
from tests.support.receivers import SmtpReceiver

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze not installed: apt-get install systemd to check the unit file",
)
@pytest.mark.parametrize(
    ("name", "command"), [("tenderwatch.service", "daemon"), ("tenderwatch-web.service", "web")]
)
def test_the_systemd_unit_is_valid(tmp_path, name, command):
    unit = (DEPLOY / name).read_text()
    tenderwatch = Path(sys.executable).parent / "tenderwatch"
    assert f"ExecStart=/opt/tenderwatch/.venv/bin/tenderwatch {command}\n" in unit
    # Checked as installed on this machine: the real executable, and a user that exists here.
    local = (
        unit.replace("/opt/tenderwatch/.venv/bin/tenderwatch", str(tenderwatch))
        .replace("User=tenderwatch", "User=root")
        .replace("Group=tenderwatch", "Group=root")
    )
    path = tmp_path / name
    path.write_text(local)
    result = subprocess.run(
        ["systemd-analyze", "verify", str(path)], capture_output=True, text=True, check=False
    )
    problems = [line for line in result.stderr.splitlines() if name in line]
    assert result.returncode == 0 and not problems, result.stderr


def test_the_help_examples_run_through_the_secrets_wrapper_as_installed():
    # `run --help` once gave `.../.venv/bin/tenderwatch run` for the crontab: without the installed
    # config or secrets, cron crawled into a new store in ~/.local/share and exited 0; `status --help`
    # a check that, without the secrets, reported every ${NAME} channel as unable to send.
    from click.testing import CliRunner

    crontab = (DEPLOY / "crontab.example").read_text()
    run_help = CliRunner().invoke(cli, ["run", "--help"]).output
    [cron_line] = [line.strip() for line in run_help.splitlines() if line.strip().startswith("5 * * * *")]
    assert cron_line.split(None, 5)[5] in crontab
    status_help = CliRunner().invoke(cli, ["status", "--help"]).output
    assert "runuser -u tenderwatch -- /opt/tenderwatch/bin/with-secrets status" in status_help


def test_crontab_lines_call_real_commands():
    commands = set(cli.commands)
    lines = [line.lstrip("# ") for line in (DEPLOY / "crontab.example").read_text().splitlines()]
    called = [
        line.split("/bin/with-secrets ", 1)[1].split()[0] for line in lines if "/bin/with-secrets " in line
    ]
    assert called == ["run", "crawl", "digest"]
    assert set(called) <= commands


# ------------------------------------------------------------------------------------ deploy/install.sh
# Run for real as root under a temporary root folder (--prefix): a system user on this machine (removed
# afterwards), the folders and files with their owners and modes, twice (idempotent), then its
# logrotate file through logrotate, its cron line through the secrets wrapper against a real local
# mail server, and its systemd unit through systemd-analyze.

INSTALL = DEPLOY / "install.sh"
as_root = pytest.mark.skipif(
    os.geteuid() != 0,
    reason="install.sh creates a system user and chowns files: run the tests as root (CI does)",
)


def clean_environment() -> dict[str, str]:
    """Root's environment without the test run's TENDERWATCH_* (the installed config must decide)."""
    return {name: value for name, value in os.environ.items() if not name.startswith("TENDERWATCH_")}


def a_python_the_user_can_run() -> str:
    """The venv's interpreter must be readable by the new user: not one under root's home (pyenv)."""
    system = Path("/usr/bin/python3")
    if system.exists():
        version = subprocess.run(
            [system, "-c", "import sys; print(sys.version_info >= (3, 11))"],
            check=False,
            capture_output=True,
            text=True,
        )
        if version.stdout.strip() == "True":
            return str(system)
    return sys.executable


def install(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["sh", str(INSTALL), *args],
        check=False,
        capture_output=True,
        text=True,
        env=clean_environment(),
        timeout=600,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


@dataclass
class Installed:
    root: Path
    user: str
    first: subprocess.CompletedProcess[str]
    again: subprocess.CompletedProcess[str]

    def path(self, inside: str) -> Path:
        return self.root / inside.lstrip("/")

    def as_user(self, command: list[str], **extra_env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["runuser", "-u", self.user, "--", *command],
            check=False,
            capture_output=True,
            text=True,
            env={**clean_environment(), **extra_env},
            timeout=300,
            cwd=self.root,
        )


@pytest.fixture(scope="module")
def installed():
    if os.geteuid() != 0:
        pytest.skip("install.sh creates a system user and chowns files: run the tests as root (CI does)")
    root = Path(tempfile.mkdtemp(prefix="tw-install-", dir="/tmp"))
    root.chmod(0o755)  # the new user must reach its files in it, as it would under /
    user = f"tw{os.getpid() % 100000}"
    python = a_python_the_user_can_run()
    try:
        first = install("--cron", "--prefix", str(root), "--user", user, "--python", python)
        # The operator's own config and secrets, and a mode loosened by mistake, before the second run.
        config = root / "etc/tenderwatch/tenderwatch.toml"
        config.write_text(config.read_text() + "\n# the operator's own line\n")
        secrets = root / "etc/tenderwatch/secrets.env"
        secrets.write_text("SMTP_PASSWORD=kept-secret-value\n")
        secrets.chmod(0o644)
        again = install("--daemon", "--prefix", str(root), "--user", user, "--python", python)
        yield Installed(root, user, first, again)
    finally:
        subprocess.run(["userdel", user], capture_output=True, check=False)
        subprocess.run(["groupdel", user], capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)


def owner_and_mode(path: Path) -> tuple[str, str, str]:
    stat = path.stat()
    return pwd.getpwuid(stat.st_uid).pw_name, grp.getgrgid(stat.st_gid).gr_name, oct(stat.st_mode & 0o7777)


def test_install_makes_the_user_and_every_folder_and_file_with_its_owner_and_mode(installed):
    user = installed.user
    account = pwd.getpwnam(user)
    assert account.pw_shell == "/usr/sbin/nologin"  # a system account nobody logs in as
    assert account.pw_dir == str(installed.path("/var/lib/tenderwatch"))
    assert account.pw_uid < 1000
    expected = {
        "/opt/tenderwatch": ("root", "root", "0o755"),
        "/opt/tenderwatch/bin/with-secrets": ("root", "root", "0o755"),
        "/etc/tenderwatch": ("root", user, "0o750"),
        "/etc/tenderwatch/tenderwatch.toml": ("root", user, "0o640"),
        "/etc/tenderwatch/secrets.env": (user, user, "0o600"),
        "/var/lib/tenderwatch": (user, user, "0o700"),
        "/var/lib/tenderwatch/tenderwatch.db": (user, user, "0o600"),  # made by `db upgrade` as the user
        "/var/log/tenderwatch": (user, user, "0o750"),
        "/etc/logrotate.d/tenderwatch": ("root", "root", "0o644"),
        "/etc/cron.d/tenderwatch": ("root", "root", "0o644"),
        "/etc/systemd/system/tenderwatch.service": ("root", "root", "0o644"),
    }
    assert {inside: owner_and_mode(installed.path(inside)) for inside in expected} == expected
    venv_tenderwatch = installed.path("/opt/tenderwatch/.venv/bin/tenderwatch")
    version = installed.as_user([str(venv_tenderwatch), "--version"])
    assert version.returncode == 0 and "tenderwatch, version" in version.stdout
    config = installed.path("/etc/tenderwatch/tenderwatch.toml").read_text()
    assert f'\ndata_dir = "{installed.path("/var/lib/tenderwatch")}"\n' in config
    assert not list(installed.root.rglob("*.part"))


def test_a_second_run_keeps_the_config_and_secrets_and_puts_the_secrets_mode_back(installed):
    assert "tenderwatch.toml exists: kept as it is" in installed.again.stdout
    assert "secrets.env exists: kept (its mode set to 600 again)" in installed.again.stdout
    assert "user " + installed.user + " exists" in installed.again.stdout
    assert "# the operator's own line" in installed.path("/etc/tenderwatch/tenderwatch.toml").read_text()
    secrets = installed.path("/etc/tenderwatch/secrets.env")
    assert secrets.read_text() == "SMTP_PASSWORD=kept-secret-value\n"
    assert owner_and_mode(secrets) == (installed.user, installed.user, "0o600")
    for result in (installed.first, installed.again):
        assert "kept-secret-value" not in result.stdout + result.stderr


def test_the_cron_entry_names_the_user_and_runs_through_the_secrets_wrapper(installed):
    lines = [
        line
        for line in installed.path("/etc/cron.d/tenderwatch").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines[0] == f"TENDERWATCH_CONFIG={installed.path('/etc/tenderwatch/tenderwatch.toml')}"
    fields = lines[1].split()
    assert fields[:6] == ["5", "*", "*", "*", "*", installed.user]
    assert f"{installed.path('/opt/tenderwatch/bin/with-secrets')} run" in lines[1]


def test_the_logrotate_file_is_accepted_and_rotates_the_logs_as_the_user(installed):
    logrotate = shutil.which("logrotate") or "/usr/sbin/logrotate"
    assert Path(logrotate).exists(), "logrotate is missing: apt-get install logrotate (.ci/run does)"
    config = installed.path("/etc/logrotate.d/tenderwatch")
    log = installed.path("/var/log/tenderwatch/run.log")
    installed.as_user(["sh", "-c", f"echo 2026-12-06T07:05:00+00:00 >> {log}"])
    state = installed.root / "logrotate.state"
    debug = subprocess.run(
        [logrotate, "-d", "-s", str(state), str(config)], check=False, capture_output=True, text=True
    )
    said = debug.stdout + debug.stderr
    assert debug.returncode == 0, said
    assert f"rotating pattern: {installed.path('/var/log/tenderwatch')}/*.log" in said
    assert "error" not in said.lower()
    forced = subprocess.run(
        [logrotate, "-f", "-s", str(state), str(config)], check=False, capture_output=True, text=True
    )
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert installed.path("/var/log/tenderwatch/run.log.1").read_text() == "2026-12-06T07:05:00+00:00\n"
    assert owner_and_mode(log) == (installed.user, installed.user, "0o640")  # a new, empty log


def test_the_cron_line_sends_a_digest_with_the_password_from_secrets_env_and_never_shows_it(
    installed, replay_server
):
    password = "s3cret-from-secrets-env"
    smtp = SmtpReceiver(login=("tenders", password)).start()
    config = installed.path("/etc/tenderwatch/tenderwatch.toml")
    kept = config.read_text()
    try:
        config.write_text(
            f'data_dir = "{installed.path("/var/lib/tenderwatch")}"\n'
            f'[sources.find_a_tender]\nurl = "{replay_server.url}"\ndelay = 0\n'
            "[sources.contracts_finder]\nenabled = false\n"
            "[sources.public_contracts_scotland]\nenabled = false\n"
            '[digest]\nempty = "send"\n'
            '[schedule]\ndigest_at = ["00:00"]\n'
            'digest_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n'
            '[[channels]]\nname = "bids-email"\n'
            f'url = "mailto://tenders:${{SMTP_PASSWORD}}@127.0.0.1:{smtp.port}?from=t@example.org&to=b@example.org"\n'
        )
        installed.path("/etc/tenderwatch/secrets.env").write_text(
            f"# the operator's secrets\nSMTP_PASSWORD={password}\nTEAMS_WORKFLOW_URL='https://x.example/a?b=1&sig=$NOT_EXPANDED'\n"
        )
        cron = installed.path("/etc/cron.d/tenderwatch").read_text().splitlines()
        environment = dict(line.split("=", 1) for line in cron if line.startswith("TENDERWATCH_CONFIG="))
        [job] = [line for line in cron if line.startswith("5 ")]
        command = job.split(None, 6)[6]  # after the five time fields and the user
        ran = installed.as_user(["sh", "-c", command], **environment)
        status = installed.as_user([str(installed.path("/opt/tenderwatch/bin/with-secrets")), "status"])
    finally:
        smtp.stop()
        config.write_text(kept)
    log = installed.path("/var/log/tenderwatch/run.log").read_text()
    assert ran.returncode == 0, log
    assert "bids-email: sent" in log, log
    assert len(smtp.messages) == 1  # the login with the password from secrets.env was accepted
    assert "bids-email  " in status.stdout and " up " in status.stdout, status.stdout
    for text in (ran.stdout, ran.stderr, log, status.stdout, status.stderr):
        assert password not in text


def test_the_wrapper_passes_each_value_as_written_never_through_the_shell(installed):
    secrets = installed.path("/etc/tenderwatch/secrets.env")
    kept = secrets.read_text()
    url = "https://prod-01.uksouth.logic.azure.com/workflows/abc?sp=%2Frun&sig=$(touch /tmp/tw-owned)`id`"
    try:
        secrets.write_text(f"# comment\n\nTEAMS_WORKFLOW_URL={url}\nQUOTED=\"two words\"\nSINGLE='it''s'\n")
        shown = installed.as_user(
            [
                str(installed.path("/opt/tenderwatch/bin/with-secrets")),
                "TEAMS_WORKFLOW_URL",
                "QUOTED",
                "SINGLE",
            ],
            TENDERWATCH_BIN="/usr/bin/printenv",  # the test looks at what tenderwatch would be given
        )
    finally:
        secrets.write_text(kept)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == [url, "two words", "it''s"]
    assert not Path("/tmp/tw-owned").exists()


def test_the_wrapper_names_a_bad_line_of_secrets_env_without_its_value(installed):
    secrets = installed.path("/etc/tenderwatch/secrets.env")
    kept = secrets.read_text()
    try:
        results = []
        # A name with spaces, and a channel URL pasted without a name: its password is before the =.
        for bad in (
            "export SMTP_PASSWORD = hunter2-secret",
            "mailtos://bids:hunter2@redacted.invalid?to=redacted@redacted.invalid",
        ):
            secrets.write_text(f"GOOD=1\n{bad}\n")
            wrapper = str(installed.path("/opt/tenderwatch/bin/with-secrets"))
            results.append(installed.as_user([wrapper, "--version"]))
    finally:
        secrets.write_text(kept)
    for result in results:
        assert result.returncode == 2
        assert f"{secrets} line 2: the part before = is not a variable name" in result.stderr
        assert "hunter2" not in result.stderr + result.stdout


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze not installed: apt-get install systemd to check the unit file",
)
def test_the_installed_systemd_unit_is_valid(installed):
    unit = installed.path("/etc/systemd/system/tenderwatch.service")
    text = unit.read_text()
    assert f"User={installed.user}\n" in text
    assert f"ExecStart={installed.path('/opt/tenderwatch/.venv/bin/tenderwatch')} daemon\n" in text
    assert f"EnvironmentFile=-{installed.path('/etc/tenderwatch/secrets.env')}\n" in text
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False
    )
    problems = [line for line in result.stderr.splitlines() if "tenderwatch.service" in line]
    assert result.returncode == 0 and not problems, result.stderr


@as_root
def test_a_dry_run_changes_nothing_and_says_what_it_would_do(tmp_path):
    root = tmp_path / "root"
    result = install("--daemon", "--dry-run", "--prefix", str(root), "--user", "tw-never-made")
    assert "would run: useradd --system" in result.stdout
    assert f"would write {root}/etc/systemd/system/tenderwatch.service" in result.stdout
    assert not root.exists()
    with pytest.raises(KeyError):
        pwd.getpwnam("tw-never-made")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        ([], "choose how it runs: --daemon (systemd) or --cron"),
        (["--cron", "--daemon"], "give --daemon or --cron, not both"),
        (["--cron", "--prefix", "relative/root"], "--prefix 'relative/root' must be an absolute path"),
        (["--cron", "--user", "Bad User"], "--user 'Bad User': a user name is lower-case letters"),
        (["--cron", "--python", "no-such-python3"], "no 'no-such-python3' here: install Python 3.11"),
        (["--cron", "--frobnicate"], "unknown option '--frobnicate'"),
    ],
)
def test_install_refuses_bad_options_in_one_line_with_exit_2(args, said):
    result = install(*args, "--dry-run", check=False)
    assert result.returncode == 2
    assert f"install.sh: {said}" in result.stderr


@as_root
def test_install_says_to_run_it_as_root(tmp_path):
    result = subprocess.run(
        ["runuser", "-u", "nobody", "--", "sh", str(INSTALL), "--cron", "--prefix", str(tmp_path)],
        check=False,
        capture_output=True,
        text=True,
        env=clean_environment(),
    )
    assert result.returncode == 2
    assert "install.sh: run it as root (sudo deploy/install.sh --cron), or add --dry-run" in result.stderr


def test_the_wrapper_reads_a_secrets_file_with_windows_line_ends_as_systemd_does(tmp_path):
    # The daemon's EnvironmentFile drops the \r of a CRLF line; the wrapper once kept it, so cron's
    # runs used "password\r" (a refused login) while the daemon's worked.
    secrets = tmp_path / "secrets.env"
    secrets.write_bytes(
        b"# saved on Windows\r\nSMTP_PASSWORD=s3cret\r\nTEAMS_WORKFLOW_URL='https://x/?a=1&b=$2'\r\n"
    )
    shown = tmp_path / "show"
    shown.write_text('#!/bin/sh\nprintf "%s|%s" "$SMTP_PASSWORD" "$TEAMS_WORKFLOW_URL"\n')
    shown.chmod(0o755)
    result = subprocess.run(
        ["sh", str(DEPLOY / "with-secrets")],
        capture_output=True,
        env={"PATH": os.environ["PATH"], "TENDERWATCH_SECRETS": str(secrets), "TENDERWATCH_BIN": str(shown)},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"s3cret|https://x/?a=1&b=$2"
