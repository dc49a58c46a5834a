"""The ``hirebot`` command line: one module per verb group, ``main`` in :mod:`bot.cli.main`."""

from bot.cli.main import main

__all__ = ["main"]
