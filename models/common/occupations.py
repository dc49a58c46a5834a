"""Title -> occupation, with a confidence: the JD writer's resolver, in ``models/common`` so that
screening's role mapping can use it too.

MiniLM cosine of a title to the O*NET titles alone goes wrong on modern and everyday titles
("Senior Backend Engineer" -> Industrial Engineers, "Forklift Operator" -> Crane and Tower
Operators): O*NET names occupations in statistical language ("Industrial Truck and Tractor
Operators"), recruiters do not. So the index holds many *names* per occupation, each pointing to an
O*NET code:

* the O*NET title, and its parts ("Meeting, Convention, and Event Planners" -> "event planner");
* ESCO's preferred and alternative titles (``altLabels``), each ESCO occupation tied to the O*NET
  occupation whose profile its definition is nearest to (no ESCO<->O*NET crosswalk ships here);
* titles of real postings, each tied to the occupation whose profile its ad text is nearest to.

A query title is normalised (seniority, "remote", locations and brackets removed, common
abbreviations spelt out), embedded, and the nearest names vote for their occupations, weighted by
similarity and by how much their source is trusted. The index is package data made by
``hirebot data occupations`` (:mod:`models.refresh.occupation_index`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from models.common.paths import BUNDLED_ROOT

OCCUPATIONS_DIR = BUNDLED_ROOT / "occupations"
ONET_ATTRIBUTION = ("O*NET 30.0 Database, U.S. Department of Labor, Employment and Training "
                    "Administration (USDOL/ETA), CC BY 4.0")
ESCO_ATTRIBUTION = "ESCO classification, European Commission, CC BY 4.0"
#: Below this confidence a title is reported as having no close occupation.
MIN_CONFIDENCE = 0.36
NEIGHBOURS = 10

_SENIORITY = re.compile(
    r"\b(senior|sr|snr|junior|jr|jnr|principal|staff|lead|trainee|graduate|grad|entry[- ]level|"
    r"associate|intern|internship|apprentice|apprenticeship|experienced|"
    r"mid[- ]level|level [0-9ivx]+|(?<![-\w])[ivx]{1,3}(?![-\w])|[0-9]+|"
    r"remote|hybrid|on[- ]site|onsite|"
    r"part[- ]time|full[- ]time|fixed[- ]term|temporary|temp|contract|contractor|permanent|"
    r"freelance|night|nights|days|weekend|weekends|wfh|uk|us|usa|eu|emea)\b\.?",
    re.IGNORECASE)
#: Abbreviations recruiters write; the expansion is what the names in the index say.
ABBREVIATIONS = {
    "sre": "site reliability engineer", "swe": "software engineer", "sde": "software engineer",
    "devops": "devops", "qa": "quality assurance", "ux": "user experience", "ui": "user interface",
    "ml": "machine learning", "ai": "artificial intelligence", "bi": "business intelligence",
    "hr": "human resources", "hrbp": "human resources business partner", "it": "IT",
    "rn": "registered nurse", "lpn": "licensed practical nurse", "hca": "healthcare assistant",
    "cna": "nursing assistant", "gp": "general practitioner", "hgv": "heavy goods vehicle",
    "lgv": "large goods vehicle", "cdl": "truck", "cnc": "CNC machine", "hvac": "HVAC",
    "pa": "personal assistant", "ea": "executive assistant", "vp": "vice president",
    "cfo": "chief financial officer", "cto": "chief technology officer",
    "ceo": "chief executive officer", "coo": "chief operating officer", "pm": "project manager",
    "seo": "search engine optimisation", "sdr": "sales development representative",
    "bdr": "business development representative", "csm": "customer success manager",
    "dba": "database administrator", "send": "special needs",
}
#: A title that is only one of these before its comma takes its words from after the comma.
GENERIC_HEADS = frozenset("""manager director head lead officer specialist scientist engineer
analyst consultant coordinator associate executive advisor adviser assistant supervisor
administrator developer designer technician representative partner""".split())
#: Seniority words that are the job itself when they end the title ("Sales Associate",
#: "Team Lead", "Marketing Intern").
_HEAD_SENIORITY = frozenset({"associate", "lead", "intern", "apprentice", "trainee", "graduate",
                             "contractor"})
_BRACKETS = re.compile(r"[\(\[\{][^\)\]\}]*[\)\]\}]?")
_SPLIT = re.compile(r"\s+[-–—|/@]\s+|\s*[,;:]\s*|\s+at\s+|\s+in\s+(?=[A-Z])")
_TOKEN = re.compile(r"[A-Za-z][A-Za-z&+.'-]*")


def normalise_title(title: str) -> str:
    """The occupation words of a posting title: "Senior Backend Engineer (Remote) - Berlin"
    -> "backend engineer"."""
    text = _BRACKETS.sub(" ", title or "")
    parts = [p for p in _SPLIT.split(text) if p and p.strip()]
    text = parts[0] if parts else text
    if len(parts) > 1 and _SENIORITY.sub(" ", parts[0]).strip().lower() in GENERIC_HEADS:
        text = f"{parts[1]} {parts[0]}"  # "Manager, Large Customer Sales": the tail says what
    words = []
    for word in _TOKEN.findall(text):
        low = word.lower().strip(".'")
        words.append(ABBREVIATIONS.get(low, word))
    text = " ".join(words)
    stripped = _SENIORITY.sub(" ", text)
    if words and words[-1].lower() in _HEAD_SENIORITY and \
            words[-1].lower() not in stripped.lower().split():
        stripped = f"{stripped} {words[-1]}"  # the head noun stays ("Sales Associate")
    stripped = re.sub(r"^\s*(of|to|for|the)\b", " ", stripped.strip(), flags=re.IGNORECASE)
    text = stripped if re.search(r"[A-Za-z]{2}", stripped) else text
    words = text.lower().split()
    if words:
        words[-1] = singular(words[-1])
    return " ".join(words)


@dataclass(frozen=True)
class Occupation:
    code: str
    title: str
    summary: str
    tasks: tuple[str, ...] = ()
    esco_titles: tuple[str, ...] = ()  # the ESCO occupations tied to this one
    skills: tuple[str, ...] = ()  # terms real postings near this occupation ask for

    @property
    def source_line(self) -> str:
        return f"O*NET {self.code} {self.title}"


@dataclass(frozen=True)
class Resolution:
    query: str
    normalised: str
    occupation: Occupation | None  # None: no occupation is close enough
    confidence: float
    matched_name: str = ""
    alternatives: tuple[tuple[str, float], ...] = field(default_factory=tuple)
    #: The ESCO occupation whose title the query matches closely (its definition is more
    #: specific than the O*NET profile: "Steiner school teacher"), else None.
    esco_title: str | None = None
    esco_description: str = ""

    @property
    def code(self) -> str | None:
        return self.occupation.code if self.occupation else None


class OccupationResolver:
    """Nearest-names vote over the bundled occupation index, checked against the O*NET titles
    and profiles themselves.

    Score of an occupation = ``VOTE`` x its share of the nearest ESCO / posting names' vote
    + its best O*NET title similarity + ``PROFILE`` x the similarity to its profile text
    + ``HEAD`` when the title's head noun is in the O*NET title + ``BASE`` for a base
    occupation (``.00``, not a specialty) - ``NO_TASKS`` for an old code without tasks. The
    weights were chosen on one half of the labelled titles and checked on the other
    (docs/benchmarks.md).
    """

    VOTE, PROFILE, HEAD, BASE, NO_TASKS = 0.3, 1.0, 0.1, 0.03, 1.0
    #: An ESCO label at least this close to the query lends its definition to the JD.
    ESCO_MATCH = 0.85

    def __init__(self, occupations: dict[str, Occupation], names: list[dict],
                 vectors: np.ndarray, profiles: np.ndarray, embedder,
                 esco: list[dict] | None = None):
        self.occupations = occupations
        self.codes = list(occupations)
        index = {code: i for i, code in enumerate(self.codes)}
        self.names = names
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self.profiles = np.asarray(profiles, dtype=np.float32)
        self.embedder = embedder
        self.esco = esco or []
        self.name_code = np.array([index[n["code"]] for n in names], dtype=np.intp)
        self.is_onet = np.array([n["source"] == "onet" for n in names])
        self.voters = np.where(~self.is_onet)[0]
        self.onet_names = np.where(self.is_onet)[0]
        self.base = np.array([c.endswith(".00") for c in self.codes])
        self.has_tasks = np.array([bool(occupations[c].tasks) for c in self.codes])
        self.title_words = [_word_set(occupations[c].title) for c in self.codes]
        self._exact: dict[str, list[int]] = {}
        for i, entry in enumerate(names):
            self._exact.setdefault(entry["name"], []).append(i)
        self._cache: dict[str, Resolution] = {}

    @classmethod
    def load(cls, embedder, folder: Path | None = None) -> OccupationResolver:
        folder = Path(folder or OCCUPATIONS_DIR)
        esco_path = folder / "esco.json"
        return cls(load_occupations(folder), json.loads((folder / "names.json").read_text()),
                   _dequantise(np.load(folder / "names.npy")),
                   _dequantise(np.load(folder / "profiles.npy")), embedder,
                   json.loads(esco_path.read_text()) if esco_path.is_file() else None)

    def _embed(self, texts: list[str]) -> np.ndarray:
        vectors = np.asarray(self.embedder.encode(texts), dtype=np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    def resolve(self, title: str) -> Resolution:
        return self.resolve_many([title])[0]

    def resolve_many(self, titles: list[str]) -> list[Resolution]:
        todo = [t for t in dict.fromkeys(titles) if t not in self._cache]
        if todo:
            normalised = [normalise_title(t) or t.lower() for t in todo]
            queries = self._embed(normalised)
            name_sims = queries @ self.vectors.T
            profile_sims = queries @ self.profiles.T
            for title, norm, sims, prof in zip(todo, normalised, name_sims, profile_sims,
                                               strict=True):
                self._cache[title] = self._score(title, norm, sims, prof)
        return [self._cache[t] for t in titles]

    def _score(self, title: str, norm: str, sims: np.ndarray, prof: np.ndarray) -> Resolution:
        sims = sims.copy()
        for i in self._exact.get(norm, ()):  # the same words as a known name
            sims[i] = 1.0
        voter_sims = sims[self.voters]
        k = min(NEIGHBOURS, len(voter_sims) - 1)
        top = np.argpartition(-voter_sims, k)[:k]
        best_sim = float(voter_sims[top].max())
        votes: dict[int, float] = {}
        matched: dict[int, str] = {}
        for i in top[np.argsort(-voter_sims[top])]:
            name = int(self.voters[i])
            code = int(self.name_code[name])
            votes[code] = votes.get(code, 0.0) + float(np.exp((voter_sims[i] - best_sim) / 0.05))
            matched.setdefault(code, self.names[name]["name"])
        total = sum(votes.values()) or 1.0
        title_sim = np.full(len(self.codes), -1.0, dtype=np.float32)
        np.maximum.at(title_sim, self.name_code[self.onet_names], sims[self.onet_names])
        head = norm.split()[-1] if norm.split() else ""
        candidates = set(votes) | set(np.argsort(-title_sim)[:15].tolist()) | \
            set(np.argsort(-prof)[:15].tolist())
        heads = [j for j, words in enumerate(self.title_words) if head in words]
        if heads:
            heads_arr = np.array(heads)
            candidates |= set(heads_arr[np.argsort(-title_sim[heads_arr])[:20]].tolist())

        def score(j: int) -> float:
            return (self.VOTE * votes.get(j, 0.0) / total + float(title_sim[j])
                    + self.PROFILE * float(prof[j]) + self.HEAD * (j in heads)
                    + self.BASE * bool(self.base[j]) - self.NO_TASKS * (not self.has_tasks[j]))

        ranked = sorted(candidates, key=lambda j: -score(j))
        best = ranked[0]
        own = sims[self.name_code == best]  # how close the chosen occupation's own names are
        closeness = float(own.max()) if own.size else float(title_sim[best])
        confidence = float(np.clip(closeness * (0.6 + 0.4 * votes.get(best, 0.0) / total), 0, 1))
        code = self.codes[best]
        occupation = self.occupations[code] if confidence >= MIN_CONFIDENCE else None
        alternatives = tuple((self.codes[j], round(score(j), 3)) for j in ranked[1:4])
        esco_title, esco_description = None, ""
        if occupation is not None and self.esco:
            for i in top[np.argsort(-voter_sims[top])]:
                entry = self.names[int(self.voters[i])]
                if "esco" in entry and voter_sims[i] >= self.ESCO_MATCH \
                        and entry["code"] == code:  # its definition must be of this occupation
                    found = self.esco[entry["esco"]]
                    esco_title, esco_description = found["title"], found["description"]
                    break
        return Resolution(title, norm, occupation, round(confidence, 3),
                          matched.get(best, self.occupations[code].title), alternatives,
                          esco_title, esco_description)


def _word_set(title: str) -> set[str]:
    found = re.findall(r"[a-z]+", title.lower())
    return set(found) | {singular(w) for w in found}


_NOT_PLURAL = frozenset({"sales", "analytics", "logistics", "physics", "news", "operations",
                         "services", "relations", "economics", "statistics", "mathematics"})


def singular(word: str) -> str:
    if word in _NOT_PLURAL:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def quantise(vectors: np.ndarray) -> np.ndarray:
    """Unit vectors as int8 (x127): half the bytes of float16, cosine error < 0.01."""
    return np.clip(np.round(np.asarray(vectors, dtype=np.float32) * 127), -127, 127
                   ).astype(np.int8)


def _dequantise(stored: np.ndarray) -> np.ndarray:
    if stored.dtype == np.int8:
        vectors = stored.astype(np.float32) / 127.0
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return stored.astype(np.float32)


@lru_cache(maxsize=4)
def _occupations_cached(folder: str) -> dict[str, Occupation]:
    rows = json.loads((Path(folder) / "occupations.json").read_text())
    return {row["code"]: Occupation(code=row["code"], title=row["title"],
                                    summary=row["summary"], tasks=tuple(row["tasks"]),
                                    esco_titles=tuple(row.get("esco_titles", ())),
                                    skills=tuple(row.get("skills", ()))) for row in rows}


def load_occupations(folder: Path | None = None) -> dict[str, Occupation]:
    return _occupations_cached(str(Path(folder or OCCUPATIONS_DIR)))


LABELLED_TITLES = OCCUPATIONS_DIR / "labelled_titles.csv"
MUST_RESOLVE = ("Senior Backend Engineer", "Site Reliability Engineer", "Forklift Operator",
                "Customer Success Manager")


def read_labelled_titles(path: Path | None = None) -> list[tuple[str, tuple[str, ...], str]]:
    """(title, accepted O*NET codes, group) of the hand-labelled evaluation titles. The index
    is never built from them."""
    import csv

    with open(path or LABELLED_TITLES, newline="", encoding="utf-8") as handle:
        return [(row["title"], tuple(row["onet_codes"].split("|")), row["group"])
                for row in csv.DictReader(handle)]


def _same_occupation(code: str, accepted: tuple[str, ...],
                     occupations: dict[str, Occupation]) -> bool:
    """Right when the code is accepted, or is an accepted code's twin: O*NET lists some
    occupations under an old and a new code with the same title."""
    if code in accepted:
        return True
    title = occupations[code].title.lower() if code in occupations else None
    return title is not None and any(
        a in occupations and occupations[a].title.lower() == title for a in accepted)


def evaluate_resolver(resolver: OccupationResolver, path: Path | None = None) -> dict:
    rows = read_labelled_titles(path)
    found = resolver.resolve_many([title for title, _, _ in rows])
    wrong, by_group = [], {}
    for (title, accepted, group), resolution in zip(rows, found, strict=True):
        ok = resolution.code is not None and _same_occupation(resolution.code, accepted,
                                                              resolver.occupations)
        total, right = by_group.get(group, (0, 0))
        by_group[group] = (total + 1, right + ok)
        if not ok:
            wrong.append({"title": title, "expected": accepted[0],
                          "got": resolution.code, "got_title": (
                              resolution.occupation.title if resolution.occupation else None),
                          "confidence": resolution.confidence})
    must = {t: next(r.code for r, (title, _, _) in zip(found, rows, strict=True)
                    if title == t) for t in MUST_RESOLVE if t in {r[0] for r in rows}}
    return {"n": len(rows), "accuracy": round(1 - len(wrong) / max(len(rows), 1), 4),
            "by_group": {g: round(r / t, 3) for g, (t, r) in sorted(by_group.items())},
            "must_resolve": {t: t not in {w["title"] for w in wrong} for t in must},
            "wrong": wrong}
