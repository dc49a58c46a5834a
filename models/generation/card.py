"""The generator's model card, rendered from the figures saved beside the weights.

Why generated: the card must always agree with ``hirebot_generator.json`` (data hash, command,
training figures) and ``EVAL.json`` (``hirebot eval generator --save``), so it is never edited
by hand. ``BASELINE.json`` holds the issue's 20-minute baseline recipe, kept as the yardstick.
"""

from __future__ import annotations

import json
from pathlib import Path

from models.generation.sampling import Decoding


def _load(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def write_generator_card(folder: Path) -> Path:
    info = _load(folder / "hirebot_generator.json")
    evaluation = _load(folder / "EVAL.json")
    baseline = _load(folder / "BASELINE.json")
    training = info.get("training", {})
    recipe = training.get("recipe", {})
    data = info.get("data", {})
    lines = [
        f"# {info.get('name', 'hirebot-jd-gpt2')} — model card",
        "",
        f"Version `{info.get('version', '?')}`. A GPT-2 (`GPT2LMHeadModel`) trained from scratch "
        "on public job postings to write a job description from a title. It is small "
        f"({info.get('parameters', 0) / 1e6:.1f} M parameters) because it was trained on a 2-core "
        "CPU within an hour; treat its drafts as a starting point for a human to edit.",
        "",
        "## Data",
        "",
        "All files in `../shared/data/job_postings/` (see that folder's README and MANIFEST for "
        "sources and licences), de-duplicated before the split (hash of the first 300 "
        "characters, lower-cased, whitespace collapsed), scam ads dropped, NHS ads sampled to "
        "at most 3 per title and 3,000 in all so nursing does not dominate. Held-out split: "
        "5 % by hash of the de-duplication key, never trained on.",
        "",
        f"- training postings: {data.get('train', '?')}, held-out: {data.get('held_out', '?')}, "
        f"training characters: {data.get('train_chars', '?')}",
        f"- data sha256: `{data.get('sha256', '?')}`",
        "- per source: " + ", ".join(f"{k} {v}" for k, v in data.get("sources", {}).items()),
        "",
        "Each posting is one document: `Job title: TITLE\\n\\n` + text + `<|endoftext|>`.",
        "",
        "## Command",
        "",
        "```sh",
        info.get("command", "?"),
        "```",
        "",
        "## Recipe",
        "",
        "| setting | value |",
        "|---|---|",
    ]
    for key, value in recipe.items():
        lines.append(f"| {key} | {value} |")
    lines += [
        "",
        "## Training",
        "",
        f"- steps: {training.get('steps')}, epochs: {training.get('epochs_done')}, "
        f"tokens: {training.get('train_tokens')}, wall-clock: "
        f"{(training.get('train_seconds') or 0) / 60:.1f} min, "
        f"{training.get('tokens_per_second')} tokens/s",
        f"- held-out bits/char: **{training.get('held_out_bits_per_char')}**",
        "",
    ]
    if baseline:
        b_train = baseline.get("training", {})
        ours = training.get("held_out_bits_per_char")
        theirs = b_train.get("held_out_bits_per_char")
        gain = f"{(1 - ours / theirs) * 100:.1f} % lower" if ours and theirs else "?"
        lines += [
            "## Against the baseline recipe",
            "",
            "The generator issue's measured recipe (byte-level BPE 8,192, 4 layers x 256, one "
            "posting per row cut at 256 tokens, batch 16, AdamW 1e-3 cosine, 20 minutes), "
            "trained here on the same data and tokenizer and scored on the same held-out "
            "postings with the same windows (256 tokens, stride 128). Both runs use bf16 autocast "
            "only where the CPU has native bf16; the machine that made this model has none, so "
            "both trained in fp32. The bundled recipe differs in: postings packed into full "
            "512-token rows (no padding, the second half of long ads is learnt too), batch 4 x "
            "512 (more, smaller steps: 1.85 vs 1.97 bits/char after 3 minutes against batch 8), "
            "2 % warm-up, cosine to 10 %, weight decay 0.1, a packed row that continues a "
            "posting starting with that posting's title prompt as context (so no token is "
            "learnt without its title in view), and a schedule bound to 3,300 steps (about 52 "
            "minutes here; a step-bound run gives the same weights on any machine).",
            "",
            "| recipe | minutes | tokens | held-out bits/char |",
            "|---|---:|---:|---:|",
            f"| baseline | {(b_train.get('train_seconds') or 0) / 60:.1f} | "
            f"{b_train.get('train_tokens')} | {theirs} |",
            f"| this model | {(training.get('train_seconds') or 0) / 60:.1f} | "
            f"{training.get('train_tokens')} | {ours} |",
            "",
            f"This model's held-out bits/char is {gain} than the baseline's.",
            "",
            f"Baseline command: `{baseline.get('command', '?')}`",
            "",
        ]
    if evaluation:
        lines += ["## Evaluation (`hirebot eval generator --save`)", "",
                  f"Held-out bits/char: {evaluation.get('bits_per_char')}. "
                  f"{evaluation.get('n_samples')} samples for {evaluation.get('n_titles')} "
                  "held-out titles, each decoded two ways:", "",
                  "| metric | hirebot decoding | naive (top_k 40, top_p 0.9) | goal |",
                  "|---|---:|---:|---|"]
        goals = {"repetition_rate": "≤ 0.02", "distinct_2": "", "title_relevance": "≥ 0.70",
                 "structure": "", "contact_leak": "0"}
        for key, goal in goals.items():
            ours = evaluation.get("hirebot", {}).get(key)
            naive = evaluation.get("naive", {}).get(key)
            lines.append(f"| {key} | {ours} | {naive} | {goal} |")
        real = evaluation.get("real_postings_title_relevance")
        if real is not None:
            lines += ["", f"For scale: the real held-out posting for each of these titles scores "
                      f"{real} title relevance on the same measure (many real ads do not read "
                      "like the typical ad for their title)."]
        lines += ["", f"Command: `{evaluation.get('command', 'hirebot eval generator --save')}`",
                  ""]
    boost = (evaluation.get("decoding", {}).get("hirebot", {}).get("title_boost")
             if evaluation else None)
    boost = Decoding().title_boost if boost is None else boost
    lines += [
        "## Decoding",
        "",
        "`models/generation/` keeps the lineage's sampling (top_k 40, top_p 0.9) and adds: a "
        "ban on repeating any 4-token n-gram, a repetition penalty of 1.15 on the word tokens "
        "among the last 64 (line breaks and bullets exempt), temperature 0.8, no end-of-text "
        "before 60 tokens, an opener sentence that names the title, section-by-section decoding "
        "(opening paragraph, then Responsibilities / Requirements / Benefits headings fed in "
        f"one at a time, each part written by the model), a +{boost:g} logit "
        "bonus, until the model has written the word once, for the title's words and for the "
        "words that "
        "distinguish postings of the title's family (`title_lexicon.json`: words and weights "
        "only, built from the training postings by `hirebot train lexicon`), and a scrubber "
        "that drops any sentence holding an e-mail "
        "address, phone number or URL.",
        "",
        "## Limits",
        "",
        "- Small and trained briefly: drafts are job-ad shaped but can be generic, mix details "
        "from different ads, or state salaries and locations that are invented. Always edit.",
        "- The corpus leans to UK health care, US data roles and teaching; titles far from these "
        "get vaguer drafts.",
        "- Title relevance is well below the issue's goal of 0.70 (see the table): the model "
        "knows the common families (nursing, data, software, teaching, finance) and drifts "
        "towards them for rarer titles. The opener, the section headings and the title lexicon "
        "raise it from about 0.07 (naive decoding) to about 0.30, and restating the title in "
        "training rows raised it from 0.27 to 0.31 at 1 % higher bits/char. Measured and not "
        "enough: the title in every section heading (0.36, but 18 % of drafts repeated a "
        "4-gram); a steering bonus of 6 (0.36 on 50 titles, but keyword soup); the best of 4 "
        "drafts by MiniLM similarity to the title (0.28 to 0.32 on 50 titles); sentence-by-"
        "sentence selection towards the title's nearest training postings (0.21 to 0.33 in a "
        "simulation). Even choosing the best of 4 drafts with the evaluation's own measure "
        "reached only 0.43, below the 0.46 of real ads.",
        "- Contact details (e-mail, phone, URL) are removed from every draft by the decoder; the "
        "weights themselves may still have memorised some from public ads.",
        "",
    ]
    path = folder / "MODEL_CARD.md"
    path.write_text("\n".join(lines))
    return path
