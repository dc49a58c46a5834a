"""Fair screening: blinding, a counterfactual test on real CVs, and the bias audit CLI."""

from __future__ import annotations

import csv
import hashlib
import json
import re

import pytest

from bot.cli import main
from bot.config import Settings
from bot.services import model_service
from bot.services.model_service import ModelService
from models.screening.blinding import blind_documents, blind_text
from models.screening.documents import DocumentError, ParsedDocument

# ------------------------------------------------------------------------------ blinding


@pytest.mark.parametrize("raw, gone, kept", [
    ("John Smith\njohn.smith@example.com | +44 7700 900123\nSenior Accountant\nLed audits.",
     ["John", "Smith", "john.smith"], ["Senior Accountant", "+44 7700 900123", "Led audits."]),
    ("CURRICULUM VITAE\nName: Priya Raman\nPriya Raman managed payroll for 200 staff.",
     ["Priya", "Raman"], ["CURRICULUM VITAE", "managed payroll for 200 staff."]),
    ("Staff Nurse\nDate of birth: 12 March 1985 | Age: 39 | Marital status: Married\n"
     "Nationality: Indian, Gender: Female\nLanguages: English, Hindi",
     ["1985", "39", "Married", "Indian", "Female", "Date of birth", "Gender"],
     ["Staff Nurse", "Languages: English, Hindi"]),
    ("Mrs. Mary Jones\nMs. Lee reviewed the accounts. Mr Brown signed.",
     ["Mrs", "Mary", "Jones", "Ms.", "Lee", "Mr", "Brown"], ["reviewed the accounts.", "signed."]),
    ("Chef\nI am 34 years old and was born in 1990.\nD.O.B:\n03/04/1988\nSingle\nMale\nCooks.",
     ["34 years old", "1990", "1988", "Single", "Male"], ["Chef", "Cooks."]),
    ("Tutor\nage-appropriate lessons for children aged 6-12; a single point of contact.\n"
     "MS Office, Ms Excel, Ms. Word; HIM records; Ruby on Rails; Grace period billing.",
     [], ["age-appropriate lessons for children aged 6-12; a single point of contact.",
          "MS Office, Ms Excel, Ms. Word; HIM records; Ruby on Rails; Grace period billing."]),
])
def test_blinding_takes_out_identity_and_keeps_the_work(raw, gone, kept):
    blinded = blind_text(raw)
    for word in gone:
        assert not re.search(rf"\b{re.escape(word)}", blinded), (word, blinded)
    for phrase in kept:
        assert phrase in blinded, (phrase, blinded)


def test_pronouns_become_neutral_and_he_and_she_read_the_same():
    he = "He led the team; his reports helped. I trained him. He's reliable; s/he or his/her."
    she = "She led the team; her reports helped. I trained her. She's reliable; s/he or his/her."
    assert blind_text(he) == blind_text(she) == (
        "They led the team; their reports helped. I trained them. They're reliable; they or "
        "their.")
    assert blind_text("the history of hers") == "the history of theirs"


def test_a_cv_without_personal_details_is_unchanged():
    text = ("Accountant\nPrepared monthly accounts and reconciliations.\n• Payroll | VAT returns"
            "\n-----\nSkills: Excel, Sage")
    assert blind_text(text) == text


def test_blind_documents_keeps_errors_and_the_file_identity():
    doc = ParsedDocument("cv.txt", "Mary Jones\nmary@x.org\nShe keeps books.", "text", "ab")
    bad = DocumentError("scan.pdf", "no_text_layer", "no text")
    out = blind_documents([doc, bad])
    assert out[1] is bad
    assert (out[0].name, out[0].sha256, out[0].text) == ("cv.txt", "ab", "They keeps books.")


# ------------------------------------------------------------------------------ counterfactual
SAMPLE = 40
PAIRS = [("John", "Mary"), ("James", "Patricia"), ("Michael", "Jennifer"), ("David", "Linda"),
         ("Robert", "Susan"), ("William", "Elizabeth"), ("Thomas", "Barbara"), ("Daniel", "Karen")]
