"""Slack message text and Block Kit for JDs, verdicts and tables, within Slack's limits.

User text is escaped (&, <, >) everywhere it is echoed, so a job title such as
"<!channel> Engineer" cannot ping a channel or forge a link. Section text stays under Slack's
3,000-character limit and a message under 50 blocks; longer JDs are split into several sections.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.services.screening import AUTOMATED_AID_NOTICE, VERDICT_WORDS
from bot.services.spreadsheet import csv_text
from models.common.user_text import printable_name, strip_bidi

SECTION_LIMIT = 3000
MAX_BLOCKS = 50
MESSAGE_TEXT_LIMIT = 3900  # the fallback ``text`` Slack shows in notifications

VERDICT_ICONS = {"fit": ":large_green_circle:", "maybe": ":large_yellow_circle:",
                 "no_fit": ":red_circle:"}

# action ids: the manifest enables interactivity; tests check each one has a listener
REGENERATE = "jd_regenerate"
APPROVE = "jd_approve"
JD_UP, JD_DOWN = "jd_thumbs_up", "jd_thumbs_down"
VERDICT_UP, VERDICT_DOWN = "verdict_thumbs_up", "verdict_thumbs_down"


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: only these three characters are control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_MRKDWN_MARKS = str.maketrans({"*": "∗", "`": "ʼ", "~": "∼"})


def file_label(name: str, limit: int = 120) -> str:
    """A file name as it is shown in mrkdwn: one line, no bidi or control characters, no
    ``*``/`` ` ``/``~`` that would bold, strike or end a code block, and escaped."""
    return escape(printable_name(name, limit).translate(_MRKDWN_MARKS))


def split_text(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Chunks of at most ``limit`` characters, cut at the last paragraph, line or word break
    past a third of the window, and never inside an ``&amp;``-style entity."""
    chunks: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = 0
        for mark in ("\n\n", "\n", " "):
            found = window.rfind(mark)
            if found > limit // 3:
                cut = found
                break
        if not cut:
            cut = limit
            amp = window.rfind("&", max(0, limit - 6))
            if amp != -1 and ";" not in window[amp:]:
                cut = amp
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        chunks.append(rest)
    return chunks


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict:
    button = {"type": "button", "text": {"type": "plain_text", "text": text, "emoji": True},
              "action_id": action_id, "value": value}
    if style:
        button["style"] = style
    return button


def truncate(text: str, limit: int = MESSAGE_TEXT_LIMIT) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&", max(0, len(cut) - 6))
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]  # never leave half an entity
    return cut + "…"


# ------------------------------------------------------------------------------ JDs
def jobpost_parent_text(title: str) -> str:
    return f"Job: {escape(title)}"


def screen_parent_text(role: str) -> str:
    return f"Screening: {escape(role)} — drop CVs in this thread"


def jd_progress_text(text: str) -> str:
    return truncate(escape(text) + "\n\n_…writing_") if text else "_Writing the job description…_"


def jd_blocks(text: str, jobpost_id: int, model: dict, *, approved_by: str | None = None,
              notes: list[str] | tuple[str, ...] = ()) -> list[dict]:
    """The finished JD: the text in sections, what it was grounded on, its inclusive-language
    check, the model that wrote it, and the buttons."""
    notes = [n for n in notes if n][:3]
    max_sections = MAX_BLOCKS - 2 - len(notes)
    chunks = split_text(escape(text))[:max_sections]
    blocks = [_section(chunk) for chunk in chunks]
    blocks += [_context(escape(note)) for note in notes]
    note = f"Written by {model.get('name', 'hirebot')} {model.get('version', '')} on this server"
    if approved_by:
        note += f" · approved by <@{approved_by}> as team training data"
    blocks.append(_context(note))
    value = str(jobpost_id)
    actions = [_button("Regenerate", REGENERATE, value)]
    if not approved_by:
        actions.append(_button("Approve", APPROVE, value, style="primary"))
    actions += [_button("👍", JD_UP, value), _button("👎", JD_DOWN, value)]
    blocks.append({"type": "actions", "block_id": f"jd_actions_{jobpost_id}",
                   "elements": actions})
    return blocks


# ------------------------------------------------------------------------------ verdicts
def verdict_text(result: dict) -> str:
    """One CV's verdict in words: what HR reads first, then the evidence."""
    name = file_label(result["file"])
    if "error" in result:
        return f":warning: *{name}*: {escape(result['error']['message'])}"
    verdict = result["verdict"]
    lines = [f"{VERDICT_ICONS[verdict]} *{name}* — *{VERDICT_WORDS[verdict]}* for "
             f"{escape(result['role'])} (score {result['score']:.2f})"]
    for note in result.get("notes", ())[:3]:  # hidden text ignored, not English, truncated
        lines.append(f":information_source: _{escape(note)}_")
    cats = ", ".join(f"{escape(c)} {p:.0%}" for c, p in result["top_categories"])
    lines.append(f"Top categories: {cats}")
    match = result.get("match")
    if match:
        follows = {"jd match": "the JD match most", "category": "the category most",
                   "role head": "the head trained for this role title"}
        lines.append(f"JD match {match['score']:.2f} against {match['jd']}; category score "
                     f"{match['category_score']:.2f}; the verdict follows "
                     f"{follows.get(match['driver'], match['driver'])}")
    evidence = result.get("evidence", {})
    if evidence.get("matched"):
        lines.append("Matched skills: " + ", ".join(escape(s) for s in evidence["matched"]))
    if evidence.get("missing"):
        lines.append("Not found: " + ", ".join(escape(s) for s in evidence["missing"][:6]))
    for snippet in evidence.get("snippets", [])[:2]:
        lines.append(f"> {escape(' '.join(strip_bidi(snippet).split()))}")
    return truncate("\n".join(lines), SECTION_LIMIT)


def verdict_blocks(result: dict, screening_id: int | None) -> list[dict]:
    blocks = [_section(verdict_text(result))]
    if "error" not in result:
        blocks.append(_context(f"Model {result['model']['name']} {result['model']['version']}"
                               f" · {AUTOMATED_AID_NOTICE}"))
        if screening_id is not None:
            value = str(screening_id)
            blocks.append({"type": "actions", "block_id": f"verdict_actions_{screening_id}",
                           "elements": [_button("👍", VERDICT_UP, value),
                                        _button("👎", VERDICT_DOWN, value)]})
    return blocks


def ranked(results: Sequence[dict]) -> list[dict]:
    good = [r for r in results if "error" not in r]
    return sorted(good, key=lambda r: -r["score"])


def ranked_table_text(role: str, results: Sequence[dict], limit: int = 25) -> str:
    """A fixed-width ranking for a batch; the CSV beside it has every row."""
    order = ranked(results)
    errors = [r for r in results if "error" in r]
    lines = [f"*Ranked CVs for {escape(role)}* ({len(order)} screened"
             + (f", {len(errors)} could not be read" if errors else "") + ")", "```"]
    lines.append(f"{'#':>3}  {'verdict':7}  {'score':>5}  {'category':22}  file")
    for rank, r in enumerate(order[:limit], 1):
        lines.append(f"{rank:>3}  {VERDICT_WORDS[r['verdict']]:7}  {r['score']:5.2f}  "
                     f"{r['category'][:22]:22}  {file_label(r['file'], 60)}")
    if len(order) > limit:
        lines.append(f"… and {len(order) - limit} more in the CSV")
    lines.append("```")
    for r in errors[:10]:
        lines.append(f":warning: {file_label(r['file'])}: {escape(r['error']['message'])}")
    lines.append(f"_{AUTOMATED_AID_NOTICE}_")
    return truncate("\n".join(lines), SECTION_LIMIT)


