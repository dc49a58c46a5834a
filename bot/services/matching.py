"""Role-aware verdicts: the category score and the CV-JD match score, combined, with evidence
named as ESCO skills.

HR screens for a role and its JD, not for an industry. When a JD is known -- the thread's JD,
``--jd FILE``, or one the generator writes for the title -- each CV's category score (the
screening model's calibrated P(fit)) and the matcher's P(match) are pooled in log-odds with the
weights ``hirebot train matcher`` fitted on held-out pairs, and the evidence says which of the
two drove the verdict. Matched / missing skills are the JD's ESCO skills the CV names or not,
each matched one with the CV line that shows it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from models.matching.pooling import EQUAL_WEIGHTS, combine
from models.screening.datasets import clean_text

JD_SOURCES = {"thread": "the thread's JD", "file": "the JD file",
              "generated": "a JD written for the title"}
MAX_SKILLS_SHOWN = 10


def apply_match(results: list[dict], texts: Sequence[str | None], jd_text: str, jd_source: str,
                matcher, thresholds, head=None) -> list[dict]:
    """Rescore ``results`` (one per document; ``texts[i]`` is None for an unreadable one) for
    the JD, in place, and return them. ``head``: the role's head, which gives the score when
    it beat the pooled score on real labelled CVs (``hirebot train role``)."""
    readable = [i for i, t in enumerate(texts) if t is not None and "error" not in results[i]]
    if not readable:
        return results
    bodies = [results[i].get("_body_vector") for i in readable]
    # the text as the screening model embedded it (and as the matcher was trained on)
    cvs = matcher.encode_cvs([clean_text(texts[i]) for i in readable],
                             None if any(b is None for b in bodies) else bodies)
    jds = [matcher.encode_jd(jd_text)]
    pairs = [(k, 0) for k in range(len(readable))]
    features = matcher.features(cvs, jds, pairs)
    probabilities = matcher.probability(cvs, jds, pairs, features)
    blobs = matcher.pair_blobs(cvs, jds, pairs, features)  # kept for a thumbs vote
    jd_skills = list(jds[0].skills)
    weights = matcher.metadata.get("combined", EQUAL_WEIGHTS)
    by_head = head.probability(np.stack([c.vector for c in cvs])) if head is not None else None
    for k, i in enumerate(readable):
        result = results[i]
        category_score = result["score"]
        match = round(float(probabilities[k]), 3)  # pooled as shown: the reply adds up
        score, driver = combine(category_score, match, weights)
        if by_head is not None:
            score, driver = round(float(by_head[k]), 3), "role head"
        shown = {m.skill.name: m.line for m in matcher.taxonomy.find(texts[i])}
        matched = [s for s in jd_skills if s in shown]
        missing = [s for s in jd_skills if s not in shown]
        result.update({
            "score": score,
            "verdict": thresholds.verdict(score),
            "match": {"score": match, "category_score":
                      category_score, "driver": driver, "jd": JD_SOURCES[jd_source],
                      "model": matcher.info,
                      **({"role_head": {"kind": head.kind, "figures": head.figures}}
                         if head is not None else {})},
            "evidence": {
                "matched": matched[:MAX_SKILLS_SHOWN],
                "missing": missing[:MAX_SKILLS_SHOWN],
                "snippets": _lines_for(matched, shown),
                "driver": driver,
            },
            "_match_pair": blobs[k], "_match_layout": matcher.layout,
        })
    return results


def _lines_for(matched: Sequence[str], shown: dict[str, str], limit: int = 3) -> list[str]:
    """Distinct CV lines that show matched skills, most skills first."""
    lines: dict[str, int] = {}
    for skill in matched:
        line = shown.get(skill)
        if line:
            lines[line] = lines.get(line, 0) + 1
    order = sorted(lines, key=lambda line: -lines[line])
    return order[:limit]

