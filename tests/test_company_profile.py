"""The company profile: stored in SQLite or read from a file, shown and set through the real Bolt
app (signed requests, the local Slack stand-in), the ``hirebot profile`` verb and the shell.

No model is loaded: the profile commands never touch the worker.
"""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.cli import main
from bot.config import Settings
from bot.services import company
from bot.services.errors import UserError
from bot.services.model_service import ModelService
from bot.slack.local_slack import LocalSlack
from bot.storage import Store
from models.generation.profile import CompanyProfile
from tests.test_slack_app import Env, env_maker, wait_for

ADMIN = "UADMIN"
TOML = """name = "Acme GmbH"
about = "Acme builds route-planning software."
benefits = ["30 days paid leave", "company pension"]
equal_opportunity = "Acme is an equal opportunity employer."
location = "Berlin, Germany"
"""


@pytest.fixture()
def local():
    slack = LocalSlack().start()
    yield slack
    slack.stop()


@pytest.fixture()
def env_factory(tmp_path, local):
    """A running app with ``HIREBOT_ADMIN_USERS=UADMIN`` and no model loaded."""
    with env_maker(tmp_path / "data", None, local, admin_users=[ADMIN]) as make:
        yield make


def ask(env: Env, text: str, user: str = "U0HR") -> dict:
    """Run ``/hirebot TEXT`` and return the one ephemeral answer it gets."""
    before = len(env.local.state.responses)
    status, _ = env.send.command("/hirebot", text, user=user)
    assert status == 200
    answer = wait_for(lambda: env.local.state.responses[before:], what=f"/hirebot {text!r}")
    env.idle()
    assert len(env.local.state.responses) == before + 1
    assert answer[0]["response_type"] == "ephemeral"
    assert "Traceback" not in answer[0]["text"] and "went wrong" not in answer[0]["text"]
    return answer[0]


