"""What a draft is grounded on: the occupation's duties and skills, the user's terms, the team's
approved JDs, the company profile, and the line that says so.

A 5 M-parameter model cannot know every occupation; handed the facts it can write them up. The
facts come from the occupation resolver (O*NET task statements and summary, CC BY 4.0; skills that
real ads near that occupation ask for) and from the team's own approved JDs for titles that
resolve to the same occupation. They are never copied from uncredited ads.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass, field, replace

from models.common.occupations import ONET_ATTRIBUTION, OccupationResolver, Resolution
from models.generation.inclusive import check_text
from models.generation.profile import CompanyProfile
from models.generation.request import JobRequest

MAX_DUTIES = 10
#: Duties true of nearly any job, for a title no occupation is close to ("Chief Vibes
#: Officer"): the draft stays readable and its note asks for the role's own duties.
GENERIC_DUTIES = (
    "Plan and prioritise your own work to meet agreed deadlines.",
    "Work with colleagues across the team to deliver shared goals.",
    "Keep accurate records and report progress to your manager.",
    "Build good working relationships with customers and colleagues.",
    "Suggest improvements to the way the team works.",
    "Follow the company's policies, procedures and health and safety rules.",
)
MAX_SKILLS = 10
MAX_TEAM_LINES = 6
_HEADING = re.compile(r"^\s*[A-Z][A-Za-z ,&/']{0,40}:\s*$")


@dataclass(frozen=True)
class TeamJD:
    """An approved JD from the store, for a title that may resolve to the same occupation."""

    title: str
    text: str


@dataclass
class Grounding:
    request: JobRequest
    resolution: Resolution | None = None
    summary: str = ""  # "develop and implement ..." (the occupation summary, as a clause)
    esco_clauses: list[str] = field(default_factory=list)  # "teach people the theory ..."
    opening_task: str = ""  # the task the opening states, when the profile has no summary
    duties: list[str] = field(default_factory=list)  # candidate Responsibilities lines
    skills: list[str] = field(default_factory=list)  # typical skills (not the user's terms)
    requirements: list[str] = field(default_factory=list)  # candidate Requirements lines
    team_titles: list[str] = field(default_factory=list)
    profile: CompanyProfile | None = None

    @property
    def occupation(self):
        return self.resolution.occupation if self.resolution else None

    @property
    def requirement_terms(self) -> list[str]:
        """Must terms first, then nice-to-have, then the occupation's typical skills."""
        seen: set[str] = set()
        out = []
        for term in [*self.request.must, *self.request.nice, *self.skills]:
            if term.lower() not in seen:
                seen.add(term.lower())
                out.append(term)
        return out

    def attribution(self) -> str:
        """The line under a draft that lets the recruiter judge what it was based on."""
        parts = []
        occupation = self.occupation
        if occupation is not None and occupation.tasks:
            parts.append(f"Based on {occupation.source_line} (task statements: "
                         f"{ONET_ATTRIBUTION}; match {self.resolution.confidence:.2f})")
        elif occupation is not None:
            parts.append(f"Based on {occupation.source_line} (no task statements: the duties "
                         "are general ones — add the role's own before publishing)")
        elif self.resolution is not None and not self.team_titles:
            parts.append(f"No close occupation found for “{self.request.title}”: the duties "
                         "are general ones — add the role's own before publishing")
        elif self.resolution is not None:
            parts.append(f"No close occupation found for “{self.request.title}”")
        if self.esco_clauses and self.resolution and self.resolution.esco_title:
            parts.append(f"ESCO “{self.resolution.esco_title}” (European Commission, CC BY 4.0)")
        if self.skills:
            parts.append("skills from similar real postings")
        if self.team_titles:
            parts.append("your team's approved JD" + ("s" if len(self.team_titles) > 1 else "")
                         + " for " + ", ".join(f"“{t}”" for t in self.team_titles[:3]))
        return "; ".join(parts) + "." if parts else ""


