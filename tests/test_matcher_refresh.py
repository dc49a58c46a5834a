"""Recruiter feedback for the matcher: votes stored as derived pairs, the refresh gate, and JD
drafts ranked by the team's votes.

The gate tests use the bundled matcher and its shipped derived rows; team votes are made from
those rows with labels doctored so each decision is known in advance: reversed labels make the
candidate rank the shipped test triples worse (rejected); true labels make it better than a
doctored active version (promoted).
"""

from __future__ import annotations

import numpy as np
import pytest

from bot.config import Settings
from bot.services.model_service import ModelService
from bot.services.refresh import refresh_kinds
from bot.services.team_data import match_label_from_vote, record_vote_label
from bot.services.versions import registry_for
from bot.storage import Store
from models.common.registry import BUNDLED, Registry
from models.matching.features import FEATURE_NAMES
from models.matching.feedback_rank import feedback_order
from models.matching.matcher import MATCHER_DIR
from models.matching.pair_rows import load_shipped_rows, pair_blob, rows_from_blobs
from models.refresh.matcher_refresh import (
    TeamPair,
    load_for_refresh,
    refresh_matcher,
    score_rows,
)
from tests.test_matching import BACKEND_CV, BACKEND_JD, NURSE_JD


@pytest.fixture(scope="module")
def shipped():
    return load_shipped_rows(MATCHER_DIR)


@pytest.fixture(scope="module")
def bundled():
    return load_for_refresh(MATCHER_DIR)


def votes_from_shipped(shipped, matcher, *, count: int, seed: int, reversed_labels: bool,
                       layout: str | None = None) -> list[TeamPair]:
    """Votes on shipped training triples' pairs: a hard triple's better pair is a match and
    its worse pair is not (or the other way round, ``reversed_labels``). Clean votes come
    from triples the matcher already ranks right."""
    rng = np.random.default_rng(seed)
    u = score_rows(matcher, shipped.pairs)
    train = shipped.train
    right = u[train[:, 0]] > u[train[:, 1]]
    pool = np.flatnonzero(~right if reversed_labels else right)
    picked = train[rng.choice(pool, count, replace=False)]
    out = []
    for k, (better, worse) in enumerate(picked):
        for row, label in ((better, 1), (worse, 0)):
            p = shipped.pairs
            out.append(TeamPair(f"test:{seed}:{k}:{label}", 1 - label if reversed_labels
                                else label, pair_blob(p.features[row], p.cv_vectors[row],
                                                      p.jd_vectors[row]),
                                layout or matcher.layout))
    return out


# ------------------------------------------------------------------------------ stored votes
def test_votes_on_verdicts_against_a_jd_become_match_pairs_stored_as_features_only(tmp_path):
    assert match_label_from_vote("fit", "up") == 1
    assert match_label_from_vote("no_fit", "down") == 1
    assert match_label_from_vote("fit", "down") == 0
    assert match_label_from_vote("no_fit", "up") == 0
    assert match_label_from_vote("maybe", "up") is None
    store = Store(tmp_path / "hirebot.db")
    f = np.linspace(0, 1, len(FEATURE_NAMES), dtype=np.float32)
    cv, jd = np.full(384, 0.05, dtype=np.float32), np.full(384, -0.05, dtype=np.float32)
    blob = pair_blob(f, cv, jd)
    sid = store.add_screening(channel="C", thread_ts="1", file_name="alex.pdf",
                              role="Backend  Engineer", verdict="fit", score=0.8,
                              category="Information Technology", model_version="v",
                              match_pair=blob, match_layout="layout-1")
    record_vote_label(store, sid, "down")  # a wrong "fit": not a match
    [row] = store.match_pairs()
    assert set(row) == {"key", "label", "features", "layout", "role", "created_at"}
    assert row["label"] == 0 and row["layout"] == "layout-1"
    assert row["role"] == "backend engineer"  # grouped by the title, whatever its spacing
    assert len(row["features"]) == 2 * (len(FEATURE_NAMES) + 2 * 384)  # numbers, no text
    rows = rows_from_blobs([row["features"]], 384)
    assert np.allclose(rows.features[0], f, atol=1e-3)
    assert np.allclose(rows.cv_vectors[0], cv, atol=1e-3)
    assert store.match_pairs("backend engineer") and not store.match_pairs("nurse")
    record_vote_label(store, sid, "up")  # changed mind: the same pair, now a match
    [row] = store.match_pairs()
    assert row["label"] == 1
    assert store.labelled_cvs() == []  # no classifier features were stored with it
    assert store.clear_team_data(cvs=True, postings=False)["match_votes"] == 1
    assert store.match_pairs() == []
    store.close()


