"""Words that mark an occupation, learnt from postings: steers a small GPT-2 towards the title.

A GPT-2 of a few million parameters trained for an hour follows its corpus's bias (health care,
data science) more than the title in its prompt. The lexicon maps a title's head word ("chef",
"nurse", "engineer") to the words that distinguish postings with that head word from the rest
("kitchen", "menu", "food"), and the decoder gives those words' tokens a small logit bonus.
Only words and weights are stored (no posting text), so the file ships as package data.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

from models.generation.postings import Posting

LEXICON_FILE = "title_lexicon.json"
MIN_FAMILY_POSTINGS = 3
MIN_GLOBAL_DF = 10
WORDS_PER_FAMILY = 30
MIN_SHARE = 0.15
_WORD = re.compile(r"[a-z][a-z\-]{2,}")
#: Ad boilerplate that says nothing about the occupation (and invites contact details).
_GENERIC = {"contact", "informal", "further", "visits", "visit", "join", "you", "your", "our",
            "apply", "email", "please", "website", "www", "http", "https", "com", "org", "net",
            "details", "call", "phone", "telephone", "regularly", "laid"}
_STOP_TAIL = {"i", "ii", "iii", "iv", "band", "level", "grade", "remote", "hybrid", "time", "full",
              "part", "temporary", "permanent", "contract", "fixed", "term", "nights", "days",
              "bank", "locum", "job", "jobs", "and", "the", "uk", "us", "senior", "junior", "lead"}


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def head_word(title: str) -> str | None:
    """The noun that says what the job is: "Senior Data Scientist" -> "scientist".

    "Head of Marketing" -> "head", "Consultant in Anaesthetics" -> "consultant"; trailing
    qualifiers ("Nurse - Band 5", "Engineer II") are skipped.
    """
    main = re.split(r"\s[-–|/(]\s?|,", title.lower())[0]
    main = re.split(r"\s(?:of|in|for|at|with|to)\s", main)[0]
    tokens = [t for t in re.findall(r"[a-z]+", main) if t not in _STOP_TAIL]
    return _singular(tokens[-1]) if tokens else None


def build_lexicon(postings: Sequence[Posting]) -> dict[str, list[list]]:
    """``{head word: [[word, weight], ...]}`` by smoothed log-odds of document frequency."""
    family_docs: dict[str, list[set[str]]] = defaultdict(list)
    global_df: Counter[str] = Counter()
    for posting in postings:
        vocab = set(_WORD.findall(posting.description.lower()))
        global_df.update(vocab)
        head = head_word(posting.title)
        if head:
            family_docs[head].append(vocab)
    total = max(len(postings), 1)
    lexicon: dict[str, list[list]] = {}
    for head, docs in sorted(family_docs.items()):
        if len(docs) < MIN_FAMILY_POSTINGS:
            continue
        df = Counter(w for vocab in docs for w in vocab)
        scored = []
        for word, count in df.items():
            share = count / len(docs)
            if share < MIN_SHARE or global_df[word] < MIN_GLOBAL_DF or word in _GENERIC:
                continue
            lift = math.log((count + 0.5) / (len(docs) + 1)) - math.log(
                (global_df[word] + 0.5) / (total + 1))
            if lift > 0.5:
                scored.append((lift * share, word))
        scored.sort(reverse=True)
        words = [[w, round(s, 4)] for s, w in scored[:WORDS_PER_FAMILY]]
        if words:
            lexicon[head] = words
    return lexicon


def save_lexicon(lexicon: dict, folder: Path) -> Path:
    path = folder / LEXICON_FILE
    path.write_text(json.dumps(lexicon, sort_keys=True))
    return path


def load_lexicon(folder: Path | None) -> dict[str, list[list]]:
    if folder is None or not (folder / LEXICON_FILE).is_file():
        return {}
    return json.loads((folder / LEXICON_FILE).read_text())


def steering_words(title: str, lexicon: dict[str, list[list]]) -> list[str]:
    """The title's own words plus its family's distinctive words (title words first)."""
    own = [w for w in re.findall(r"[a-z]+", title.lower()) if len(w) > 2 and w not in _STOP_TAIL]
    head = head_word(title)
    family = [w for w, _ in lexicon.get(head or "", [])]
    seen: set[str] = set()
    out = []
    for word in own + family:
        if word not in seen:
            seen.add(word)
            out.append(word)
    return out