def _as_clause(summary: str) -> str:
    """"Develop and implement X." -> "develop and implement X" (an O*NET summary starts with a
    verb), for "You will ..."."""
    text = summary.strip().rstrip(".")
    first = text.split(" ", 1)[0]
    if first.strip(",;").isalpha() and not first.isupper():
        text = first.lower() + text[len(first):]
    return re.split(r"(?<=[a-z]{2})\. ", text)[0]  # a sentence end, not "U.S."


def esco_clauses(title: str, description: str) -> list[str]:
    """"Vessel steering instructors teach people ... They assist students ..." -> ["teach
    people ...", "assist students ..."]: ESCO definitions name the occupation in the plural,
    then say what it does, so the verbs are already in the form "You will" needs."""
    description = unicodedata.normalize("NFKC", description)  # "ﬁ" ligatures -> "fi"
    sentences = re.split(r"(?<=\.)\s+", description.strip())
    out = []
    first = sentences[0] if sentences else ""
    words = title.lower().split()
    head = first.split()
    if len(head) > len(words) and [w.lower() for w in head[:len(words) - 1]] == words[:-1] \
            and head[len(words) - 1].lower().rstrip("s") in {words[-1], words[-1].rstrip("s")}:
        out.append(" ".join(head[len(words):]).rstrip("."))
        for sentence in sentences[1:2]:
            if sentence.startswith("They "):
                out.append(sentence[len("They "):].rstrip("."))
    return [_you_will(c) for c in out if 3 <= len(c.split()) <= 30][:2]


def _you_will(clause: str) -> str:
    """The clause as it follows "You will": "are responsible for" -> "be responsible for"."""
    first, _, rest = clause.partition(" ")
    if first in {"are", "is"}:
        return f"be {rest}"
    if first == "has":
        return f"have {rest}"
    return clause


def _team_lines(team: list[TeamJD]) -> list[str]:
    """Responsibility lines of approved JDs (the team wrote or approved them, so they may be
    reused as they are)."""
    from models.generation.sections import split_sections

    lines: list[str] = []
    for jd in team:
        body = split_sections(jd.text).get("responsibilities", "")
        for line in body.splitlines():
            line = line.strip(" -•*\t")
            if 4 <= len(line.split()) <= 30 and not _HEADING.match(line):
                lines.append(line if line.endswith((".", "!")) else line + ".")
    return list(dict.fromkeys(lines))[:MAX_TEAM_LINES]


def _coded_count(text: str) -> int:
    return check_text(text).coded_count


def build_grounding(request: JobRequest, resolver: OccupationResolver | None, *,
                    profile: CompanyProfile | None = None, team: list[TeamJD] | None = None,
                    seed: int = 0) -> Grounding:
    """The facts for one request; ``seed`` varies which duties lead, for best-of-n variety."""
    if profile is not None and profile.location and not request.location:
        request = replace(request, location=profile.location)  # the company's default place
    resolution = resolver.resolve(request.title) if resolver is not None else None
    grounding = Grounding(request=request, resolution=resolution, profile=profile)
    occupation = grounding.occupation
    same_job = []
    if team and resolver is not None:
        for jd, found in zip(team, resolver.resolve_many([jd.title for jd in team]),
                             strict=True):
            if jd.title.lower() == request.title.lower() or (
                    occupation is not None and found.code == occupation.code):
                same_job.append(jd)
    grounding.team_titles = list(dict.fromkeys(jd.title for jd in same_job))
    duties = _team_lines(same_job)
    if occupation is not None:
        tasks = [unicodedata.normalize("NFKC", t) for t in occupation.tasks]
        tasks = [t if t.endswith(".") else t + "." for t in tasks]
        if occupation.summary and "not listed separately" not in occupation.summary:
            grounding.summary = _as_clause(occupation.summary)
        elif tasks:  # 161 O*NET profiles have no summary: the first task opens instead
            grounding.opening_task = tasks.pop(0)
            grounding.summary = _as_clause(grounding.opening_task)
        # O*NET lists the core tasks first. Keep that order, but let the seed swap neighbours
        # so the drafts of one batch open differently; tasks full of gender-coded words go last.
        rng = random.Random(seed)
        ranked = sorted(range(len(tasks)), key=lambda i: (i + rng.uniform(0, 3)
                                                           + 4 * min(_coded_count(tasks[i]), 2)))
        duties += [tasks[i] for i in ranked]
        grounding.skills = _distinct_skills(occupation.skills)[:MAX_SKILLS]
        if resolution.esco_title:
            grounding.esco_clauses = esco_clauses(resolution.esco_title,
                                                  resolution.esco_description)
    if not duties:
        generic = list(GENERIC_DUTIES)
        random.Random(seed).shuffle(generic)
        duties = generic[:5]
    grounding.duties = list(dict.fromkeys(duties))[:MAX_DUTIES]
    grounding.requirements = requirement_lines(grounding, seed)
    return grounding


