"""Role-aware verdicts through the service both front ends call: the bundled screening model,
the bundled matcher, the bundled generator writing a JD for a bare title."""

from __future__ import annotations

import json

import pytest

from bot.config import Settings
from bot.services.model_service import ModelService
from models.common.esco_skills import SkillTaxonomy
from models.matching.pooling import combine

BACKEND_CV = """Sam Rivera
Senior Backend Engineer
Over 8 years of experience building and running distributed backend systems.
Skills: Go, Python, Kubernetes, Kafka, PostgreSQL, Redis, Terraform, SQL
Experience
2019 - present Senior Backend Engineer, Northwind Payments
Designed Go and Python services behind REST APIs; Kafka event pipelines; PostgreSQL schemas.
Ran the services on Kubernetes with Terraform; on-call for production incidents and uptime.
2016 - 2019 Backend Engineer, Contoso Logistics
Built order-routing services in Python with PostgreSQL and Redis caching.
Education
BSc Computer Science"""
THREAD_JD = """Backend Engineer
You will design and build backend services in Python and Go and own their PostgreSQL data.
Requirements: 5+ years of backend development; Python; SQL; PostgreSQL; distributed systems.
Nice to have: Java."""
SIX_ROLES = ("Backend Engineer", "Site Reliability Engineer", "iOS Developer",
             "Frontend Engineer (React)", "Data Engineer", "Data Scientist")


@pytest.fixture(scope="module")
def service(tmp_path_factory) -> ModelService:
    return ModelService(Settings(data_dir=tmp_path_factory.mktemp("data")))


@pytest.fixture(scope="module")
def documents(service):
    return service.read_upload("sam_rivera.txt", BACKEND_CV.encode())


def test_a_thread_jd_gives_a_pooled_score_with_named_skill_evidence(service, documents):
    first = service.screen("Backend Engineer", documents, THREAD_JD, "thread")[0]
    again = service.screen("Backend Engineer", documents, THREAD_JD, "thread")[0]
    def shown(result: dict) -> str:
        return json.dumps({k: v for k, v in result.items() if not k.startswith("_")})

    assert shown(first) == shown(again)  # same inputs and versions: the same bytes
    match = first["match"]
    assert match["jd"] == "the thread's JD"
    weights = service.matcher.metadata["combined"]
    assert first["score"] == combine(match["category_score"], match["score"], weights)[0]
    assert first["evidence"]["driver"] in {"jd match", "category"}
    taxonomy = SkillTaxonomy.load()
    named = {s.name for s in taxonomy.skills}
    evidence = first["evidence"]["matched"] + first["evidence"]["missing"]
    assert evidence and set(evidence) <= named  # every item is an ESCO skill
    assert {"Python", "SQL", "PostgreSQL"} <= set(first["evidence"]["matched"])
    assert first["evidence"]["missing"] == ["Java"]
    assert any("PostgreSQL" in line for line in first["evidence"]["snippets"])


def test_six_roles_rank_the_backend_cv_as_a_recruiter_would(service, documents):
    """The issue's table: same CV, bare titles (the generator writes each role's JD)."""
    taxonomy = SkillTaxonomy.load()
    cv_skills = set(taxonomy.names_in(BACKEND_CV))
    scores, rows = {}, []
    for role in SIX_ROLES:
        result = service.screen(role, documents)[0]
        jd_skills = set(taxonomy.names_in(service.jd_for_title(role)))
        missing, matched = set(result["evidence"]["missing"]), set(result["evidence"]["matched"])
        assert missing <= jd_skills and matched <= jd_skills, role  # only what the JD asks
        assert not missing & cv_skills and matched <= cv_skills, role  # and the CV shows
        scores[role] = result["score"]
        rows.append((role, result["verdict"], result["score"], result["evidence"]["missing"]))
    for other in ("iOS Developer", "Frontend Engineer (React)"):
        assert scores["Backend Engineer"] > scores[other], rows
    assert scores["Site Reliability Engineer"] > scores["iOS Developer"], rows


@pytest.mark.xfail(strict=True, reason="the matcher's known gap (issue 13): with the CV's name "
                   "line blinded, Site Reliability Engineer scores 0.30 and Frontend 0.34 "
                   "(0.33 vs 0.32 before blinding, when the name line happened to tip it)")
def test_site_reliability_outranks_frontend_for_the_backend_cv(service, documents):
    sre = service.screen("Site Reliability Engineer", documents)[0]["score"]
    frontend = service.screen("Frontend Engineer (React)", documents)[0]["score"]
    assert sre > frontend


def test_suggest_gives_three_roles_and_a_jd_asking_for_the_cvs_skills(service, documents):
    from bot.services.suggest import suggest

    found = suggest(service, documents[0].text, seed=1)
    assert len(found.roles) == 3
    assert [s for _, s in found.roles] == sorted((s for _, s in found.roles), reverse=True)
    assert found.skills and set(found.skills) <= {"Python", "PostgreSQL", "SQL"} | set(
        SkillTaxonomy.load().names_in(BACKEND_CV))
    best = found.drafts[0]
    requirements = best.text.split("Requirements", 1)[1]
    assert all(skill in requirements for skill in found.skills)
    assert found.match_scores == sorted(found.match_scores, reverse=True)
    assert found.as_dict()["jd"]["title"] == best.title
