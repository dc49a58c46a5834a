"""The JD generator: data preparation, training, the serving decoder, safeguards and the CLI."""

from __future__ import annotations

import csv
import json
import random

import pytest
import torch

from bot.cli import main
from models.generation.contact_scrub import contains_contact, scrub_contacts
from models.generation.evaluation import distinct_2, evaluate_generator, head_word, is_degenerate
from models.generation.free_writing import RowPlan
from models.generation.generator import (
    BUNDLED_GENERATOR_DIR,
    Decoding,
    JobPostGenerator,
    TitleError,
    parse_title,
)
from models.generation.postings import (
    Posting,
    balance_nhs,
    dedup_key,
    is_held_out,
    read_postings_file,
    split,
)
from models.generation.sections import section_count, split_sections

TITLES = ["Data Scientist", "Registered Nurse", "Pastry Chef", "Software Engineer"]
FILLER = ["patients", "models", "pastry", "code", "team", "reports", "clients", "quality"]


def synthetic_postings(count: int = 240, seed: int = 0) -> list[Posting]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        title = TITLES[i % len(TITLES)]
        role = title.lower()
        words = " ".join(rng.choice(FILLER) for _ in range(25))
        text = (f"We are hiring a {role} to join our team, posting {i}.\n\n"
                f"Responsibilities:\n- work as a {role} every day\n- {words}\n\n"
                f"Requirements:\n- experience as a {role}\n- good communication\n\n"
                f"Benefits:\n- pension and holidays")
        out.append(Posting(title, text, "synthetic"))
    return out


def train_tiny_generator(out, *, epochs: float = 3, version: str = "test1"):
    """A tiny GPT-2 trained in seconds on synthetic postings and saved to ``out``; returns the
    training result. Shared by the generator and refresh tests."""
    from models.generation.tokenizer import train_bpe_tokenizer
    from models.generation.training import (
        GeneratorRecipe,
        new_model,
        save_generator,
        train_generator,
    )

    corpus = split(synthetic_postings())
    tokenizer = train_bpe_tokenizer((p.document() for p in corpus.train), vocab_size=400)
    recipe = GeneratorRecipe(n_layer=2, n_embd=64, n_head=2, n_positions=256, block_size=128,
                             batch_size=8, time_budget_min=5.0, epochs=epochs)  # epoch-bound
    model = new_model(recipe, tokenizer)
    result = train_generator(model, tokenizer, corpus, recipe, progress=False)
    save_generator(model, tokenizer, out, {"name": "tiny-jd", "version": version})
    return result


@pytest.fixture(scope="module")
def tiny_generator(tmp_path_factory) -> JobPostGenerator:
    """A tiny GPT-2 trained here in seconds: exercises train -> save -> load for real."""
    out = tmp_path_factory.mktemp("gen")
    result = train_tiny_generator(out)
    assert result.steps > 0
    assert 0 < result.held_out_bits_per_char < 3.0
    return JobPostGenerator.load(out)


# ------------------------------------------------------------------------------ data
def test_packed_rows_restate_the_title_when_a_posting_continues():
    """A row that starts mid-posting opens with that posting's title prompt as context only;
    every document token is still a target exactly once, in order."""
    import numpy as np

    from models.generation.training import GeneratorRecipe, RowSampler

    rng = np.random.default_rng(0)
    docs = [rng.integers(10, 100, size=int(n), dtype=np.int32) for n in rng.integers(5, 70, 40)]
    prefixes = [np.asarray([1, 2, 3, i + 200], dtype=np.int32) for i in range(len(docs))]
    recipe = GeneratorRecipe(block_size=32, batch_size=2)
    sampler = RowSampler(docs, recipe, pad_id=0, seed=1, prefixes=prefixes)
    order = np.random.default_rng(1).permutation(len(docs))
    rows = sampler._rows_with_reminders(order, 32)
    assert all(len(ids) == len(labels) == 32 for ids, labels in rows)
    targets = np.concatenate([labels[labels != -100] for _, labels in rows])
    stream = np.concatenate([docs[i] for i in order])
    assert np.array_equal(targets, stream[: len(targets)])
    restated = 0
    for ids, labels in rows:
        if labels[0] == -100:  # a continuation: the prefix names the posting being continued
            assert list(ids[:3]) == [1, 2, 3] and (labels[:4] == -100).all()
            assert labels[4] != -100
            restated += 1
    assert restated > 0
    plain = RowSampler(docs, GeneratorRecipe(block_size=32, batch_size=2, title_reminder=False),
                       pad_id=0, seed=1, prefixes=prefixes)
    assert all(labels[0] != -100 for _, labels in plain._rows())