def _distinct_skills(skills) -> list[str]:
    """Skills without case twins or ones inside another ("financial" / "Finance" / "finance
    reporting")."""
    out: list[str] = []
    for skill in skills:
        low = skill.lower()
        # A skill worth naming is a phrase ("machine learning") or a proper name ("SQL",
        # "AutoCAD"); single lower-case words from ads are mostly prose ("managing",
        # "responsible", "classroom").
        if len(low.split()) < 2 and not any(ch.isupper() or ch in "+#" for ch in skill):
            continue
        if low in _NOT_SKILLS or low.split()[0] in _GLUE or low.split()[-1] in _GLUE:
            continue
        stem = low[:5]
        if any(low in o.lower() or o.lower() in low or o.lower()[:5] == stem for o in out):
            continue
        out.append(skill)
    return out


_GLUE = frozenset({"and", "or", "of", "the", "a", "an", "in", "to", "for", "with", "on", "at"})
_NOT_SKILLS = frozenset({"senior", "manager", "general", "direct", "increase", "teacher",
                         "nurse", "engineer", "responsible", "accountable", "team", "staff"})


def join_terms(terms: list[str] | tuple[str, ...]) -> str:
    """"Python, SQL and Spark"."""
    terms = list(terms)
    return terms[0] if len(terms) == 1 else ", ".join(terms[:-1]) + " and " + terms[-1]


def _ability(task: str) -> str:
    """"Weigh materials and record ..." -> "Ability to weigh materials and record ..."."""
    first, _, rest = task.partition(" ")
    if first.isupper():
        return f"Ability to {task}"
    return f"Ability to {first.lower()} {rest}".strip()


def requirement_lines(grounding: Grounding, seed: int = 0) -> list[str]:
    """Candidate Requirements lines, each stating a fact of the request or the occupation: the
    must and nice terms, the occupation's typical skills, and tasks the duties did not use
    (as abilities). The model picks, orders and edits them, and writes around them."""
    request = grounding.request
    lines = []
    if request.must:
        lines.append(f"Experience with {join_terms(request.must)}.")
    lines.append(f"Experience as {article(request.title)} {request.title} or in a similar role.")
    skills = [s for s in grounding.skills
              if s.lower() not in {t.lower() for t in (*request.must, *request.nice)}]
    if len(skills) >= 2:
        lines.append(f"Knowledge of {join_terms(skills[:3])}.")
    occupation = grounding.occupation
    if occupation is not None:
        said = {*grounding.duties, grounding.opening_task}  # any duty may be copied
        spare = [t for t in occupation.tasks
                 if t not in said and (t if t.endswith(".") else t + ".") not in said]
        rng = random.Random(seed + 7)
        for task in rng.sample(spare, min(2, len(spare))):
            lines.append(_ability(task.rstrip(".")) + ".")
    if request.nice:
        lines.append(f"Experience with {join_terms(request.nice)} is a plus.")
    lines.append("Good written and verbal communication skills.")
    return lines


def article(title: str) -> str:
    return "an" if title[:1].lower() in "aeiou" else "a"
