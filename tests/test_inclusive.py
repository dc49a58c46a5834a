"""Gender-coded word check and reading grade (models.generation.inclusive) on fixed texts."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from models.generation import inclusive
from models.generation.inclusive import (
    ALTERNATIVES,
    FEMININE_STEMS,
    MASCULINE_STEMS,
    CodedWord,
    InclusiveReport,
    check_text,
    coded_stem,
)

JD = """Senior Data Analyst

**Responsibilities:**
- Lead a competitive team and support our leaders
- Build dashboards with a team-leader
- Help self-confident people work on co-operative projects

Requirements
- Strong SQL. Competitive salary. Supportive culture.
"""


def _counts(words: tuple[CodedWord, ...]) -> dict[str, int]:
    return {w.word: w.count for w in words}


def test_known_words_and_counts() -> None:
    report = check_text(JD)
    assert _counts(report.masculine) == {
        "analyst": 1,  # title line: not a section heading, so it counts
        "lead": 1,
        "competitive": 2,
        "leaders": 1,
        "leader": 1,  # part of "team-leader"
        "self-confident": 1,
    }
    assert _counts(report.feminine) == {"support": 1, "co-operative": 1, "supportive": 1}
    assert report.coded_count == 7 + 3
    by_word = {w.word: w for w in report.masculine + report.feminine}
    assert by_word["competitive"].stem == "compet"
    assert by_word["competitive"].alternative == ALTERNATIVES["compet"]
    assert by_word["self-confident"].stem == "self-confiden"
    assert by_word["co-operative"].kind == "feminine"
    assert report.masculine[0].word == "competitive"  # most frequent first


def test_heading_lines_are_skipped_but_bullets_count() -> None:
    headings = "\n".join([
        "Responsibilities:",
        "## Key Responsibilities",
        "**Roles & Responsibilities**",
        "Your responsibilities",
        "What you'll do",
    ])
    assert check_text(headings).coded_count == 0
    bullet = check_text("Responsibilities:\n- Responsible for the product roadmap")
    assert _counts(bullet.feminine) == {"responsible": 1}
    prose = check_text("You will take responsibility for releases.")
    assert _counts(prose.feminine) == {"responsibility": 1}


def test_not_a_heading_when_it_says_more() -> None:
    # A colon does not make a heading: only section-heading vocabulary does.
    assert _counts(check_text("Strong leaders will:").masculine) == {"leaders": 1}
    assert _counts(check_text("Leadership:").masculine) == {"leadership": 1}


def test_case_insensitive() -> None:
    report = check_text("LEADER Leader leader DoMiNaNt")
    assert _counts(report.masculine) == {"leader": 3, "dominant": 1}
    assert report.masculine[1].stem == "dominant"  # longest stem beats "domina"
    assert coded_stem("COMPETITIVE") == ("compet", "masculine")


def test_word_must_start_with_stem() -> None:
    report = check_text("Misleading metrics, unsupported claims and a pleader? No.")
    assert report.coded_count == 0
    assert coded_stem("misleading") is None
    assert coded_stem("unsupported") is None
    assert coded_stem("leading") == ("lead", "masculine")


def test_not_coded_exclusions() -> None:
    report = check_text("SharePoint admin for shareholders and the steering committee")
    assert report.coded_count == 0
    # ...but the stems still work on the words they are meant for.
    assert _counts(check_text("We share knowledge and are committed.").feminine) == {
        "share": 1, "committed": 1,
    }


def test_coded_stem_on_tokens() -> None:
    assert coded_stem(" Leader,") == ("lead", "masculine")
    assert coded_stem("support") == ("support", "feminine")
    assert coded_stem("team-leader") == ("lead", "masculine")
    assert coded_stem("co-operate") == ("co-operat", "feminine")
    assert coded_stem("engineer") is None
    assert coded_stem("") is None
    assert coded_stem("  ...  ") is None


def test_every_stem_has_an_alternative() -> None:
    stems = set(MASCULINE_STEMS) | set(FEMININE_STEMS)
    assert len(MASCULINE_STEMS) >= 45 and len(FEMININE_STEMS) >= 40
    assert not set(MASCULINE_STEMS) & set(FEMININE_STEMS)
    assert len(set(MASCULINE_STEMS)) == len(MASCULINE_STEMS)
    assert len(set(FEMININE_STEMS)) == len(FEMININE_STEMS)
    missing = stems - set(ALTERNATIVES)
    assert not missing, f"stems without an alternative: {sorted(missing)}"
    assert set(ALTERNATIVES) == stems
    assert all(a.strip() for a in ALTERNATIVES.values())


def test_alternatives_are_not_coded_themselves() -> None:
    for stem, alternative in ALTERNATIVES.items():
        for word in alternative.replace("/", " ").split():
            assert coded_stem(word) is None, f"{stem} -> {alternative!r}: {word!r} is coded"


def test_every_stem_codes_itself() -> None:
    for stem in MASCULINE_STEMS:
        assert coded_stem(stem) == (stem, "masculine"), stem
    for stem in FEMININE_STEMS:
        assert coded_stem(stem) == (stem, "feminine"), stem


SIMPLE = """We are a small bakery in the centre of town. You will bake bread for our customers.
- Open the shop at seven
- Keep the kitchen clean
- Talk to people about our cakes
"""

COMPLEX = (
    "The successful candidate will demonstrate comprehensive organisational capability, "
    "coordinating multidisciplinary stakeholder communication across international "
    "operational environments. Additionally, the postholder will systematically evaluate "
    "sophisticated regulatory documentation in accordance with institutional governance."
)


def test_reading_grade_simple_vs_complex() -> None:
    simple = check_text(SIMPLE).reading_grade
    complex_ = check_text(COMPLEX).reading_grade
    assert 1.0 <= simple <= 6.0
    assert 14.0 <= complex_ <= 40.0  # ~4 syllables a word: far past a graduate text
    assert simple < complex_


def test_bullets_without_full_stops_are_sentences() -> None:
    as_bullets = "- Mix the dough\n- Clean the shop\n- Help the team\n- Serve the bread"
    as_sentences = "Mix the dough. Clean the shop. Help the team. Serve the bread."
    assert inclusive.reading_grade(as_bullets) == inclusive.reading_grade(as_sentences)
    one_run_on = "Mix the dough clean the shop help the team serve the bread."
    assert inclusive.reading_grade(one_run_on) > inclusive.reading_grade(as_bullets)


def test_reading_grade_formula() -> None:
    # 2 sentences, 11 words, 18 syllables by the heuristic (counted by hand: "every" is 3).
    text = "The team ships software. Our people review every change before release."
    words, sentences, syllables = 11, 2, 18
    assert sum(inclusive._syllables(w) for w in text.replace(".", "").split()) == syllables
    expected = 0.39 * words / sentences + 11.8 * syllables / words - 15.59
    assert inclusive.reading_grade(text) == pytest.approx(round(expected, 1))
    assert inclusive.reading_grade("") == 0.0


@pytest.mark.parametrize(
    ("word", "syllables"),
    [("make", 1), ("table", 2), ("free", 1), ("takes", 1), ("services", 3), ("worked", 1),
     ("needed", 2), ("people", 2), ("the", 1), ("software", 2), ("communication", 5)],
)
def test_syllable_heuristic(word: str, syllables: int) -> None:
    assert inclusive._syllables(word) == syllables


def test_summary_when_nothing_is_coded() -> None:
    report = InclusiveReport(masculine=(), feminine=(), reading_grade=8.1)
    assert report.coded_count == 0
    assert report.summary_lines() == [
        "Inclusive language: no gender-coded words. Reading grade 8.1."
    ]


def test_summary_with_coded_words() -> None:
    report = InclusiveReport(
        masculine=(
            CodedWord("competitive", "compet", "masculine", "skilled", 1),
            CodedWord("leader", "lead", "masculine", "guide", 1),
        ),
        feminine=(CodedWord("support", "support", "feminine", "help", 1),),
        reading_grade=10.8,
    )
    assert report.coded_count == 3
    assert report.summary_lines() == [
        "Inclusive language: 2 masculine-coded words (competitive → skilled; leader → guide), "
        "1 feminine-coded (support → help). Reading grade 10.8 (aim for 8–10)."
    ]


def test_summary_singular_repeats_and_cap() -> None:
    one = InclusiveReport((), (CodedWord("support", "support", "feminine", "help", 1),), 9.0)
    assert one.summary_lines() == [
        "Inclusive language: 1 feminine-coded word (support → help). Reading grade 9.0."
    ]
    many = InclusiveReport(
        tuple(CodedWord(f"lead{i}", "lead", "masculine", "guide", 2) for i in range(7)), (), 9.0
    )
    line = many.summary_lines()[0]
    assert line.startswith("Inclusive language: 14 masculine-coded words (lead0 ×2 → guide;")
    assert "lead4 ×2" in line and "lead5" not in line and "; …)" in line


def test_summary_from_check_text() -> None:
    lines = check_text("You will lead a competitive team.").summary_lines()
    assert len(lines) == 1
    assert "2 masculine-coded words" in lines[0]
    assert "competitive → skilled" in lines[0] and "lead → guide / coordinate" in lines[0]


def test_module_imports_only_the_standard_library() -> None:
    import sys

    tree = ast.parse(Path(inclusive.__file__).read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
    assert roots <= set(sys.stdlib_module_names) | {"__future__"}, roots