def test_dedup_key_ignores_case_and_whitespace():
    assert dedup_key("Hello   World\n" + "x" * 400) == dedup_key("hello world " + "x" * 400)


def test_split_is_stable_and_has_no_duplicate_across_halves():
    posts = synthetic_postings(400)
    copies = posts + [Posting(p.title, p.description.upper(), "copy") for p in posts[:50]]
    corpus = split(copies)
    assert len(corpus.train) + len(corpus.held_out) == 400
    held = {p.key for p in corpus.held_out}
    assert held and not held & {p.key for p in corpus.train}
    assert all(is_held_out(p) for p in corpus.held_out)
    assert split(list(reversed(copies))).held_out[0].key in held


def test_nhs_is_capped_per_title():
    nhs = [Posting("Staff Nurse", f"ward {i} " * 40, "nhs_jobs_uk_2020.csv") for i in range(20)]
    other = [Posting("Chef", "kitchen " * 40, "other.csv")]
    kept = balance_nhs(nhs + other)
    assert sum(p.source.startswith("nhs_") for p in kept) == 3
    assert other[0] in kept


def test_read_postings_from_csv_and_jsonl(tmp_path):
    text = "Lead a small team of analysts. " * 10
    csv_path = tmp_path / "ads.csv"
    with csv_path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["Title", "Description"])
        writer.writeheader()
        writer.writerow({"Title": "Analyst", "Description": text})
    jsonl = tmp_path / "ads.jsonl"
    jsonl.write_text(json.dumps({"title": "Analyst", "description": text}) + "\n")
    assert read_postings_file(csv_path)[0].title == "Analyst"
    assert read_postings_file(jsonl)[0].description.startswith("Lead")
    bad = tmp_path / "bad.csv"
    bad.write_text("name,text\nx,y\n")
    with pytest.raises(ValueError, match="title"):
        read_postings_file(bad)


# ------------------------------------------------------------------------------ safeguards
@pytest.mark.parametrize("text", [
    "Send your CV to jane.doe@nhs.net today.",
    "Apply at https://jobs.example.com/123",
    "Visit www.acme.co.uk for details",
    "Call us on +44 (0)20 7946 0958 to apply.",
    "Questions: 555-867-5309.",
])
def test_contact_details_are_removed(text):
    assert contains_contact(text)
    cleaned = scrub_contacts("Great team.\n" + text + "\nPension.")
    assert not contains_contact(cleaned)
    assert "Great team." in cleaned and "Pension." in cleaned


@pytest.mark.parametrize("text", ["Salary £25,000 - £30,000 per annum", "Band 5, 37.5 hours",
                                  "Founded in 2019 - 2020 growth", "Node.js and Vue.js"])
def test_ordinary_text_is_not_mistaken_for_contacts(text):
    assert not contains_contact(text)


def test_degenerate_loop_is_detected():
    loop = "Sr. Business Development, " * 5
    assert is_degenerate(loop)
    assert not is_degenerate("We are hiring a chef to bake bread and cakes for our bakery.")
    assert distinct_2(["a b c d", "a b c d"]) == 0.5


def test_sections_and_head_words():
    text = ("Join us.\n\nKey Responsibilities:\n- cook\n\nWhat you'll need\n- skill\n\n"
            "Benefits:\n- pay")
    sections = split_sections(text)
    assert set(sections) == {"summary", "responsibilities", "requirements", "benefits"}
    assert section_count(text) == 3
    assert head_word("Senior Data Scientist") == "scientist"
    assert head_word("Staff Nurse - Band 5") == "nurse"
    assert head_word("Head of Marketing") == "head"