SURNAMES = ["Smith", "Okafor", "Garcia", "Nguyen", "Kowalski", "Patel", "Murphy", "Haddad"]
TO_FEMALE = {"he": "she", "him": "her", "his": "her", "himself": "herself", "mr": "mrs"}
TO_MALE = {"she": "he", "hers": "his", "herself": "himself", "mrs": "mr"}
# not "Ms": in these CVs it is mostly "Ms Office"
_GENDERED = re.compile(r"\b(?:[Hh]e|[Ss]he|[Hh]im|[Hh]is|[Hh]er|[Hh]ers|[Hh]imself|[Hh]erself|Mr|"
                       r"Mrs)\b")
_HER_OBJECT = re.compile(r"\s*(?:[.,;:!?)]|$|(?:to|for|with|and|in|on|at|as|by|from|about|the|"
                         r"a|an|this|that|up|out|back|into|over)\b)", re.IGNORECASE)


def _swap(text: str, female: bool) -> str:
    """Every gendered pronoun and title of ``text`` made male or female."""
    def repl(m: re.Match) -> str:
        word, lower = m.group(0), m.group(0).lower()
        if lower == "her" and not female:
            lower = "him" if _HER_OBJECT.match(text, m.end()) else "his"
            new = lower
        else:
            new = (TO_FEMALE if female else TO_MALE).get(lower, lower)
        return new.capitalize() if word[0].isupper() else new
    return _GENDERED.sub(repl, text)


def _variant(text: str, k: int, female: bool) -> str:
    """A real CV given a personal header, gendered pronouns and an age: one of two twins."""
    first = PAIRS[k % len(PAIRS)][int(female)]
    last = SURNAMES[k % len(SURNAMES)]
    title, pronoun = ("Mrs", "She") if female else ("Mr", "He")
    age, year = (61, 1964) if female else (27, 1998)  # and the age shifts too
    if k % 2:
        header = (f"{first} {last}\n{first.lower()}.{last.lower()}@example.com | 0161 496 0{k:03d}"
                  f"\nDate of birth: 03/0{1 + k % 9}/{year} | Age: {age} | "
                  f"Marital status: {'Married' if female else 'Single'}\n")
    else:
        header = (f"Name: {title}. {first} {last}\nGender: {'Female' if female else 'Male'}\n"
                  f"Nationality: {'Nigerian' if female else 'Polish'}\nDOB {year}\n")
    closing = f"\n{title} {last} is {age} years old. {pronoun} is available at once."
    return header + _swap(text, female) + closing