def profile_file(tmp_path, text: str = TOML, name: str = "company.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ storage, service
def test_store_keeps_one_profile_across_reopening_and_forgets_it(tmp_path):
    store = Store(tmp_path / "hirebot.db")
    assert store.company_profile() is None
    store.set_company_profile({"name": "Acme", "benefits": ["pension"]}, "U1")
    store.set_company_profile({"name": "Acme GmbH", "benefits": ["leave", "pension"]}, "U2")
    store.close()
    reopened = Store(tmp_path / "hirebot.db")
    assert reopened.company_profile() == {"name": "Acme GmbH", "benefits": ["leave", "pension"]}
    assert reopened.company_profile_row()["set_by"] == "U2"
    assert len(reopened.dump("company_profile")) == 1
    assert reopened.clear_company_profile() is True
    assert reopened.company_profile() is None
    assert reopened.clear_company_profile() is False


def test_file_profile_is_used_until_one_is_set_and_the_set_one_wins(tmp_path):
    settings = Settings(data_dir=tmp_path / "data",
                        company_profile_file=profile_file(tmp_path))
    store = Store.open(settings)
    assert company.current_profile(Settings(data_dir=tmp_path / "data"), store) is None
    from_file = company.current_profile(settings, store)
    assert from_file.name == "Acme GmbH"
    assert from_file.benefits == ("30 days paid leave", "company pension")
    assert company.profile_status(settings, store)["source"] == "file"

    set_one = company.set_profile_from_text(store, "name: Beta Ltd\nbenefits: a; b", "U1")
    assert set_one == CompanyProfile(name="Beta Ltd", benefits=("a", "b"))
    assert company.current_profile(settings, store) == set_one
    status = company.profile_status(settings, store)
    assert (status["source"], status["set_by"], status["problem"]) == ("stored", "U1", None)

    company.clear_profile(store)
    assert company.current_profile(settings, store) == from_file


def test_broken_file_is_logged_once_and_treated_as_no_profile(tmp_path, caplog):
    broken = profile_file(tmp_path, 'name = "Acme\nbenefits = 3\n', "broken.toml")
    settings = Settings(data_dir=tmp_path / "data", company_profile_file=broken)
    store = Store.open(settings)
    with caplog.at_level(logging.ERROR, logger="bot.services.company"):
        assert company.current_profile(settings, store) is None
        assert company.current_profile(settings, store) is None
    logged = [r.getMessage() for r in caplog.records if r.name == "bot.services.company"]
    assert len(logged) == 1
    assert "HIREBOT_COMPANY_PROFILE_FILE" in logged[0] and "broken.toml" in logged[0]
    assert "does not parse" in company.profile_status(settings, store)["problem"]

    missing = Settings(data_dir=tmp_path / "data", company_profile_file=tmp_path / "nope.toml")
    assert company.current_profile(missing, store) is None
    assert "Cannot read" in company.profile_status(missing, store)["problem"]
    # a set profile still works while the file is broken
    company.set_profile_from_text(store, "name: Acme", "U1")
    assert company.current_profile(settings, store).name == "Acme"


def test_bad_text_is_a_user_error_with_the_reason_and_nothing_is_stored(tmp_path):
    store = Store(tmp_path / "hirebot.db")
    with pytest.raises(UserError, match="Line 2 should read `field: value`"):
        company.set_profile_from_text(store, "name: Acme\nsalary: lots", "U1")
    with pytest.raises(UserError, match="empty"):
        company.set_profile_from_text(store, "  \n", "U1")
    assert store.company_profile() is None


def test_profile_text_lists_each_field_and_what_is_missing():
    text = company.profile_text(CompanyProfile(name="Acme", benefits=("leave", "pension")))
    assert "name: Acme" in text and "benefits: leave; pension" in text
    missing = text.split("Not set", 1)[1]
    assert all(key in missing for key in ("about", "equal_opportunity", "location"))
    assert "No company profile is set" in company.profile_text(None)


def test_write_jd_passes_the_profile_to_the_generator(tmp_path):
    calls = []

    class Recorder:  # the generator's write, as ModelService calls it
        resolver = object()  # already attached: the service must not load MiniLM for it

        def write_drafts(self, raw_title, **kwargs):
            calls.append(kwargs)
            return ["draft"]

    service = ModelService(Settings(data_dir=tmp_path / "data", jobpost_max_new_tokens=12))
    service.install("generator", Recorder())
    profile = CompanyProfile(name="Acme")
    service.write_jd("Nurse", seed=3, profile=profile)
    service.write_jd("Nurse")
    assert calls[0]["profile"] is profile and calls[0]["seed"] == 3
    assert calls[0]["max_new_tokens"] == 12
    assert calls[1]["profile"] is None


# ------------------------------------------------------------------------------ Slack
def test_admin_sets_shows_and_clears_the_profile_in_slack(env_factory):
    env = env_factory()
    shown = ask(env, "profile")
    assert "No company profile is set" in shown["text"] and "/hirebot profile set" in shown["text"]

    saved = ask(env, "profile set\nname: Acme &amp; Sons\nabout: We build &lt;!channel&gt; tools."
                     "\nbenefits: 30 days leave; pension\nEEO: We welcome everyone.", user=ADMIN)
    assert "Saved" in saved["text"] and f"<@{ADMIN}>" in saved["text"]
    assert "name: Acme &amp; Sons" in saved["text"]
    assert "<!channel>" not in saved["text"]  # user text is escaped again
    assert "location" in saved["text"].split("Not set", 1)[1]
    store = env.runtime.store
    assert store.company_profile() == {
        "name": "Acme & Sons", "about": "We build <!channel> tools.",
        "benefits": ["30 days leave", "pension"], "equal_opportunity": "We welcome everyone.",
        "location": ""}
    assert company.current_profile(env.settings, store).name == "Acme & Sons"

    shown = ask(env, "PROFILE", user="UOTHER")  # anyone may look
    assert "benefits: 30 days leave; pension" in shown["text"]

    # one line after `set` works too, and a new set replaces the whole profile
    ask(env, "profile set name: Beta Ltd", user=ADMIN)
    assert store.company_profile()["name"] == "Beta Ltd"
    assert store.company_profile()["benefits"] == []

    cleared = ask(env, "profile clear", user=ADMIN)
    assert "Cleared" in cleared["text"] and "No company profile is set" in cleared["text"]
    assert store.company_profile() is None
    assert "No profile was set" in ask(env, "profile clear", user=ADMIN)["text"]


def test_non_admins_cannot_set_or_clear_the_profile(env_factory):
    env = env_factory()
    ask(env, "profile set\nname: Acme", user=ADMIN)
    for text in ("profile set\nname: Hijacked", "profile clear"):
        refused = ask(env, text, user="U0HR")
        assert "only hirebot admins can change the company profile" in refused["text"]
    assert env.runtime.store.company_profile()["name"] == "Acme"


def test_a_malformed_line_gets_a_clear_private_message_and_changes_nothing(env_factory):
    env = env_factory()
    ask(env, "profile set\nname: Acme", user=ADMIN)
    answer = ask(env, "profile set\nname: Other\nthis line has no field", user=ADMIN)
    assert "Line 2 should read `field: value`" in answer["text"]
    assert "Nothing was changed" in answer["text"] and "/hirebot profile set" in answer["text"]
    assert "Unknown company profile field" not in answer["text"]
    unknown = ask(env, "profile set\nsalary: lots", user=ADMIN)
    assert "Line 1 should read" in unknown["text"]
    empty = ask(env, "profile set", user=ADMIN)
    assert "The profile is empty" in empty["text"]
    assert env.runtime.store.company_profile()["name"] == "Acme"
    assert env.local.calls("chat.postMessage") == []  # nothing was posted in the channel


def test_the_file_profile_is_shown_until_slack_sets_one(env_factory, tmp_path):
    env = env_factory(company_profile_file=profile_file(tmp_path))
    shown = ask(env, "profile")
    assert "company.toml" in shown["text"] and "name: Acme GmbH" in shown["text"]
    assert "Not set" not in shown["text"]
    ask(env, "profile set\nname: Slack Name", user=ADMIN)
    assert company.current_profile(env.settings, env.runtime.store).name == "Slack Name"
    assert "name: Slack Name" in ask(env, "profile")["text"]
    ask(env, "profile clear", user=ADMIN)
    assert company.current_profile(env.settings, env.runtime.store).name == "Acme GmbH"


def test_a_broken_file_is_reported_and_the_bot_keeps_answering(env_factory, tmp_path):
    broken = profile_file(tmp_path, "name: not toml\n", "broken.toml")
    env = env_factory(company_profile_file=broken)
    assert company.current_profile(env.settings, env.runtime.store) is None
    shown = ask(env, "profile")
    assert "No company profile is set" in shown["text"]
    assert ":warning:" in shown["text"] and "broken.toml does not parse" in shown["text"]
    assert "/hirebot profile" in ask(env, "help")["text"]
    ask(env, "profile set\nname: Acme", user=ADMIN)  # the Slack one works meanwhile
    assert company.current_profile(env.settings, env.runtime.store).name == "Acme"


# ------------------------------------------------------------------------------ CLI, shell
def test_cli_profile_set_show_clear(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HIREBOT_COMPANY_PROFILE_FILE", str(profile_file(tmp_path)))
    assert main(["profile"]) == 0
    out = capsys.readouterr().out
    assert "company.toml" in out and "name: Acme GmbH" in out

    lines = profile_file(tmp_path, "name: Beta Ltd\nbenefits: leave; pension\n", "beta.txt")
    assert main(["profile", "set", str(lines)]) == 0
    assert "benefits: leave; pension" in capsys.readouterr().out
    assert main(["profile", "show", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["source"] == "stored" and shown["set_by"].startswith("cli")
    assert shown["profile"]["name"] == "Beta Ltd" and shown["problem"] is None

    monkeypatch.setattr("sys.stdin", io.StringIO("benefits: a; b\nwhat is this\n"))
    assert main(["profile", "set", "-"]) == 2
    assert "Line 2 should read" in capsys.readouterr().err
    json_file = profile_file(tmp_path, json.dumps({"name": "Gamma", "colour": "red"}),
                             "gamma.json")
    assert main(["profile", "set", str(json_file)]) == 2
    assert "Unknown company profile field(s): colour" in capsys.readouterr().err

    assert main(["profile", "clear"]) == 0
    assert "cleared" in capsys.readouterr().out
    assert main(["profile", "set", str(tmp_path / "company.toml")]) == 0
    capsys.readouterr()

    monkeypatch.setenv("HIREBOT_COMPANY_PROFILE_FILE", str(tmp_path / "missing.toml"))
    from bot.config import get_settings

    get_settings.cache_clear()
    assert main(["profile", "show"]) == 1  # the stored one is shown, the bad setting named
    out = capsys.readouterr()
    assert "name: Acme GmbH" in out.out and "missing.toml" in out.err


def test_shell_sets_the_profile_with_backslash_n(tmp_path, monkeypatch):
    from bot.cli.shell import Shell

    monkeypatch.setattr(ModelService, "warm_up", lambda self: None)  # no model is needed
    out = io.StringIO()
    shell = Shell(Settings(data_dir=tmp_path / "data", admin_users=["U0HR"]), out=out)
    try:
        assert shell.execute(r"/hirebot profile set name: Acme\nlocation: Berlin")
        assert shell.runtime.store.company_profile()["location"] == "Berlin"
        assert shell.execute("/hirebot profile")
    finally:
        shell.close()
    assert "(only you) Saved" in out.getvalue() and "location: Berlin" in out.getvalue()