@pytest.mark.parametrize("title", ["", "   ", "x" * 121, "Chef\x00", "Nurse\nrm -rf", "1234"])
def test_bad_titles_are_refused(title):
    with pytest.raises(TitleError):
        parse_title(title)


def test_context_after_comma_is_kept():
    assert parse_title("Data Scientist, remote, fintech") == ("Data Scientist", "remote, fintech")


# ------------------------------------------------------------------------------ model
def test_fast_decoder_matches_hugging_face(tiny_generator):
    from models.generation.fast_gpt2 import FastGPT2

    ids = torch.tensor([tiny_generator.tokenizer("Job title: Pastry Chef\n\nWe")["input_ids"]])
    with torch.no_grad():
        reference = tiny_generator.model(input_ids=ids).logits
    exact = FastGPT2(tiny_generator.model, "fp32")
    assert torch.allclose(exact.logits(ids), reference, atol=1e-4)
    serving = tiny_generator.fast  # int8 output projection by default
    assert serving.head_precision == "int8"
    approx = serving.logits(ids)
    assert (approx - reference).abs().max() < 0.1 * reference.std()
    assert (approx.argmax(-1) == reference.argmax(-1)).float().mean() > 0.9
    try:
        tiny_generator.fast = exact  # with the exact head, sampling agrees token for token
        titles = [("Pastry Chef", ""), ("Data Scientist", "remote")]
        fast = tiny_generator.write_batch(titles, seeds=[1, 2], max_new_tokens=60)
        slow = tiny_generator.write_batch(titles, seeds=[1, 2], max_new_tokens=60,
                                          use_fast=False)
    finally:
        tiny_generator.fast = serving
    assert [d.text for d in fast] == [d.text for d in slow]


def test_same_seed_same_text_and_streaming_matches(tiny_generator):
    first = tiny_generator.write("Registered Nurse", seed=3, max_new_tokens=80)
    snapshots: list[str] = []
    second = tiny_generator.write("Registered Nurse", seed=3, max_new_tokens=80,
                                  on_text=snapshots.append)
    assert first.text == second.text and first.text
    assert snapshots and snapshots[-1] == second.text
    other = tiny_generator.write("Registered Nurse", seed=4, max_new_tokens=80)
    assert other.text != first.text


def test_safeguards_never_repeat_a_token_4gram(tiny_generator):
    """The ban holds whatever the weights: no token 4-gram repeats in what the model wrote."""
    prompts = [tiny_generator.tokenizer(f"Job title: {t}\n\n")["input_ids"] for t in TITLES]
    decoding = Decoding(sections=(), opener=False)
    outputs, _ = tiny_generator._sample(prompts, [0, 1, 2, 3], 200, decoding, None)
    for prompt, generated in zip(prompts, outputs, strict=True):
        tokens = prompt + generated
        grams = [tuple(tokens[i:i + 4]) for i in range(len(tokens) - 3)]
        assert len(grams) == len(set(grams))
        assert len(generated) >= decoding.min_new_tokens


def test_section_by_section_decoding_names_the_title_and_writes_headings(tiny_generator):
    drafts = tiny_generator.write_batch([("Pastry Chef", ""), ("Data Scientist", "")],
                                        seeds=[0, 1], max_new_tokens=400)
    for draft in drafts:
        assert draft.title in draft.text.split("\n")[0]
        assert section_count(draft.text) >= 2, draft.text


def test_steering_bonus_ends_once_a_word_is_written(tiny_generator):
    """The title/family bonus helps each word until it appears, then stops: with a bonus that
    outweighs everything and no other safeguard, the first tokens are each boosted word once
    (without the stop, the same few words would win again and again)."""
    words = [i for i in range(len(tiny_generator.tokenizer))
             if i not in tiny_generator.structural_ids and i != tiny_generator.eos_id][40:45]
    prompt = tiny_generator.tokenizer("Job title: Pastry Chef\n\n")["input_ids"]
    decoding = Decoding(sections=(), opener=False, title_boost=50.0, repetition_penalty=1.0,
                        no_repeat_ngram=0, min_new_tokens=20)
    for seed in range(3):
        outputs, _ = tiny_generator._sample([prompt], [seed], 12, decoding, None,
                                            boosts=[words])
        assert sorted(outputs[0][:5]) == sorted(words)


