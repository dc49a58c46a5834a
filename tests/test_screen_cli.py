"""The `hirebot screen` contract, on real CV files and the bundled model."""

from __future__ import annotations

import json
import re
import zipfile

import pytest

from bot.cli import main
from bot.services import model_service
from tests.conftest import CVS

ACCOUNTANT_PDF = CVS / "01-Accountant.pdf"
ACCOUNTANT_DOCX = CVS / "01-Accountant.docx"
DESKTOP_DOCX = CVS / "01-Desktop_Support.docx"
OFFICE_PDF = CVS / "02-Office_Coordinator.pdf"
SAMPLE_TXT = CVS / "sample_resume.txt"
REAL_LOADER = model_service.load_screening_model


@pytest.fixture(autouse=True)
def _share_model(screening_model, monkeypatch):
    """Load the bundled model once per session, through the same loader the CLI uses."""
    monkeypatch.setattr(model_service, "load_screening_model",
                        lambda settings, folder=None, **_: screening_model)


def run_json(capsys, *args: str) -> tuple[int, list[dict], str]:
    code = main(["screen", *args, "--json"])
    out = capsys.readouterr()
    lines = [json.loads(line) for line in out.out.splitlines() if line.strip()]
    return code, lines, out.out


def test_json_contract_for_every_format(capsys):
    code, results, _ = run_json(
        capsys, str(ACCOUNTANT_PDF), str(DESKTOP_DOCX), str(SAMPLE_TXT), "--role", "Accountant"
    )
    assert code == 0
    assert [r["file"] for r in results] == [p.name for p in (ACCOUNTANT_PDF, DESKTOP_DOCX,
                                                             SAMPLE_TXT)]
    for r in results:
        assert set(r) == {
            "file", "role", "verdict", "score", "category", "top_categories", "evidence", "model",
            "match",  # role-aware: pooled with the matcher against a JD written for the title
        }
        assert r["match"]["jd"] == "a JD written for the title"
        assert set(r["match"]) == {"score", "category_score", "driver", "jd", "model"}
        assert r["role"] == "Accountant"
        assert r["verdict"] in {"fit", "maybe", "no_fit"}
        assert 0.0 <= r["score"] <= 1.0
        assert r["category"] == r["top_categories"][0][0]
        probs = [p for _, p in r["top_categories"]]
        assert probs == sorted(probs, reverse=True) and sum(probs) <= 1.0 + 1e-6
        assert set(r["evidence"]) == {"matched", "missing", "snippets", "driver"}
        assert not set(r["evidence"]["matched"]) & set(r["evidence"]["missing"])
        assert len(r["evidence"]["snippets"]) <= 3
        assert r["model"]["name"] == "hirebot-cv-screener" and r["model"]["version"]


def test_right_role_scores_higher_than_wrong_role(capsys):
    _, acc, _ = run_json(capsys, str(ACCOUNTANT_PDF), "--role", "Senior Accountant")
    _, chef, _ = run_json(capsys, str(ACCOUNTANT_PDF), "--role", "Pastry Chef")
    assert acc[0]["category"] == "Accountant"
    assert acc[0]["verdict"] == "fit"
    assert chef[0]["verdict"] != "fit" and chef[0]["score"] < 0.4
    assert acc[0]["score"] > chef[0]["score"] + 0.4
    assert acc[0]["evidence"]["matched"], "an accountant's CV shows accounting skills"


def test_snippets_are_short_and_never_contact_details(capsys):
    _, results, _ = run_json(capsys, str(SAMPLE_TXT), "--role", "Senior Software Engineer")
    full_text = SAMPLE_TXT.read_text()
    for snippet in results[0]["evidence"]["snippets"]:
        assert len(snippet) <= 160
        assert "@" not in snippet and not re.search(r"\d{3}\W+\d{4}", snippet)
    assert sum(len(s) for s in results[0]["evidence"]["snippets"]) < len(full_text) / 2


