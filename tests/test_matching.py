"""The CV-JD matcher and the ESCO skill taxonomy, on real MiniLM and the bundled data."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from models.common.esco_skills import SkillTaxonomy, display_label, usable_label
from models.matching.features import (
    FEATURE_NAMES,
    chunks,
    cv_years,
    digest_line,
    encode_sides,
    jd_years,
    pair_features,
    seniority,
    split_body,
)
from models.matching.matcher import Matcher, TfidfSpace
from models.matching.training import train_matcher, train_weights

BACKEND_CV = """Alex Doe
Senior Backend Engineer
Over 8 years of experience building distributed systems.
Skills: Go, Python, Kubernetes, Kafka, PostgreSQL, Redis, Terraform, SQL
Designed REST APIs and event pipelines; ran PostgreSQL and Redis in production.
2016 - 2024 Backend Engineer, Acme Payments"""
BACKEND_JD = """Backend Engineer
We need a backend engineer with 5+ years of experience.
You will build services in Python and Go, design SQL schemas on PostgreSQL and run them.
Requirements: Python, SQL, PostgreSQL, distributed systems."""
NURSE_JD = """Staff Nurse
Deliver patient care on a busy surgical ward; administer medication; keep care records.
Requirements: registered nurse, patient care, medication administration, 2 years on a ward."""
IOS_JD = """iOS Developer
Build our iPhone app in Swift and Objective-C; publish to the App Store; 3+ years of iOS."""


@pytest.fixture(scope="module")
def taxonomy() -> SkillTaxonomy:
    return SkillTaxonomy.load()


# ------------------------------------------------------------------------------ taxonomy
def test_taxonomy_finds_named_skills_with_their_line_and_no_generic_words(taxonomy):
    text = "Worked with tools and saved time.\nSkills: Python, PostgreSQL, SQL, Java\n" \
           "Led project management for machine learning products."
    found = taxonomy.find(text)
    names = [m.skill.name for m in found]
    assert {"Python", "PostgreSQL", "SQL", "Java", "project management",
            "machine learning"} <= set(names)
    assert not {"tools", "time", "technical", "responsible"} & {n.lower() for n in names}
    python = next(m for m in found if m.skill.name == "Python")
    assert python.line == "Skills: Python, PostgreSQL, SQL, Java"
    assert python.skill.uri.startswith("http://data.europa.eu/esco/skill/")


def test_taxonomy_is_case_sensitive_for_capitalised_labels_and_skips_contact_lines(taxonomy):
    assert "Java" not in taxonomy.names_in("java beans and coffee")
    found = taxonomy.find("Python developer - reach me at a@b.com")
    assert found and found[0].line == ""  # the skill counts, the line is not quoted


def test_taxonomy_reads_lower_case_tech_and_skips_initials_generic_phrases_and_religions(
        taxonomy):
    assert taxonomy.names_in("skills: python, sql") == ["Python", "SQL"]
    assert taxonomy.names_in("John R. Smith, R&D lead") == []
    assert taxonomy.names_in("I keep company records, meet deadlines and solve problems") == []
    assert taxonomy.names_in("Member of a church choir; studied Islam and Christianity") == []
    assert "Source" not in taxonomy.names_in("Source code reviews for the team")


def test_label_rules():
    assert display_label("Python (computer programming)") == "Python"
    assert not usable_label("energy", lambda w: 5.2)
    assert usable_label("carpentry", lambda w: 2.9)
    assert not usable_label("LESS", lambda w: 1.0)


# ------------------------------------------------------------------------------ features
def test_chunks_keep_whole_lines_and_cap_their_number():
    text = "\n".join(f"line {i} " + "word " * 30 for i in range(100))
    parts = chunks(text)
    assert 1 < len(parts) <= 8
    assert all(p.startswith("line ") for p in parts)


def test_a_long_cv_is_its_body_and_a_digest_of_the_skills_past_it(embedder, taxonomy):
    filler = "\n".join("Managed the weekly reporting cycle and the team's rota." for _ in range(30))
    long_cv = "Alex Doe\nBackend Engineer\n" + filler + "\nSkills: Python, SQL, PostgreSQL"
    head, tail = split_body(long_cv)
    assert len(head.split()) > 150 and "PostgreSQL" in tail  # past MiniLM's 256 tokens
    [side] = encode_sides([long_cv], embedder, taxonomy, kind="cv")
    assert side.chunk_vectors.shape[0] == 2  # body + digest
    digest = np.asarray(embedder.encode([digest_line(["Python", "SQL", "PostgreSQL"])]))[0]
    assert np.allclose(side.chunk_vectors[1], digest, atol=1e-5)
    assert {"Python", "SQL", "PostgreSQL"} <= set(side.skills)
    # screening's own embedding of the text, passed in, gives the same side without embedding
    # the CV again
    body = np.asarray(embedder.encode([long_cv]))
    [reused] = encode_sides([long_cv], embedder, taxonomy, kind="cv", body_vectors=body)
    assert np.allclose(reused.vector, side.vector, atol=1e-5)
    [short] = encode_sides([BACKEND_CV], embedder, taxonomy, kind="cv")
    assert short.chunk_vectors.shape[0] == 1  # all of it fits in the body: no digest


def test_years_and_seniority():
    assert cv_years("Over 7 years of development experience") == 7
    this_year = dt.date.today().year
    assert cv_years("Engineer 2015 - 2020\nLead 2020 - present") == this_year - 2015
    assert jd_years("You have 3-5 years of experience, ideally 5+ years") == 3
    assert seniority("Senior Backend Engineer") == 3
    assert seniority("Head of People") == 5
    assert seniority("Backend Engineer") is None


def test_pair_features_reward_the_fitting_jd(embedder, taxonomy):
    cvs = encode_sides([BACKEND_CV], embedder, taxonomy, kind="cv")
    jds = encode_sides([BACKEND_JD, NURSE_JD], embedder, taxonomy, kind="jd")
    good = pair_features(cvs[0], jds[0], 0.3)
    bad = pair_features(cvs[0], jds[1], 0.0)
    assert good.shape == (len(FEATURE_NAMES),)
    named = dict(zip(FEATURE_NAMES, good, strict=True))
    assert named["jd_skills_shown"] == 1.0  # Python, SQL, PostgreSQL all in the CV
    assert good[0] > bad[0] and good[4] > bad[4]


# ------------------------------------------------------------------------------ training
def _tiny_set(embedder, taxonomy):
    cvs_text = [BACKEND_CV, "Registered Nurse\nPatient care and medication on surgical wards "
                "for 6 years.\nSkills: patient care, wound care"]
    jds_text = [BACKEND_JD, NURSE_JD, IOS_JD]
    cvs = encode_sides(cvs_text, embedder, taxonomy, kind="cv")
    jds = encode_sides(jds_text, embedder, taxonomy, kind="jd")
    tfidf = TfidfSpace({"python": 0, "patient": 1, "care": 2, "swift": 3}, [1.0] * 4)
    triples = [(0, 0, 1), (0, 0, 2), (1, 1, 0), (1, 1, 2)]
    return cvs, jds, tfidf, triples


def test_pairwise_loss_decreases_and_ranks_the_training_triples(embedder, taxonomy):
    cvs, jds, tfidf, triples = _tiny_set(embedder, taxonomy)
    _, report = train_weights(tfidf, cvs, jds, triples, epochs=60)
    assert report.last_loss < report.first_loss
    assert report.train_pairwise_accuracy == 1.0


def test_scores_are_deterministic_and_survive_save_and_load(embedder, taxonomy, tmp_path):
    cvs, jds, tfidf, triples = _tiny_set(embedder, taxonomy)
    matcher, _ = train_matcher(tfidf, cvs, jds, triples, [(0, 0, 1), (0, 1, 0), (1, 1, 1),
                                                          (1, 0, 0)], embedder, epochs=40)
    matcher.taxonomy = taxonomy
    version = matcher.save(tmp_path)
    loaded = Matcher.load(tmp_path, embedder=embedder)
    assert loaded.version == version
    pairs = [(0, 0), (0, 1), (0, 2)]
    first = loaded.probability(loaded.encode_cvs([BACKEND_CV]), loaded.encode_jds(
        [BACKEND_JD, NURSE_JD, IOS_JD]), pairs)
    second = loaded.probability(loaded.encode_cvs([BACKEND_CV]), loaded.encode_jds(
        [BACKEND_JD, NURSE_JD, IOS_JD]), pairs)
    assert first.tobytes() == second.tobytes()
    assert np.allclose(first, matcher.probability(cvs, jds, pairs), atol=1e-3)
    assert first[0] > first[1]
