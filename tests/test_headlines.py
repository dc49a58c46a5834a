"""The headline picker: a job-title line is used, a candidate's name never is."""

from __future__ import annotations

import pytest

from models.screening.classifier import headline_of, label_match_features, learn_title_words

TITLE_WORDS = frozenset(
    learn_title_words(
        [
            "STAFF ACCOUNTANT\nSummary\n...",
            "SENIOR ACCOUNTANT\nExperience",
            "Senior Software Engineer\nSkills",
            "SOFTWARE ENGINEER\nSummary",
            "REGISTERED NURSE\nProfile",
            "NURSE MANAGER\nSummary",
            "and of the\nnoise",
            "and of the\nnoise",
        ]
    )
)


def test_title_words_are_learned_from_opening_lines_without_stop_words():
    assert {"accountant", "senior", "engineer", "software", "nurse"} <= TITLE_WORDS
    assert not {"and", "of", "the", "summary"} & TITLE_WORDS


def test_name_and_contact_lines_are_skipped_for_the_title_line():
    cv = "John Smith\njohn@example.com | (555) 123-4567\nSenior Software Engineer\nSummary\n..."
    assert headline_of(cv, TITLE_WORDS) == "Senior Software Engineer"


def test_no_title_line_gives_an_empty_headline():
    cv = "Ebony Moore\nSeattle, WA | 206-555-0149\nSummary\nDetermined accountant with three " \
         "years of experience in personal and tax accounting and bookkeeping."
    assert headline_of(cv, TITLE_WORDS) == ""


def test_without_a_vocabulary_the_first_line_is_used():
    assert headline_of("\n\nSTAFF ACCOUNTANT\nSummary") == "STAFF ACCOUNTANT"


def test_label_matches_need_whole_words():
    features = label_match_features(
        ["I said it was fine; Python and Java daily."],
        ["information-technology", "python-developer", "java-developer"],
    )
    assert features[0].tolist() == pytest.approx([0.0, 0.2, 0.2])