def test_words_the_opener_forced_in_keep_their_steering_bonus(tiny_generator):
    """Only words the model writes use up their bonus: the opener's forced title words keep it,
    so with an overwhelming bonus the model's first free tokens are exactly those words."""
    from models.generation.free_writing import OPENERS, _article

    opener = OPENERS[0].format(a=_article("Pastry Chef"), title="Pastry Chef")
    opener_ids = tiny_generator.tokenizer(opener, add_special_tokens=False)["input_ids"]
    words = sorted({i for i in opener_ids if i not in tiny_generator.structural_ids})[:3]
    prompt = tiny_generator.tokenizer("Job title: Pastry Chef\n\n")["input_ids"]
    decoding = Decoding(sections=(), opener=True, title_boost=50.0, repetition_penalty=1.0,
                        no_repeat_ngram=0, min_new_tokens=20)
    plans = [RowPlan(tiny_generator, decoding, "Pastry Chef", 0)]
    outputs, _ = tiny_generator._sample([prompt], [0], len(opener_ids) + 6, decoding, None,
                                        boosts=[words], plans=plans)
    assert outputs[0][:len(opener_ids)] == opener_ids
    assert sorted(outputs[0][len(opener_ids):len(opener_ids) + 3]) == words


def test_steering_bonus_covers_every_spelling_of_a_word():
    generator = JobPostGenerator.load()  # the bundled tokenizer has " data" and " Data"
    ids = generator.steering_ids("Data Scientist")
    groups = generator._same_word(ids)
    lower = generator.tokenizer(" data", add_special_tokens=False)["input_ids"]
    upper = generator.tokenizer(" Data", add_special_tokens=False)["input_ids"]
    assert len(lower) == len(upper) == 1
    assert sorted(groups[lower[0]]) == sorted(groups[upper[0]]) == sorted(lower + upper)


def test_a_left_padded_batch_matches_each_row_alone(tiny_generator):
    """Padded rows get their own positions and never see the padding: with fp32 layers each
    row equals the Hugging Face model on that row alone (to rounding), and the serving int8
    batch path stays near it."""
    from models.generation.fast_gpt2 import FastGPT2

    tokenizer = tiny_generator.tokenizer
    rows = [tokenizer("Job title: Pastry Chef\n\nWe")["input_ids"],
            tokenizer("Job title: Senior Data Scientist, remote\n\nThe role is")["input_ids"]]
    width = max(len(r) for r in rows)
    ids = torch.zeros((2, width), dtype=torch.long)
    mask = torch.zeros((2, width + 1), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, width - len(row):] = torch.tensor(row)
        mask[i, width - len(row):] = 1
    nxt = torch.tensor([[5], [7]])
    references = []
    for i, row in enumerate(rows):
        with torch.no_grad():
            logits = tiny_generator.model(input_ids=torch.tensor([row + [int(nxt[i])]])).logits
        references.append((logits[0, -2], logits[0, -1]))
    # fp32 layers: exact, so a wrong position or a visible pad fails here.
    # int8 (serving): 64 wide with one activation scale per step across both rows, so only
    # near (the bundled model's bits/char moves by +0.07 %).
    for decoder, close in ((FastGPT2(tiny_generator.model, "fp32"), None),
                           (tiny_generator.fast, 0.3)):
        first, cache = decoder.step(ids, mask[:, :width], None)
        second, _ = decoder.step(nxt, mask, cache)
        for i, (want_first, want_second) in enumerate(references):
            for got, want in ((first[i], want_first), (second[i], want_second)):
                if close is None:
                    assert torch.allclose(got, want, atol=1e-4)
                else:
                    assert (got - want).abs().max() < close * want.std()
                    assert int(got.argmax()) in want.topk(3).indices.tolist()


def test_any_integer_seed_is_accepted_and_reproducible(tiny_generator):
    first = tiny_generator.write("Registered Nurse", seed=-7, max_new_tokens=30)
    again = tiny_generator.write("Registered Nurse", seed=-7, max_new_tokens=30)
    assert first.text == again.text and first.text