def results_csv(results: Sequence[dict]) -> str:
    """Every row of a batch; cells a spreadsheet would run as formulas are made text."""
    rows: list[list[object]] = []
    for rank, r in enumerate(ranked(results), 1):
        ev = r.get("evidence", {})
        rows.append([rank, printable_name(r["file"]), r["role"], VERDICT_WORDS[r["verdict"]],
                     r["score"], r["category"], "; ".join(ev.get("matched", [])),
                     "; ".join(ev.get("missing", [])), r["model"]["version"], ""])
    for r in results:
        if "error" in r:
            rows.append(["", printable_name(r["file"]), "", "", "", "", "", "", "",
                         r["error"]["message"]])
    return csv_text(["rank", "file", "role", "verdict", "score", "category", "matched_skills",
                     "missing_skills", "model_version", "error"], rows)


DECISION_WORDS = {"promoted": "✅ promoted", "rejected": "❌ rejected", "skipped": "⏭️ skipped",
                  "failed": "⚠️ failed", "busy": "⏳ already running", "running": "⏳ running"}


def refresh_report_text(outcome) -> str:
    """A refresh's decision and the figures the gate compared, for the admin channel."""
    o = outcome if isinstance(outcome, dict) else outcome.to_json()
    kind = o.get("kind", "model")
    decision = DECISION_WORDS.get(o.get("decision"), o.get("decision"))
    lines = [f"*{kind.capitalize()} refresh: {decision}*"]
    if o.get("candidate_version"):
        lines.append(f"candidate `{o['candidate_version']}` vs active "
                     f"`{o.get('active_version')}`")
    active = (o.get("figures") or {}).get("active", {})
    cand = (o.get("figures") or {}).get("candidate", {})
    for name, value in cand.items():
        if name in active and name != "samples":
            lines.append(f"• {name.replace('_', ' ')}: {active[name]} → {value}")
    if o.get("decision") == "promoted":
        lines.append("The bot switches to it between jobs; `hirebot models rollback --kind "
                     f"{kind}` undoes it.")
    if o.get("reason") and o.get("decision") != "promoted":
        lines.append(escape(o["reason"]))
    if o.get("seconds"):
        lines.append(f"_{o['seconds']:.0f} s, run {o.get('run_id', '')}_")
    return "\n".join(lines)
