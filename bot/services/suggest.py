"""CV -> roles -> JD (GIRL's generative recommendation): ``hirebot suggest CV``.

The top roles are the categories the screening model gives the CV most probability, each
scored as a role title the way screening scores it. For the best one the generator writes
several drafts in one batch whose ``must`` terms are the CV's own ESCO skills (so the JD is
grounded in the occupation and asks for what this candidate shows), and the matcher ranks the
drafts: the one it rates the best fit for this CV comes first.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.screening.taxonomy import category_name

ROLES = 3
MUST_SKILLS = 4
DRAFTS = 3


@dataclass
class Suggestion:
    roles: list[tuple[str, float]]      # (role title, category score), best first
    skills: list[str]                   # the CV's ESCO skills the JD was asked to require
    drafts: list                        # models.generation.generator.Draft, best match first
    match_scores: list[float]           # P(match) of each draft for this CV

    def as_dict(self) -> dict:
        best = self.drafts[0]
        return {"roles": [{"role": r, "score": s} for r, s in self.roles],
                "must": self.skills,
                "jd": {"title": best.title, "text": best.text, "grounded_on": best.grounded_on,
                       "match": self.match_scores[0]},
                "other_drafts_match": self.match_scores[1:]}


def suggest(models, text: str, *, seed: int = 0) -> Suggestion:
    """``models`` is the ``ModelService``; ``text`` a CV's extracted text."""
    from models.screening.classifier import encode_cvs
    from models.screening.datasets import clean_text

    screening = models.screening
    enc = encode_cvs([clean_text(text)], screening.embedder,
                     title_words=screening.classifier.title_words)
    probs = screening.classifier.predict_proba(enc)[0]
    order = probs.argsort()[::-1][:ROLES]
    titles = [category_name(screening.classifier.classes[i]) for i in order]
    scores = screening.pair_scores([text], titles, [(0, j) for j in range(len(titles))])
    roles = sorted(zip(titles, (round(float(s), 3) for s in scores), strict=True),
                   key=lambda r: -r[1])
    matcher = models.matcher
    from models.generation.request import MAX_TERM_CHARS, TitleError

    skills = [s for s in matcher.taxonomy.names_in(text)
              if len(s) <= MAX_TERM_CHARS and not set(",;") & set(s)][:MUST_SKILLS]
    request = roles[0][0] + (f"; must: {', '.join(skills)}" if skills else "")
    try:
        drafts = models.write_jds(request, seed=seed, n=DRAFTS)
    except TitleError:  # a term the request syntax refuses: the bare title still works
        skills, drafts = [], models.write_jds(roles[0][0], seed=seed, n=DRAFTS)
    cvs = matcher.encode_cvs([clean_text(text)], enc.body_emb[:1])  # the vector made above
    jds = matcher.encode_jds([d.text for d in drafts], [d.title for d in drafts])
    match = matcher.probability(cvs, jds, [(0, j) for j in range(len(drafts))])
    ranked = sorted(range(len(drafts)), key=lambda j: -match[j])
    return Suggestion(roles, skills, [drafts[j] for j in ranked],
                      [round(float(match[j]), 3) for j in ranked])
