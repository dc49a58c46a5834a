"""Blind screening: take out what says who a candidate is before any model reads the CV.

A CV's name, pronouns, gendered titles, date of birth, age, marital status, nationality and
gender say nothing about the job and are how bias (a model's or a reader's) gets in, so the
screening model, its evidence snippets and the CV-JD matcher all read the blinded text:

* the CV's own name -- a header line near the top that looks like a name (its first word is in
  the bundled first-name list, or contact details follow it) or a ``Name:`` field -- is dropped,
  and its words are taken out wherever else they appear;
* titles (Mr, Mrs, Ms, Miss, Mx, Sir, Madam) go, with the name that follows them;
* he/she/him/her/his/hers/himself/herself become they/them/their/theirs/themselves;
* ``Date of birth:``, ``DOB``, ``Age:``, ``Marital status:``, ``Nationality:``, ``Gender:``,
  ``Sex:``, ``Religion:`` fields lose their value (only the field, not a long line that holds
  it), as do "34 years old", "aged 34", "born in 1985" and lines that say only "Married" or
  "Female".

Photos never reach here: the PDF and DOCX readers extract text only. Regexes are compiled once;
blinding a CV takes well under a millisecond. The first-name list is the 1990 US Census list
(``make blinding-data`` builds it), so a name it lacks is still caught by the header rule when
contact details follow it, but not elsewhere in the text: blinding lowers the risk, it
does not remove it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from functools import lru_cache

from models.common.paths import BUNDLED_ROOT
from models.screening.documents import ParsedDocument

NAMES_FILE = BUNDLED_ROOT / "blinding" / "first_names.txt"
HEADER_LINES = 3  # the name is among the first lines of a CV
CONTACT_LOOKAHEAD = 4  # lines after a header that may hold its email or phone

_TITLE = r"(?:Mr|Mrs|Ms|Miss|Mx|Messrs|Sir|Madam|Madame|Mme)"
_NAME_WORD = r"(?:[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?|[A-Z]{2,}|[A-Z]\.?)"
# a title and up to three capitalised words after it (the name it introduces)
_MS_PRODUCT = (r"(?i:office|word|excel|access|powerpoint|power[ \t]point|outlook|project|sql|"
               r"asp|dynamics|visio|windows|dos|teams|sharepoint|exchange|paint|publisher|"
               r"onenote|crm|azure|navision|works|ax|nav|bi|dotnet|\.net)\b")
# a title and up to three capitalised words after it (the name it introduces); not "MS Office"
_TITLED = re.compile(rf"\b{_TITLE}\b(?!\.?[ \t]+{_MS_PRODUCT})\.?(?:[ \t]+{_NAME_WORD}){{0,3}}")
# "Name: Maria Lopez" at a line's start or after a separator; the value is read by _name_field
_NAME_KEY = re.compile(
    r"(?:^|(?<=[|;•:]))[ \t]*(?:(?:full|candidate(?:'s)?|applicant(?:'s)?|first|last|sur|"
    r"given|family)[ \t]*)?name[ \t]*(?::|[ \t][-–])[ \t]*", re.IGNORECASE)
_VALUE_WORD = re.compile(r"[ \t]*([A-Z][A-Za-z'.-]*)(?![A-Za-z'.-])(?![ \t]*:)")
NAME_WORDS = 4
_HEADER = re.compile(rf"^(?:{_TITLE}\.?\s+)?{_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{1,3}}$")
_CONTACT = re.compile(r"@|\+?\d[\d ().-]{7,}\d|linkedin\.com", re.IGNORECASE)
_NOT_NAME = frozenset(
    "resume curriculum vitae cv profile summary objective manager engineer developer analyst "
    "assistant officer director specialist consultant designer teacher nurse accountant "
    "executive administrator coordinator technician intern associate supervisor clerk chef "
    "sales marketing senior junior lead head chief operator driver representative agent "
    "professional experience education skills contact personal details information career "
    "overview focus name university college school institute international hospital center "
    "centre services group company inc ltd llc county state city department health marital "
    "status date birth nationality gender age address email phone mobile counselor counsellor "
    "instructor worker aide attendant cashier volunteer camp member owner partner president "
    "founder therapist trainer tutor writer editor artist coach receptionist secretary planner "
    "buyer advisor adviser broker auditor architect programmer scientist researcher student "
    "graduate".split())
COMMON_WORD_ZIPF = 4.0  # a header that is only contact-followed must be made of rare words

_KEYS = (r"date[ \t]+of[ \t]+birth|d\.?[ \t]?o\.?[ \t]?b\.?|birth[ \t]*date|birthday|"
         r"place[ \t]+of[ \t]+birth|born|age|marital[ \t]+status|civil[ \t]+status|"
         r"nationality|citizenship|gender|sex|religion|ethnicity|race")
# "Key: value", the value ending at a separator, the next "Key:" or the end of the line
_FIELD = re.compile(
    rf"\b(?:{_KEYS})\b(?:[ \t]*:|[ \t]+[-–])[ \t]*"
    r"(?:[^\n|;•]*?)(?=[ \t]*(?:[|;•\n]|$|\b[A-Z][A-Za-z]+(?:[ \t][A-Za-z]+){0,2}[ \t]*:))",
    re.IGNORECASE)
_AGE_PHRASES = re.compile(
    r"(?<![\d-])\b\d{1,2}[ \t]*(?:-[ \t]*)?(?:years?|yrs?)[ \t]*(?:-[ \t]*)?old\b|"
    r"\baged[ \t]+\d{1,2}\b(?!-)|"
    r"\bborn[ \t]+(?:on[ \t]+|in[ \t]+)?(?:\d{1,2}[ \t/.-])?(?:\w+[ \t/.-])?(?:19|20)\d\d\b|"
    r"\(b\.[ \t]*(?:19|20)\d\d\)|"
    r"\b(?:dob|d\.o\.b\.?|date[ \t]+of[ \t]+birth)[ \t]+\d[\d/.\- ]*(?:[a-z]+[ \t,]*\d{2,4})?",
    re.IGNORECASE)
_EMPTY_FIELD = re.compile(rf"\b(?:{_KEYS})\b[ \t]*(?::|[ \t][-–])[ \t]*$", re.IGNORECASE)
_STATUS_LINE = re.compile(
    r"^[ \t]*(?:married|unmarried|single|divorced|widowed|separated|engaged|male|female|"
    r"man|woman)[ \t]*$", re.IGNORECASE | re.MULTILINE)

_PRONOUNS = {"he": "they", "she": "they", "him": "them", "his": "their", "hers": "theirs",
             "himself": "themselves", "herself": "themselves", "he's": "they're",
             "she's": "they're", "he'd": "they'd", "she'd": "they'd", "he'll": "they'll",
             "she'll": "they'll"}
# lower case or capitalised only: "HIM" is Health Information Management
_PRONOUN = re.compile(r"\b(?:[Hh](?:e|im|is|ers?|imself|erself)|[Ss]he)(?:'(?:s|d|ll))?\b")
_PAIRED = re.compile(r"\b(?:[Ss]/he|[Hh]e/she|[Ss]he/he|[Hh]e or she|[Ss]he or he)\b|"
                     r"\b(?P<pos>[Hh]is/her|[Hh]er/his|[Hh]is or her|[Hh]er or his)\b|"
                     r"\b(?P<obj>[Hh]im/her|[Hh]er/him|[Hh]im or her|[Hh]er or him)\b")
# "her" is "them" before a preposition, article or the end of a clause, else "their"
_HER_OBJECT = re.compile(r"[ \t]*(?:[.,;:!?)\n]|$|(?:to|for|with|and|in|on|at|as|by|from|"
                         r"about|the|a|an|this|that|up|out|back|into|over)\b)", re.IGNORECASE)
# email addresses and profile links carry the name ("mary.lopez@...", "linkedin.com/in/...")
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|(?:https?://)?(?:www\.)?"
                      r"(?:linkedin\.com|github\.com|facebook\.com|instagram\.com)/\S*",
                      re.IGNORECASE)
_SPACES = re.compile(r"[ \t]{2,}")
_AFTER_COLON = re.compile(r"(?<=:)[ \t]*[,|;•][ \t,|;•]*")
_SEPARATOR_RUN = re.compile(r"[ \t]*[|;•][ \t|;•,]*[|;•][ \t]*")

#: Removed from every line, in this order (a field before the words in its value).
_DROPS = (_TITLED, _FIELD, _AGE_PHRASES, _STATUS_LINE, _ADDRESS)


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """The bundled first-name list, lower case (read once)."""
    return frozenset(NAMES_FILE.read_text(encoding="utf-8").split())


def blind_text(text: str) -> str:
    """``text`` with the candidate's identity and protected attributes taken out.

    Lines with nothing to blind come back unchanged, so a CV without personal details reads
    exactly as before; a line that held only personal details is dropped."""
    field_words: set[str] = set()
    lines = []
    for line in text.split("\n"):
        lines.append(_name_field(line, field_words))
    own = _own_name_pattern(field_words | _header_name_words(lines))
    out = []
    after_empty_field = False
    for original, line in zip(text.split("\n"), lines, strict=True):
        if after_empty_field and len(line.split()) <= 5 and len(line) <= 40:
            after_empty_field = False
            continue  # the value of "Date of birth:" that the PDF put on the next line
        after_empty_field = bool(_EMPTY_FIELD.search(line))
        blinded = line
        for pattern in _DROPS:
            blinded = pattern.sub("", blinded)
        if own is not None:
            blinded = own.sub("", blinded)
        blinded = _PRONOUN.sub(_neutral_pronoun, _PAIRED.sub(_neutral_pair, blinded))
        if blinded != original:
            blinded = _tidy(blinded)
            if not blinded:
                continue
        out.append(blinded)
    return "\n".join(out)


def blind_documents(documents: Sequence) -> list:
    """Each ``ParsedDocument`` with its text blinded; errors pass through unchanged."""
    return [dataclasses.replace(d, text=blind_text(d.text)) if isinstance(d, ParsedDocument)
            else d for d in documents]


def _own_name_pattern(words: set[str]) -> re.Pattern | None:
    """The name's words as written in a CV (Title case or capitals), never a lower-case word:
    a surname "Cook" is taken out, the verb "cook" stays."""
    if not words:
        return None
    forms = {f for w in words for f in (w, w.capitalize(), w.upper())}
    return re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, forms), key=len, reverse=True))
                      + r")\b")


def _name_field(line: str, words: set[str]) -> str:
    """``line`` without its "Name: ..." field; the name's words are added to ``words``."""
    key = _NAME_KEY.search(line)
    if key is None:
        return line
    end, taken = key.end(), 0
    while taken < NAME_WORDS:
        word = _VALUE_WORD.match(line, end)
        if word is None or word.group(1).lower().strip(".") in _NOT_NAME:
            break
        words.add(word.group(1).strip("."))
        end, taken = word.end(), taken + 1
    return line[:key.start()] + " " + line[end:]


