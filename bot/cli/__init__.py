"""The ``hirebot`` command line: one module per verb group; ``main`` is in :mod:`bot.cli.main`."""
