"""The ``hirebot`` command line: one module per verb group, parsed in :mod:`bot.cli.parser`."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    """The ``hirebot`` console script; the verbs load only when a command runs."""
    from bot.cli.parser import run

    return run(argv)