def _header_name_words(all_lines: list[str]) -> set[str]:
    """The words of a name-like header line near the top: the CV's own name."""
    words: set[str] = set()
    lines = [line.strip() for line in all_lines if line.strip()]
    names = first_names()
    for pos, line in enumerate(lines[:HEADER_LINES]):
        candidate = _TITLED.sub(lambda m: m.group(0).split(None, 1)[-1]
                                if " " in m.group(0) else "", line).strip()
        if not _HEADER.match(candidate):
            continue
        tokens = [t.strip(".") for t in candidate.split()]
        if any(t.lower() in _NOT_NAME for t in tokens):
            continue
        followed_by_contact = any(_CONTACT.search(lines[k]) for k in
                                  range(pos + 1, min(len(lines), pos + 1 + CONTACT_LOOKAHEAD)))
        if tokens[0].lower() in names or (followed_by_contact and _rare_words(tokens)):
            return {t for t in tokens if len(t) > 1}
    return words


def _rare_words(tokens: list[str]) -> bool:
    """Words too rare to be a headline ("Mejia Roxanne", not "Career Overview")."""
    from wordfreq import zipf_frequency

    return all(zipf_frequency(t.lower(), "en") < COMMON_WORD_ZIPF for t in tokens)


def _neutral_pronoun(match: re.Match) -> str:
    word = match.group(0)
    lower = word.lower()
    if lower in _PRONOUNS:
        neutral = _PRONOUNS[lower]
    else:  # "her", or a contraction the table lacks ("her's", "him'll")
        base, mark, suffix = lower.partition("'")
        after = match.string[match.end():match.end() + 12]
        neutral = _PRONOUNS.get(base) or ("them" if _HER_OBJECT.match(after) else "their")
        neutral += mark + suffix
    if word.isupper() and len(word) > 1:
        return neutral.upper()
    return neutral.capitalize() if word[0].isupper() else neutral


def _neutral_pair(match: re.Match) -> str:
    neutral = "their" if match.group("pos") else "them" if match.group("obj") else "they"
    return neutral.capitalize() if match.group(0)[0].isupper() else neutral


def _tidy(line: str) -> str:
    """The spaces and separators a removal left behind; "" when nothing else is left."""
    line = _SEPARATOR_RUN.sub(" | ", _AFTER_COLON.sub(" ", line))
    line = _SPACES.sub(" ", line).strip(" \t|;•,:-–")
    return line if any(c.isalnum() for c in line) else ""
