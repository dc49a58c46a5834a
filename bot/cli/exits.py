"""The command line's exit codes (see :mod:`bot.cli.parser`)."""

EXIT_OK, EXIT_FAULT, EXIT_REJECTED = 0, 1, 2
