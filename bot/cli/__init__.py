"""The ``hirebot`` command line: one module per verb group; ``main`` is :func:`bot.cli.main.main`."""
