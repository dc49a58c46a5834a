"""Role heads bootstrapped from generated examples: fitting, the serving rule, and
``hirebot train role`` end to end on the bundled generator and matcher."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bot.cli import main
from bot.config import Settings
from bot.services.model_service import ModelService
from bot.services.role_heads import head_path, serving_head
from models.matching.evaluation import auc
from models.matching.role_head import KINDS, RoleHead, calibrate, fit_head
from tests.test_role_screening import BACKEND_CV, THREAD_JD


def _examples(seed: int = 0, n: int = 40, dim: int = 384):
    rng = np.random.default_rng(seed)
    direction = rng.normal(size=dim)
    x = rng.normal(size=(n, dim)) * 0.5
    y = np.array([1] * (n // 2) + [0] * (n - n // 2))
    x[y == 1] += direction * 0.3
    return x / np.linalg.norm(x, axis=1, keepdims=True), y


@pytest.mark.parametrize("kind", KINDS)
def test_a_head_learns_its_examples_and_survives_save_and_load(kind, tmp_path):
    x, y = _examples()
    head = calibrate(fit_head("DevOps Engineer", kind, x, y), x, y)
    assert auc(head.margin(x), y) > 0.95
    path = head.save(tmp_path / "head.json")
    loaded = RoleHead.load(path)
    assert loaded.probability(x).tobytes() == head.probability(x).tobytes()
    with pytest.raises(ValueError, match="examples of the role and of other roles"):
        fit_head("DevOps Engineer", kind, x, np.ones(len(y), dtype=int))


def test_a_head_serves_its_role_only_when_it_passed_its_gate(tmp_path):
    settings = Settings(data_dir=tmp_path)
    service = ModelService(settings)
    documents = service.read_upload("sam.txt", BACKEND_CV.encode())
    # the JD screening writes for a bare title (passed in here, so the test need not wait for
    # the generator)
    pooled = service.screen("Backend Engineer", documents, THREAD_JD, "generated")[0]
    assert pooled["match"]["driver"] in {"jd match", "category"}

    from models.screening.blinding import blind_text

    # what serving reads: the CV blinded (its name line removed) before any model sees it
    cv_vector = service.matcher.encode_cvs([blind_text(BACKEND_CV)])[0].vector
    head = RoleHead("Backend Engineer", "logistic", [float(v) for v in cv_vector * 4.0], -1.0,
                    serves=False, figures={"logistic_head_auc": 0.5, "pooled_auc": 0.9},
                    data={"layout": service.matcher.layout})
    head.save(head_path(settings, "backend  engineer"))  # the same title, however written
    assert serving_head(settings, "Backend Engineer") is None  # did not pass: not served
    assert service.screen("Backend Engineer", documents, THREAD_JD, "generated")[0][
        "score"] == pooled["score"]

    head.serves = True
    head.save(head_path(settings, "Backend Engineer"))
    served = service.screen("Backend Engineer", documents, THREAD_JD, "generated")[0]
    assert served["match"]["driver"] == "role head"
    assert served["score"] == round(float(head.probability(cv_vector[None])[0]), 3)
    assert served["evidence"]["matched"] == pooled["evidence"]["matched"]  # skills unchanged
    head.data = {"layout": "another-encoding"}  # vectors made another way: not served
    head.save(head_path(settings, "Backend Engineer"))
    assert service.screen("Backend Engineer", documents, THREAD_JD, "generated")[0]["match"][
        "driver"] != "role head"
    other = service.screen("Data Scientist", documents, THREAD_JD, "generated")[0]
    assert other["match"]["driver"] != "role head"  # a head serves its own title only
    # a JD the recruiter gave says more than the title: the pooled score serves
    threaded = service.screen("Backend Engineer", documents, THREAD_JD, "thread")[0]
    assert threaded["match"]["driver"] != "role head"


def test_train_role_refuses_a_bad_title_with_a_message(capsys):
    assert main(["train", "role", "   "]) == 2
    assert "role title" in capsys.readouterr().err


@pytest.mark.slow
def test_train_role_writes_a_measured_head_and_says_whether_it_serves(shared_data, capsys):
    # a title of no category the labelled CVs have: refused before any generation
    assert main(["train", "role", "Astronaut", "--synthetic", "2"]) == 2
    assert "could not be measured" in capsys.readouterr().err
    assert main(["train", "role", "DevOps Engineer", "--synthetic", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    figures = report["figures"]
    assert report["synthetic_per_side"] == 2 and len(report["contrasting_roles"]) == 6
    assert "DevOps Engineer" not in report["contrasting_roles"]
    assert figures["real_cvs_of_the_role"] >= 5
    for key in ("category_only_auc", "pooled_auc", "svm_head_auc", "logistic_head_auc"):
        assert 0.0 <= figures[key] <= 1.0
    bar = figures.get("out_of_fold_pooled_auc", figures["pooled_auc"])
    assert report["serves"] == (figures[f"{report['head']}_head_auc"] > bar)
    head = RoleHead.load(report["file"])
    assert head.serves == report["serves"] and len(head.coef) == 384