def test_same_file_same_bytes_alone_or_in_a_batch(capsys):
    _, _, first = run_json(capsys, str(OFFICE_PDF), "--role", "Office Manager")
    _, _, second = run_json(capsys, str(OFFICE_PDF), "--role", "Office Manager")
    _, batch, _ = run_json(
        capsys, str(ACCOUNTANT_PDF), str(OFFICE_PDF), str(SAMPLE_TXT), "--role", "Office Manager"
    )
    assert first == second
    assert json.loads(first) == batch[1]


def test_pdf_and_docx_of_the_same_cv_agree(capsys):
    _, results, _ = run_json(capsys, str(ACCOUNTANT_PDF), str(ACCOUNTANT_DOCX), "--role",
                             "Accountant")
    assert results[0]["category"] == results[1]["category"] == "Accountant"
    assert results[0]["verdict"] == results[1]["verdict"]


def test_zip_gives_one_line_per_member_and_bad_members_do_not_stop_the_batch(tmp_path, capsys):
    archive = tmp_path / "batch.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(ACCOUNTANT_PDF, "cvs/a.pdf")
        zf.writestr("cvs/empty.txt", b"")
        zf.write(SAMPLE_TXT, "cvs/b.txt")
        zf.writestr("../../escape.txt", SAMPLE_TXT.read_bytes())
    code, results, _ = run_json(capsys, str(archive), "--role", "Accountant")
    assert code == 2
    assert len(results) == 4
    assert results[1]["error"]["code"] == "empty_file"
    assert {"verdict", "score"} <= set(results[0]) and {"verdict", "score"} <= set(results[2])
    assert not (tmp_path.parent / "escape.txt").exists()
    assert all(".." not in r["file"].split("/") for r in results)


