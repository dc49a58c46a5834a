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


def _result(file: str, role: str = "Nurse", **extra) -> dict:
    return {"file": file, "role": role, "verdict": "maybe", "score": 0.42, "category": "Nurse",
            "top_categories": [("Nurse", 0.42)], "model": {"name": "m", "version": "v1"},
            "evidence": {"matched": ["patient care"], "missing": [],
                         "snippets": ["cared for \u202epatients\u202c on a ward"]}, **extra}


def test_ranked_csv_cells_cannot_run_as_spreadsheet_formulas():
    """OWASP CSV injection: file names and roles starting with = + - @ are written as text."""
    import csv
    import io

    from bot.slack.format import results_csv

    rows = list(csv.reader(io.StringIO(results_csv([
        _result('=HYPERLINK("http://evil","cv").pdf', role="+cmd|' /C calc'!A0"),
        _result("@SUM(A1).docx", role="-2+3"),
        {"file": "=bad.zip", "error": {"code": "not_text", "message": "-not a CV"}}]))))
    cells = [cell for row in rows[1:] for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    assert "'=HYPERLINK(\"http://evil\",\"cv\").pdf" in cells and "'+cmd|' /C calc'!A0" in cells
    assert "'-not a CV" in cells and "0.42" in cells  # numbers stay numbers


@pytest.mark.parametrize("name", ["*bold* _it_ ~x~ `code` ```.pdf", "<!channel> cv.pdf",
                                  "cv\nFAKE LINE.pdf", "cv\u202efdp.exe", "a" * 500 + ".pdf"])
def test_a_file_name_cannot_format_ping_break_lines_or_reorder_the_reply(name):
    from bot.slack.format import file_label, ranked_table_text, verdict_text

    label = file_label(name)
    assert "\n" not in label and "\u202e" not in label and "<!" not in label
    assert "`" not in label and "*" not in label and "~" not in label and len(label) <= 130
    table = ranked_table_text("Nurse", [_result(name)])
    assert table.count("```") == 2  # the code block is not closed early by the name
    text = verdict_text(_result(name))
    assert "\u202e" not in text and text.count("\n> ") == 1  # the snippet, bidi removed
    assert "Automated screening aid" in table