def test_a_step_with_no_finite_score_fails_loudly():
    import numpy as np

    from models.generation.sampling import _draw

    rng = np.random.default_rng(0)
    with pytest.raises(ValueError):
        _draw(np.array([np.nan, 0.5]), rng)
    with pytest.raises(ValueError):
        _draw(np.zeros(3), rng)


def test_title_lexicon_learns_family_words():
    from models.generation.title_lexicon import build_lexicon, steering_words

    lexicon = build_lexicon(synthetic_postings(400))
    assert "chef" in [w for w, _ in lexicon["chef"]]
    assert "scientist" not in [w for w, _ in lexicon["chef"]]
    words = steering_words("Head Pastry Chef", lexicon)
    assert words[:3] == ["head", "pastry", "chef"]


def test_eval_runs_on_the_tiny_model(tiny_generator):
    from models.common.embeddings import FastEmbedder

    corpus = split(synthetic_postings(160, seed=1))
    report = evaluate_generator(tiny_generator, corpus, titles=4, samples_per_title=1,
                                max_new_tokens=40, embedder=FastEmbedder(), bpc_docs=5)
    assert set(report["hirebot"]) >= {"repetition_rate", "distinct_2", "title_relevance",
                                      "structure", "contact_leak"}
    assert report["hirebot"].keys() - {"must_terms_present"} == report["naive"].keys()
    assert {"invented_word_drafts", "cut_lines", "repeated_item_drafts",
            "title_retrieval_at_5", "coded_words_per_draft"} <= report["hirebot"].keys()
    assert 0 < report["bits_per_char"] < 5


# ------------------------------------------------------------------------------ bundled + CLI
needs_bundled = pytest.mark.skipif(not (BUNDLED_GENERATOR_DIR / "config.json").is_file(),
                                   reason="bundled generator not built yet")


@needs_bundled
def test_bundled_model_writes_a_clean_finished_posting():
    generator = JobPostGenerator.load()
    drafts = generator.write_batch([(t, "") for t in TITLES], seeds=[0, 1, 2, 3],
                                   max_new_tokens=400)
    for draft in drafts:
        assert len(draft.text.split()) >= 30
        assert not contains_contact(draft.text)
        assert not is_degenerate(draft.text)
    assert sum(d.finished for d in drafts) >= 2  # most stop at end-of-text, not the limit


@needs_bundled
def test_jobpost_cli_json_contract(capsys):
    assert main(["jobpost", "Pastry Chef, London", "--json", "--seed", "5",
                 "--max-new-tokens", "120"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert set(first) == {"title", "text", "sections", "model", "new_tokens", "seconds",
                          "grounded_on", "inclusive", "score", "request", "occupation"}
    assert first["occupation"] and "O*NET" in first["grounded_on"]
    assert first["title"] == "Pastry Chef" and first["model"]["version"]
    assert main(["jobpost", "Pastry Chef, London", "--json", "--seed", "5",
                 "--max-new-tokens", "120"]) == 0
    assert json.loads(capsys.readouterr().out)["text"] == first["text"]


@pytest.mark.parametrize("title", ["", "x" * 130, "Chef\x07"])
def test_jobpost_cli_refuses_bad_titles(title, capsys):
    assert main(["jobpost", title]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hirebot: ") and "Traceback" not in err


def test_train_generator_cli_on_user_postings(tmp_path, capsys):
    data = tmp_path / "ads.jsonl"
    with data.open("w") as fh:
        for p in synthetic_postings(120):
            fh.write(json.dumps({"title": p.title, "description": p.description}) + "\n")
    out = tmp_path / "model"
    code = main(["train", "generator", "--base", "scratch", "--data", str(data), "--out", str(out),
                 "--time-budget", "0.1", "--epochs", "1"])
    assert code == 0, capsys.readouterr().err
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (out / "model.safetensors").is_file() and (out / "MODEL_CARD.md").is_file()
    assert summary["version"] == JobPostGenerator.load(out).version


def test_train_generator_cli_hub_base_fails_cleanly_offline(tmp_path, capsys):
    data = tmp_path / "ads.jsonl"
    data.write_text("")
    code = main(["train", "generator", "--base", "no-such-folder-or-model", "--data", str(data)])
    assert code == 2
    assert "Traceback" not in capsys.readouterr().err
