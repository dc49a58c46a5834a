"""What both front ends call: the CLI (``bot/cli``) and the Slack app (``bot/slack``).

Nothing here knows about Slack or argparse: a service takes plain values, returns plain results
and raises :class:`bot.services.errors.UserError` for anything the user can fix.
"""
