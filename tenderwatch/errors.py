"""The few exceptions tenderwatch raises on purpose.

Each carries a message a bid manager can act on. The CLI turns them into one line on stderr and an
exit code; nothing else catches them broadly.
"""


class TenderwatchError(Exception):
    """Root of every error tenderwatch raises deliberately."""

    exit_code = 1


class ConfigError(TenderwatchError):
    """The config file, an environment variable or a command-line value is wrong (raised by config, CLI)."""

    exit_code = 2


class InputError(TenderwatchError):
    """A file the user supplied (JSONL import, rules, CSV) is invalid; the message names file, line, field."""

    exit_code = 2


class StoreError(TenderwatchError):
    """The database cannot be opened, is at a schema version this code does not know, or its folder
    cannot be written (a full disk, a read-only mount) (raised by store)."""
