"""Access control: where CVs may be screened, who may run admin commands, and team labels that
contradict a confident prediction waiting for an admin. Real Bolt app, real SQLite, real
models; only Slack is local."""

from __future__ import annotations

import pytest

from bot.cli import main
from bot.services.refresh_child import team_cvs
from tests.conftest import CVS
from tests.test_privacy import ADMIN, button
from tests.test_privacy import make_env as make_env  # noqa: F401 - the shared fixture
from tests.test_slack_app import CHANNEL, upload, verdicts, wait_for
from tests.test_slack_app import models as models  # noqa: F401 - the shared fixture

ALLOWED = "C0OPEN1"


def last_response(env) -> str:
    return env.local.state.responses[-1]["text"]


def test_screening_outside_the_allowed_channels_is_refused_naming_who_can_enable_it(make_env):
    env = make_env(allowed_channels=[ALLOWED])
    env.send.command("/screen", "Accountant", channel=CHANNEL)
    env.idle()
    refusal = last_response(env)
    assert f"<@{ADMIN}>" in refusal and "HIREBOT_ALLOWED_CHANNELS" in refusal
    assert CHANNEL in refusal and env.local.channel_messages(CHANNEL) == []

    upload(env, [CVS / "01-Accountant.pdf"], None, text="for Accountant")
    env.idle()
    told = env.local.calls("chat.postEphemeral")
    assert len(told) == 1 and told[0].params["user"] == "U0HR"
    assert "HIREBOT_ALLOWED_CHANNELS" in told[0].params["text"]
    assert env.local.channel_messages(CHANNEL) == [] and env.runtime.store.dump("screenings") == []

    env.send.command("/screen", "Accountant", channel=ALLOWED)
    assert wait_for(lambda: env.local.channel_messages(ALLOWED), what="screen thread")


def test_direct_messages_screen_only_when_the_setting_allows(make_env):
    env = make_env(dm_screening=False)
    file = env.local.add_file("cv.pdf", (CVS / "01-Accountant.pdf").read_bytes())
    event = {"type": "message", "subtype": "file_share", "channel": "D0DM1", "user": "U0HR",
             "text": "for Accountant", "ts": env.local.next_ts(), "files": [file],
             "channel_type": "im", "upload": True}
    assert env.send.event(event)[0] == 200
    env.idle()
    told = env.local.calls("chat.postEphemeral")
    assert len(told) == 1 and "HIREBOT_DM_SCREENING" in told[0].params["text"]
    assert f"<@{ADMIN}>" in told[0].params["text"]
    assert env.runtime.store.dump("screenings") == []


@pytest.mark.parametrize("text", ["refresh classifier", "forget U0HR", "flagged",
                                  "flagged confirm all", "profile clear"])
def test_admin_commands_are_refused_to_other_users(make_env, text):
    env = make_env()
    env.send.command("/hirebot", text, channel=CHANNEL, user="U0HR")
    env.idle()
    assert "only hirebot admins" in last_response(env).lower()
    env.send.command("/hirebot", text.split()[0] if text != "refresh classifier" else "status",
                     channel=CHANNEL, user=ADMIN)
    env.idle()
    assert "only hirebot admins" not in last_response(env).lower()


def test_a_vote_contradicting_a_confident_prediction_waits_for_an_admin(make_env):
    env = make_env()
    store = env.runtime.store
    thread = env.screen_thread("IT Support Specialist")  # an Information Technology role
    upload(env, [CVS / "01-Accountant.pdf"], thread)
    verdict = wait_for(lambda: verdicts(env, thread), what="verdict")[0]
    assert "No fit" in verdict["text"]
    env.send.click("verdict_thumbs_down", button(verdict, "verdict_thumbs_down"),
                   channel=CHANNEL, message_ts=verdict["ts"])  # 👎 on "no fit": "it IS IT"
    env.idle()
    flagged = store.flagged_labels()
    assert len(flagged) == 1 and "sure it is Accountant" in flagged[0]["flag_reason"]
    assert team_cvs(store) == []  # what a classifier refresh trains on: nothing yet
    [note] = [c for c in env.local.calls("chat.postMessage") if c.params["channel"] == ADMIN]
    assert flagged[0]["key"] in note.params["text"] and "flagged confirm" in note.params["text"]

    env.send.command("/hirebot", "flagged", channel=CHANNEL, user=ADMIN)
    env.idle()
    listing = last_response(env)
    assert "1 flagged label" in listing and flagged[0]["key"][-8:] in listing
    env.send.command("/hirebot", f"flagged confirm {flagged[0]['key'][-8:]}", channel=CHANNEL,
                     user=ADMIN)
    env.idle()
    assert "Confirmed 1" in last_response(env)
    assert store.flagged_labels() == [] and len(team_cvs(store)) == 1


def test_cli_labels_that_contradict_the_classifier_are_flagged_listed_and_confirmable(capsys):
    assert main(["data", "add-cvs", str(CVS / "01-Accountant.pdf"), "--label",
                 "Information Technology"]) == 0
    out = capsys.readouterr().out
    assert "flagged 1 label(s)" in out and "sure it is Accountant" in out
    assert main(["data", "add-cvs", str(CVS / "01-Accountant.docx"), "--label",
                 "Accountant"]) == 0
    assert "flagged" not in capsys.readouterr().out  # agreeing labels train at once
    assert main(["data", "list"]) == 0
    assert "1 labelled CVs, 1 flagged" in capsys.readouterr().out
    assert main(["data", "flagged"]) == 0
    listing = capsys.readouterr().out
    assert "1 flagged label(s)" in listing
    key = listing.splitlines()[1].split()[0]
    assert main(["data", "confirm", "nosuchkey"]) == 2
    assert main(["data", "confirm", key]) == 0
    assert "confirmed 1 label" in capsys.readouterr().out
    assert main(["data", "list"]) == 0
    assert "2 labelled CVs, 0 flagged" in capsys.readouterr().out


def test_group_dms_count_as_direct_messages():
    from bot.config import Settings
    from bot.slack.access import Gate

    gate = Gate(Settings(dm_screening=False, admin_users=[ADMIN]))
    assert gate.screening_refusal("G0GROUP", "mpim") and gate.screening_refusal("D0DM", "im")
    assert gate.screening_refusal("C0OPEN", "channel") is None


@pytest.mark.parametrize("link", [
    "https://files.slack.com/files-pri/T012AB3C4-F0ABCDEFG/cv.pdf",
    "<https://files.slack.com/files-pri/T012AB3C4-F0ABCDEFG/download/cv.pdf>",
    "<https://acme.slack.com/files/U0HR/F0ABCDEFG/cv.pdf|cv.pdf>", "F0ABCDEFG"])
def test_forget_finds_the_file_in_every_kind_of_link(link):
    from bot.services.forget import parse_target

    assert parse_target(link) == ("file_id", "F0ABCDEFG")