@pytest.mark.parametrize(
    ("name", "payload", "code"),
    [
        ("empty.pdf", b"", "empty_file"),
        ("broken.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 20, "corrupt_pdf"),
        ("noise.txt", bytes(range(256)) * 40, "not_text"),
        ("short.txt", b"Nurse. Five years on a ward.", "too_few_words"),
    ],
)
def test_unreadable_cv_gives_error_line_and_exit_2(tmp_path, capsys, name, payload, code):
    bad = tmp_path / name
    bad.write_bytes(payload)
    exit_code, results, _ = run_json(capsys, str(bad), str(SAMPLE_TXT), "--role", "Nurse")
    assert exit_code == 2
    assert results[0] == {"file": name, "error": results[0]["error"]}
    assert results[0]["error"]["code"] == code and results[0]["error"]["message"]
    assert "verdict" in results[1]


def test_missing_file_is_reported_not_raised(tmp_path, capsys):
    code, results, _ = run_json(capsys, str(tmp_path / "nope.pdf"), "--role", "Nurse")
    assert code == 2 and results[0]["error"]["code"] == "not_found"


def test_oversize_file_is_rejected_by_the_size_setting(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HIREBOT_MAX_FILE_MB", "0.01")
    from bot.config import get_settings

    get_settings.cache_clear()
    code, results, _ = run_json(capsys, str(ACCOUNTANT_PDF), "--role", "Accountant")
    assert code == 2 and results[0]["error"]["code"] == "too_large"


@pytest.mark.parametrize("role", ["", "   ", "x" * 121, "Nurse\x07"])
def test_bad_role_exits_2_with_a_message(capsys, role):
    code = main(["screen", str(SAMPLE_TXT), "--role", role, "--json"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("hirebot: ") and "Traceback" not in err


def test_jd_skills_drive_the_evidence(tmp_path, capsys):
    jd = tmp_path / "jd.txt"
    jd.write_text(
        "Senior Software Engineer. You will build services in Python and Django on AWS, "
        "with PostgreSQL and Docker, and mentor the team. Experience with Kubernetes, Java "
        "and Hadoop is a plus. Strong communication skills are required."
    )
    _, results, _ = run_json(capsys, str(SAMPLE_TXT), "--role", "Software Engineer",
                             "--jd", str(jd))
    evidence = results[0]["evidence"]
    jd_words = jd.read_text().lower()
    assert evidence["matched"] and all(s.lower() in jd_words for s in evidence["matched"])
    assert "Python" in evidence["matched"]  # ESCO labels, in their own case
    assert all(s.lower() in jd_words for s in evidence["missing"])
    assert results[0]["match"]["jd"] == "the JD file"


def test_table_output_is_readable(capsys):
    code = main(["screen", str(ACCOUNTANT_PDF), "--role", "Accountant"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0].startswith("file") and "01-Accountant.pdf" in out
    assert re.search(r"\b(Fit|Maybe|No fit)\b", out)


def test_unseen_titles_map_to_sensible_categories(screening_model):
    from models.screening.taxonomy import category_name

    expected = {
        "Registered Nurse": "Healthcare",
        "Pastry Chef": "Chef",
        "Senior DevOps Engineer": "DevOps Engineer",
        "Payroll Clerk": {"Accountant", "HR"},
        "Primary School Teacher": "Teacher",
        "Software Engineer": "Information Technology",
    }
    for title, category in expected.items():
        profile = screening_model.role_profile(title)
        top = screening_model.classifier.classes[int(profile.distribution.argmax())]
        allowed = category if isinstance(category, set) else {category}
        assert category_name(top) in allowed, title
        assert profile.skills, title


def test_bundled_model_folder_holds_no_pickles():
    from models.screening.screener import BUNDLED_DIR

    suffixes = {p.suffix for p in BUNDLED_DIR.iterdir()}
    assert suffixes <= {".json", ".safetensors", ".md"}
    assert (BUNDLED_DIR / "MODEL_CARD.md").read_text().count("sha256") >= 1


def test_run_without_tokens_reads_commands_from_a_non_terminal_stdin(capsys, monkeypatch):
    import io

    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(f"upload {SAMPLE_TXT} for Registered Nurse\n"
                                                 "/hirebot status\nquit\n/jobpost Never Run\n"))
    assert main(["run"]) == 0
    out = capsys.readouterr().out
    assert f"hirebot> upload {SAMPLE_TXT} for Registered Nurse" in out
    assert "for Registered Nurse (score " in out  # the CV was screened: its verdict line
    assert "Never Run" not in out  # nothing after quit is read
    assert "Job: Data Scientist" not in out  # the demo is not played


def test_shell_demo_plays_the_scripted_session(capsys, monkeypatch):
    monkeypatch.setenv("HIREBOT_JOBPOST_MAX_NEW_TOKENS", "120")
    assert main(["shell", "--demo"]) == 0
    out = capsys.readouterr().out
    assert "Job: Data Scientist" in out and "[Regenerate | Approve | 👍 | 👎]" in out
    assert "sample_resume.txt" in out and "for Registered Nurse" in out


def test_missing_model_folder_is_a_one_line_fault(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(model_service, "load_screening_model", REAL_LOADER)  # not the shared model
    monkeypatch.setenv("HIREBOT_CLASSIFIER_DIR", str(tmp_path / "nothing-here"))
    from bot.config import get_settings

    get_settings.cache_clear()
    code = main(["screen", str(SAMPLE_TXT), "--role", "Nurse", "--json"])
    err = capsys.readouterr().err
    assert code == 1 and "hirebot train classifier" in err and "Traceback" not in err


def test_real_world_cvs_get_plausible_categories(capsys):
    """Modern CVs open with a name and contact line, unlike the training CVs; the classifier
    must not read the name as an occupation."""
    _, results, _ = run_json(
        capsys, str(ACCOUNTANT_DOCX), str(DESKTOP_DOCX), str(SAMPLE_TXT), "--role", "Analyst"
    )
    tech = {"Information Technology", "Python Developer", "DevOps Engineer", "Java Developer",
            "Web Designing", "Data Science", "Database", "Software Testing"}
    assert results[0]["category"] in {"Accountant", "Finance"}
    assert results[1]["category"] in tech
    assert results[2]["category"] in tech