def _real_cvs(shared_data) -> list[tuple[str, str]]:
    """(category, text): a fixed, spread sample of real CVs from both public sets."""
    csv.field_size_limit(1 << 30)
    folder = shared_data / "resumes"
    rows: list[tuple[str, str]] = []
    for name, cat, col in (("UpdatedResumeDataSet.csv", "Category", "Resume"),
                           ("kaggle_livecareer_resume_text_from_pdf.csv", "Category",
                            "Resume_text_from_pdf")):
        with (folder / name).open(newline="", encoding="utf-8") as handle:
            unique = {r[col]: r[cat] for r in csv.DictReader(handle) if len(r[col]) > 300}
        ordered = sorted(unique.items(), key=lambda kv: hashlib.sha256(kv[0].encode()).digest())
        rows += [(c.replace("_", " ").title(), t[:6000]) for t, c in ordered[:SAMPLE // 2]]
    return rows


def _scores(service: ModelService, docs_by_role: list[tuple[str, str]]) -> list[tuple]:
    out = []
    for role, text in docs_by_role:
        doc = ParsedDocument("cv.txt", text, "text", "0")
        result = service.screen(role, [doc])[0]
        out.append((result["score"], result["verdict"], result["evidence"]["snippets"]))
    return out


def test_counterfactual_twins_get_the_same_score_once_blinded(shared_data, screening_model,
                                                              tmp_path):
    cvs = _real_cvs(shared_data)
    assert len(cvs) == SAMPLE
    changes = {}
    for blind in (False, True):
        service = ModelService(Settings(data_dir=tmp_path, blind_screening=blind,
                                        match_generated_jd=False))
        service.install("classifier", screening_model)
        male = _scores(service, [(r, _variant(t, k, False)) for k, (r, t) in enumerate(cvs)])
        female = _scores(service, [(r, _variant(t, k, True)) for k, (r, t) in enumerate(cvs)])
        deltas = [abs(m[0] - f[0]) for m, f in zip(male, female, strict=True)]
        flips = sum(m[1] != f[1] for m, f in zip(male, female, strict=True))
        changes[blind] = (max(deltas), flips, male, female)
        print(f"blind_screening={blind}: largest score change {max(deltas):.3f}, "
              f"verdict changes {flips}/{SAMPLE}")
    worst, flips, male, female = changes[True]
    assert worst <= 0.005 and flips == 0
    assert changes[False][0] > worst  # the twins differ: without blinding the model sees it
    quoted = " ".join(s for m, f in zip(male, female, strict=True) for s in m[2] + f[2])
    for name in [n for pair in PAIRS for n in pair] + SURNAMES + ["1964", "1998", "Mrs"]:
        assert not re.search(rf"\b{name}\b", quoted), name


# ------------------------------------------------------------------------------ bias audit
def _write(path, header: str, rows: list[str]):
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_bias_audit_of_decisions_flags_a_ratio_under_four_fifths(tmp_path, capsys):
    rows = ([f"women,{int(i < 10)}" for i in range(20)]
            + [f"men,{'yes' if i < 4 else 'no'}" for i in range(20)])
    labels = _write(tmp_path / "labels.csv", "group,selected", rows)
    assert main(["audit", "bias", "--labels", str(labels), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    groups = {g["group"]: g for g in report["groups"]}
    assert groups["women"]["selection_rate"] == 0.5 and groups["men"]["selection_rate"] == 0.2
    assert groups["women"]["impact_ratio"] == 1.0 and not groups["women"]["flagged"]
    assert groups["men"]["impact_ratio"] == 0.4 and groups["men"]["flagged"]
    assert groups["men"]["small_group"] and report["most_selected"] == ["women"]
    assert main(["audit", "bias", "--labels", str(labels), "--threshold", "0.3"]) == 0
    table = capsys.readouterr().out
    assert "FLAGGED" not in table and "0.40" in table and "not a legal" in table


def test_bias_audit_rejects_bad_labels_with_a_message(tmp_path, capsys):
    bad = _write(tmp_path / "bad.csv", "group,selected", ["a,1", "b,perhaps"])
    assert main(["audit", "bias", "--labels", str(bad)]) == 2
    assert "line 3" in capsys.readouterr().err
    nogroup = _write(tmp_path / "nogroup.csv", "file,selected", ["a.txt,1"])
    assert main(["audit", "bias", "--labels", str(nogroup)]) == 2
    assert "'group' column" in capsys.readouterr().err
    files = _write(tmp_path / "files.csv", "file,group", ["a.txt,x"])
    assert main(["audit", "bias", "--labels", str(files)]) == 2
    assert "--role" in capsys.readouterr().err


def test_bias_audit_screens_the_listed_cvs_for_a_role(tmp_path, capsys, screening_model,
                                                      monkeypatch):
    from tests.conftest import CVS

    monkeypatch.setattr(model_service, "load_screening_model",
                        lambda settings, folder=None, **_: screening_model)
    monkeypatch.setenv("HIREBOT_MATCH_GENERATED_JD", "false")
    from bot.config import get_settings
    get_settings.cache_clear()
    for name in ("01-Accountant.pdf", "01-Desktop_Support.docx", "02-Office_Coordinator.pdf"):
        (tmp_path / name).write_bytes((CVS / name).read_bytes())
    labels = _write(tmp_path / "cvs.csv", "file,group",
                    ["01-Accountant.pdf,a", "01-Desktop_Support.docx,b",
                     "02-Office_Coordinator.pdf,b", "missing.pdf,b"])
    assert main(["audit", "bias", "--labels", str(labels), "--role", "Accountant",
                 "--selected", "maybe", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["source"] == "screened" and report["total"] == 3
    assert [s["file"] for s in report["skipped"]] == ["missing.pdf"]
    groups = {g["group"]: g for g in report["groups"]}
    assert groups["a"] == {**groups["a"], "count": 1, "selected": 1, "impact_ratio": 1.0}
    assert groups["b"]["count"] == 2 and groups["b"]["selected"] < 2