# ------------------------------------------------------------------------------ the gate
def test_matcher_gate_rejects_reversed_votes_and_promotes_true_ones(tmp_path, shipped,
                                                                    bundled):
    registry = Registry(tmp_path, "matcher", MATCHER_DIR)
    serving = ModelService(Settings(data_dir=tmp_path))  # a running bot, serving the bundled
    assert serving.matcher.version == bundled.version
    assert serving.matcher.layout == bundled.layout  # votes it stores are ones a refresh reads
    doctored = votes_from_shipped(shipped, bundled, count=300, seed=1, reversed_labels=True)

    worse = refresh_matcher(registry, doctored)
    assert worse.decision == "rejected", worse.summary()
    act, cand = worse.figures["active"], worse.figures["candidate"]
    assert cand["hard_pairwise_accuracy"] < act["hard_pairwise_accuracy"] - 0.01
    assert registry.active_version() == BUNDLED
    assert not list(registry.root.glob("tmp-*"))

    # a tolerance that accepts anything still does not promote a candidate better on nothing
    nothing = refresh_matcher(registry, doctored, tolerance=1.0, force=True)
    assert nothing.decision == "rejected" and "learnt nothing new" in nothing.reason
    assert registry.active_version() == BUNDLED
    # a doctored matcher in service (as if the gate had let it through) ...
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("models.refresh.pipeline.improved_figures", lambda figures: ["forced"])
        bad = refresh_matcher(registry, doctored, tolerance=1.0, force=True)
    assert bad.decision == "promoted" and registry.active_version() == bad.candidate_version
    # ... is replaced by one trained on true votes, which ranks the held-out triples better
    clean = votes_from_shipped(shipped, bundled, count=150, seed=2, reversed_labels=False)
    better = refresh_matcher(registry, clean)
    assert better.decision == "promoted", better.summary()
    assert better.figures["candidate"]["hard_pairwise_accuracy"] > better.figures["active"][
        "hard_pairwise_accuracy"]
    assert "team_auc" in better.figures["candidate"]  # the team's held-out votes count
    card = (registry.active_dir() / "MODEL_CARD.md").read_text()
    assert "Gate" in card and "hard_pairwise_accuracy" in card

    # the running bot switches to the promoted version between jobs ...
    serving.sync_active()
    assert serving.matcher.version == better.candidate_version
    # ... and a new one loads it (the registry's pointer, not the bundled folder)
    settings = Settings(data_dir=tmp_path)
    assert registry_for(settings, "matcher").active_version() == better.candidate_version
    service = ModelService(settings)
    assert service.matcher.version == better.candidate_version
    assert "combined" in service.matcher.metadata  # the pooling weights came along

    again = refresh_matcher(registry, clean)
    assert again.decision == "skipped" and "no new votes on matches" in again.reason
    assert registry.rollback() == bad.candidate_version


def test_matcher_refresh_needs_both_kinds_of_vote_and_ignores_another_layout(
        tmp_path, shipped, bundled):
    registry = Registry(tmp_path, "matcher", MATCHER_DIR)
    assert refresh_matcher(registry, []).decision == "skipped"
    only_matches = [v for v in votes_from_shipped(shipped, bundled, count=5, seed=3,
                                                  reversed_labels=False) if v.label == 1]
    outcome = refresh_matcher(registry, only_matches)
    assert outcome.decision == "skipped" and "needs both" in outcome.reason
    foreign = votes_from_shipped(shipped, bundled, count=5, seed=4, reversed_labels=False,
                                 layout="an-older-matcher")
    outcome = refresh_matcher(registry, foreign)
    assert outcome.decision == "skipped" and "older matcher" in outcome.reason
    assert registry.active_version() == BUNDLED


def test_the_refresh_process_reads_the_stored_votes_and_respects_a_pinned_matcher(
        tmp_path, shipped, bundled):
    from bot.services.refresh_child import run_refresh

    settings = Settings(data_dir=tmp_path)
    store = Store.open(settings)
    for vote in votes_from_shipped(shipped, bundled, count=60, seed=5, reversed_labels=False):
        store.set_match_pair(vote.key, vote.label, vote.blob, vote.layout, "Java Developer")
    store.close()
    outcome = run_refresh("matcher", settings)
    assert outcome.decision in {"promoted", "rejected"}, outcome.summary()
    assert "team_auc" in outcome.figures["candidate"]
    pinned = run_refresh("matcher", Settings(data_dir=tmp_path, matcher_dir=MATCHER_DIR))
    assert pinned.decision == "skipped" and "HIREBOT_MATCHER_DIR" in pinned.reason


def test_the_classifier_refresh_brings_the_matcher_refresh_along():
    assert refresh_kinds(["classifier"]) == ["classifier", "matcher"]
    assert refresh_kinds(["generator"]) == ["generator"]
    assert refresh_kinds(["classifier", "matcher", "generator"]) == [
        "classifier", "matcher", "generator"]


# ------------------------------------------------------------------------------ best-of-n
def test_jd_drafts_are_ranked_by_the_team_votes_for_the_title(tmp_path, embedder):
    service = ModelService(Settings(data_dir=tmp_path))
    matcher = service.matcher
    cv = matcher.encode_cvs([BACKEND_CV])[0]
    nurse_cv = matcher.encode_cvs(["Registered Nurse\nPatient care, wound care and medication "
                                   "on surgical wards for 6 years."])[0]
    drafts_text = [NURSE_JD, BACKEND_JD]
    jds = matcher.encode_jds(drafts_text)
    votes = []
    for k, (side, label) in enumerate(((cv, 1), (nurse_cv, 0))):
        blob = matcher.pair_blobs([side], jds[1:], [(0, 0)])[0]
        votes.append({"key": f"v{k}", "label": label, "features": blob,
                      "layout": matcher.layout})

    class Draft:
        def __init__(self, text):
            self.text = text

    drafts = [Draft(t) for t in drafts_text]
    ranked, by_votes = service.rank_by_votes(drafts, votes)
    assert by_votes and [d.text for d in ranked] == [BACKEND_JD, NURSE_JD]
    # the other way round when the team matched the nurse and not the engineer
    flipped = [{**v, "label": 1 - v["label"]} for v in votes]
    ranked, _ = service.rank_by_votes(drafts, flipped)
    assert [d.text for d in ranked] == [NURSE_JD, BACKEND_JD]
    # without a matching vote (or of another layout) the generator's order stands
    assert service.rank_by_votes(drafts, [votes[1]]) == (drafts, False)
    assert service.rank_by_votes(drafts, [{**v, "layout": "old"} for v in votes]) == (
        drafts, False)
    rows = rows_from_blobs([v["features"] for v in votes], 384)
    vectors = np.stack([j.vector for j in jds])
    assert feedback_order(matcher.weights, rows, np.array([1, 0]), vectors) == [1, 0]
