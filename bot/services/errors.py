"""The two kinds of failure a user is told about in one line (never a traceback)."""

from __future__ import annotations


class UserError(Exception):
    """A problem with what the user asked for (bad title, unreadable file, unknown version);
    the CLI exits 2, Slack answers with the message."""


class ConfigError(Exception):
    """hirebot is set up wrongly (missing or mismatched model); the CLI exits 1."""
