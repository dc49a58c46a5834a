"""What a recruiter asks for in one line: ``Data Scientist; must: Python, SQL; nice: Spark;
location: Berlin; remote``.

The syntax (documented in the README and ``/hirebot help``):

* the title comes first; an old-style ``, context`` after it is kept ("Data Scientist, fintech"
  opens "We are looking for a Data Scientist (fintech)"), except after a title that is only a
  generic head ("Manager, Large Customer Sales" is one title);
* then ``;``-separated options, each at most once:
  ``must: a, b`` (terms every draft's Requirements name), ``nice: a, b`` (nice-to-have terms),
  ``location: Berlin``, and one of ``remote`` / ``hybrid`` / ``on-site``.

Anything else is refused with a message that shows the syntax, so a typo ("must Python") is never
silently written into a JD as part of the title.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from models.common.user_text import drop_ignorable, text_problem
from models.generation.contact_scrub import contains_contact

MAX_TITLE_CHARS = 120
MAX_REQUEST_CHARS = 600
MAX_TERMS = 10
MAX_TERM_CHARS = 40
WORK_MODES = {"remote": "remote", "hybrid": "hybrid", "on-site": "on-site", "onsite": "on-site",
              "on site": "on-site", "in-office": "on-site", "office": "on-site"}
SYNTAX = ("`/jobpost Data Scientist; must: Python, SQL; nice: Spark; location: Berlin; remote` "
          "(options after the title, each once: must:, nice:, location:, and remote, hybrid or "
          "on-site)")


class TitleError(ValueError):
    """The request cannot be used as a prompt; the message says why and how to write it."""


@dataclass(frozen=True)
class JobRequest:
    title: str
    context: str = ""  # the old ", remote, fintech" tail, kept as written
    must: tuple[str, ...] = ()
    nice: tuple[str, ...] = ()
    location: str = ""
    work_mode: str = ""  # "", "remote", "hybrid" or "on-site"
    raw: str = ""

    @property
    def where(self) -> str:
        """"in Berlin (remote)"-style words for the opening, or ""."""
        parts = []
        if self.location:
            parts.append(f"in {self.location}")
        if self.work_mode == "remote":
            parts.append("working remotely" if not self.location else "with remote working")
        elif self.work_mode == "hybrid":
            parts.append("on a hybrid basis")
        elif self.work_mode == "on-site":
            parts.append("on site")
        return " ".join(parts)

    def as_json(self) -> dict:
        return {"title": self.title, "context": self.context, "must": list(self.must),
                "nice": list(self.nice), "location": self.location,
                "work_mode": self.work_mode}


@dataclass
class _Options:
    values: dict[str, object] = field(default_factory=dict)

    def put(self, key: str, value: object) -> None:
        if key in self.values:
            raise TitleError(f"`{key}` is given twice. Write it once: {SYNTAX}.")
        self.values[key] = value


def _check_text(raw: str) -> str:
    raw = drop_ignorable(raw or "")
    if not raw.strip():
        raise TitleError("Please give a job title, e.g. \"Data Scientist\".")
    if len(raw) > MAX_REQUEST_CHARS:
        raise TitleError(f"The request is longer than {MAX_REQUEST_CHARS} characters.")
    problem = text_problem(raw, "job title")
    if problem:
        raise TitleError(problem)
    if contains_contact(raw):
        raise TitleError("Leave contact details (e-mail, phone, web address) out of the request: "
                         "a JD written here never carries them, so candidates apply the way "
                         "your posting site says.")
    return " ".join(raw.split())


def _terms(key: str, value: str) -> tuple[str, ...]:
    terms = [t.strip(" .") for t in value.split(",") if t.strip(" .")]
    if not terms:
        raise TitleError(f"`{key}:` needs at least one term, e.g. `{key}: Python, SQL`.")
    if len(terms) > MAX_TERMS:
        raise TitleError(f"At most {MAX_TERMS} `{key}` terms, please.")
    for term in terms:
        if len(term) > MAX_TERM_CHARS:
            raise TitleError(f"The `{key}` term \"{term[:50]}\" is longer than "
                             f"{MAX_TERM_CHARS} characters.")
        if not any(ch.isalnum() for ch in term):
            raise TitleError(f"The `{key}` term \"{term}\" has no letters or digits.")
    return tuple(dict.fromkeys(terms))


def _is_generic_head(title: str) -> bool:
    from models.common.occupations import _SENIORITY, GENERIC_HEADS

    return _SENIORITY.sub(" ", title).strip().lower() in GENERIC_HEADS


def parse_request(raw: str) -> JobRequest:
    """The title and the options of one ``/jobpost`` line; :class:`TitleError` if malformed."""
    text = _check_text(raw)
    head, *parts = [p.strip() for p in text.split(";")]
    title, _, context = head.partition(",")
    title, context = title.strip(), context.strip(" ,")
    if context and _is_generic_head(title):
        # "Manager, Large Customer Sales" is one title; after a title that says what the job
        # is ("Data Scientist, remote, fintech"), the tail is the old-style context.
        title, context = head.strip(" ,"), ""
    if not title:
        raise TitleError(f"The title comes first. Try {SYNTAX}.")
    if len(title) > MAX_TITLE_CHARS:
        raise TitleError(f"The job title is longer than {MAX_TITLE_CHARS} characters.")
    if not any(ch.isalpha() for ch in title):
        raise TitleError("The job title has no letters in it.")
    if ":" in title:
        raise TitleError(f"Separate the options from the title with `;`: {SYNTAX}.")
    options = _Options()
    for part in parts:
        if not part:
            continue
        key, sep, value = part.partition(":")
        key = key.strip().lower()
        if not sep:
            mode = WORK_MODES.get(key)
            if mode is None:
                raise TitleError(f"I don't know the option \"{part[:40]}\". Use {SYNTAX}.")
            options.put("remote/hybrid/on-site", mode)
            continue
        value = value.strip()
        if key in {"must", "must have", "required"}:
            options.put("must", _terms("must", value))
        elif key in {"nice", "nice to have", "preferred"}:
            options.put("nice", _terms("nice", value))
        elif key in {"location", "where"}:
            if not value or not any(ch.isalpha() for ch in value):
                raise TitleError("`location:` needs a place, e.g. `location: Berlin`.")
            if len(value) > 60:
                raise TitleError("The location is longer than 60 characters.")
            options.put("location", value)
        else:
            raise TitleError(f"I don't know the option `{key}:`. Use {SYNTAX}.")
    must = options.values.get("must", ())
    nice = tuple(t for t in options.values.get("nice", ()) if t.lower() not in
                 {m.lower() for m in must})
    return JobRequest(title=title, context=context, must=must, nice=nice,
                      location=str(options.values.get("location", "")),
                      work_mode=str(options.values.get("remote/hybrid/on-site", "")), raw=text)
