"""manifest.yml and the code agree: every registered command, event and action is declared
(with the scopes it needs) and everything declared has a listener."""

from __future__ import annotations

from pathlib import Path

import yaml

from handlers import MODULES

MANIFEST = Path(__file__).resolve().parent.parent / "manifest.yml"

#: The Events API subscriptions (and scopes) each registered event type needs.
EVENT_SUBSCRIPTIONS = {
    "message": {"message.channels", "message.groups", "message.im"},
    "app_mention": {"app_mention"},
    "app_home_opened": {"app_home_opened"},
}
SCOPES_FOR = {
    "message.channels": "channels:history", "message.groups": "groups:history",
    "message.im": "im:history", "app_mention": "app_mentions:read",
}


class RecordingApp:
    """Stands in for the Bolt app only to see what ``register(app)`` asks for."""

    def __init__(self):
        self.commands: set[str] = set()
        self.events: set[str] = set()
        self.actions: set[str] = set()

    def _record(self, bucket: set, key):
        if isinstance(key, dict):
            key = key["type"]
        bucket.add(key)

        def decorator(*args, **kwargs):
            return args[0] if args else None
        return decorator

    def command(self, name):
        return self._record(self.commands, name)

    def event(self, name):
        return self._record(self.events, name)

    def action(self, name):
        return self._record(self.actions, name)


def registered() -> RecordingApp:
    app = RecordingApp()
    for module in MODULES:
        module.register(app, None)  # listeners only close over the bot
    return app


def manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text())


def test_every_slash_command_is_declared_and_handled():
    declared = {c["command"] for c in manifest()["features"]["slash_commands"]}
    assert registered().commands == declared == {"/jobpost", "/screen", "/hirebot"}


def test_every_event_is_subscribed_and_every_subscription_handled():
    data = manifest()
    subscribed = set(data["settings"]["event_subscriptions"]["bot_events"])
    needed = set().union(*(EVENT_SUBSCRIPTIONS[e] for e in registered().events))
    assert needed == subscribed
    assert "file_shared" not in subscribed  # uploads arrive as message/file_share only
    scopes = set(data["oauth_config"]["scopes"]["bot"])
    for event in subscribed:
        if event in SCOPES_FOR:
            assert SCOPES_FOR[event] in scopes, event


def test_actions_need_interactivity_and_each_button_has_a_listener():
    from bot.slack import format as fmt

    assert manifest()["settings"]["interactivity"]["is_enabled"] is True
    buttons = {fmt.REGENERATE, fmt.APPROVE, fmt.JD_UP, fmt.JD_DOWN, fmt.VERDICT_UP,
               fmt.VERDICT_DOWN}
    blocks = fmt.jd_blocks("text", 1, {"name": "m", "version": "v"}) + fmt.verdict_blocks(
        {"file": "a.txt", "role": "R", "verdict": "fit", "score": 0.9, "category": "C",
         "top_categories": [["C", 0.9]], "evidence": {}, "model": {"name": "m", "version": "v"}},
        1)
    emitted = {e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]}
    assert emitted == buttons == registered().actions


def test_scopes_cover_what_the_bot_calls():
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "chat:write.public", "files:read", "files:write"} <= scopes
    assert manifest()["settings"]["socket_mode_enabled"] is True
