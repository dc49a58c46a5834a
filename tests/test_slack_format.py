"""Slack-side helpers: message splitting within limits, escaping, and token-safe downloads."""

from __future__ import annotations

import urllib.request

import pytest

from bot.slack.files import DownloadError, _SlackOnlyRedirects, download_file
from bot.slack.format import escape, split_text, truncate


def test_split_text_respects_the_limit_and_prefers_breaks():
    text = "Intro.\n\n" + ("word " * 900) + "\n\n" + ("tail " * 200)
    chunks = split_text(text, limit=3000)
    assert all(len(c) <= 3000 for c in chunks)
    assert " ".join(" ".join(chunks).split()) == " ".join(text.split())
    assert all(not c.endswith("wor") for c in chunks)  # never mid-word when a space exists


def test_cuts_never_split_an_entity():
    text = escape("a" * 2996 + "&&&&&&&&")
    assert all("&am" != c[-3:] and not c.endswith("&") for c in split_text(text, limit=3000))
    assert truncate(escape("b" * 3896 + "<<<<"), 3900).endswith("…")
    assert not truncate(escape("b" * 3896 + "<<<<"), 3900)[:-1].endswith(("&", "&l", "&lt"))


def test_token_is_never_sent_off_slack():
    handler = _SlackOnlyRedirects("xoxb-secret", {"files.slack.com"})
    request = urllib.request.Request("https://files.slack.com/files-pri/T/F/cv.pdf")
    with pytest.raises(DownloadError):
        handler.redirect_request(request, None, 302, "Found", {}, "https://evil.example/x")
    follow = handler.redirect_request(request, None, 302, "Found", {},
                                      "https://files-edge.slack.com/x")
    assert follow.unredirected_hdrs["Authorization"] == "Bearer xoxb-secret"
    with pytest.raises(DownloadError):
        download_file("https://evil.example/cv.pdf", "xoxb-secret", max_bytes=100)
