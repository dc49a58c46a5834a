"""``hirebot jobpost``, ``hirebot train generator`` and ``hirebot eval generator``."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from bot.config import Settings

HUB_BASES = {"distilgpt2", "gpt2", "gpt2-medium", "openai-community/gpt2",
             "distilbert/distilgpt2"}


class GeneratorUserError(Exception):
    """Bad request for a generator command; exit 2 with the message."""


def load_generator(settings: Settings, folder: Path | None = None):
    from models.generator import JobPostGenerator

    if folder is None and settings.generator_dir is None:
        from bot.models_commands import registry_for

        folder = registry_for(settings, "generator").active_dir()
    return JobPostGenerator.load(folder or settings.generator_dir,
                                 head_precision=settings.generator_head_precision,
                                 decode_threads=settings.decode_threads)


# ------------------------------------------------------------------------------ jobpost
def cmd_jobpost(args: argparse.Namespace, settings: Settings) -> int:
    from models.generator import TitleError, parse_title

    try:
        parse_title(args.title)
    except TitleError as exc:
        raise GeneratorUserError(str(exc)) from None
    if not 1 <= args.n <= 20:
        raise GeneratorUserError("--n must be between 1 and 20.")
    if not 16 <= args.max_new_tokens <= 1000:
        raise GeneratorUserError("--max-new-tokens must be between 16 and 1000.")
    generator = load_generator(settings, args.model)
    for i in range(args.n):
        seed = args.seed + i
        if args.stream and not args.json:
            printer = _StreamPrinter()
            draft = generator.write(args.title, seed=seed, max_new_tokens=args.max_new_tokens,
                                    on_text=printer)
            printer.close()
        else:
            draft = generator.write(args.title, seed=seed, max_new_tokens=args.max_new_tokens)
        if args.json:
            print(json.dumps(draft.as_json(), ensure_ascii=False))
        elif not args.stream:
            if args.n > 1:
                print(f"--- draft {i + 1} of {args.n} (seed {seed}) ---")
            print(draft.text)
            print()
    return 0


class _StreamPrinter:
    """Prints each snapshot's new suffix, so the terminal shows the draft as it grows."""

    def __init__(self) -> None:
        self.shown = ""

    def __call__(self, snapshot: str) -> None:
        if snapshot.startswith(self.shown):
            sys.stdout.write(snapshot[len(self.shown):])
        else:  # the scrubber rewrote an earlier line: start the draft again
            sys.stdout.write("\n" + snapshot)
        sys.stdout.flush()
        self.shown = snapshot

    def close(self) -> None:
        sys.stdout.write("\n\n")
        sys.stdout.flush()


# ------------------------------------------------------------------------------ train
def cmd_train_generator(args: argparse.Namespace, settings: Settings) -> int:
    from models.generator_card import write_generator_card
    from models.generator_training import GeneratorRecipe, save_generator, train_generator
    from models.title_lexicon import build_lexicon, save_lexicon

    corpus = _load_corpus(args.data, settings)
    recipe = GeneratorRecipe.baseline() if args.recipe == "baseline" else GeneratorRecipe()
    if args.time_budget is not None:
        recipe.time_budget_min = args.time_budget
        recipe.max_steps = 0  # a budget alone: the schedule follows the clock
    if args.max_steps is not None:
        recipe.max_steps = args.max_steps
    if args.epochs is not None:
        recipe.epochs = args.epochs
    recipe.seed = args.seed
    model, tokenizer = _base_model(args.base, recipe, corpus, settings)
    result = train_generator(model, tokenizer, corpus, recipe, eval_docs=args.eval_docs)
    out = args.out or (settings.data_dir / "generator")
    command = "hirebot " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["train"] else (
        f"hirebot train generator --base {args.base}")
    info = {
        "name": "hirebot-jd-gpt2",
        "base": args.base,
        "command": command,
        "data": corpus.summary(),
        "training": {k: v for k, v in result.__dict__.items() if k != "history"},
        "history": result.history,
        "parameters": sum(p.numel() for p in model.parameters()),
    }
    save_generator(model, tokenizer, out, info)
    save_lexicon(build_lexicon(corpus.train), out)
    info["version"] = _weights_version(out)
    (out / "hirebot_generator.json").write_text(json.dumps(info, indent=2))
    write_generator_card(out)
    print(json.dumps({"out": str(out), "version": info["version"],
                      "held_out_bits_per_char": result.held_out_bits_per_char,
                      "steps": result.steps, "tokens_per_second": result.tokens_per_second}))
    return 0


def _weights_version(folder: Path) -> str:
    digest = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    return digest[:12]


def _load_corpus(data: list[Path] | None, settings: Settings):
    from models.postings import load_corpus, load_public_corpus

    if data:
        try:
            return load_corpus(data)
        except (OSError, ValueError) as exc:
            raise GeneratorUserError(f"cannot read the postings: {exc}") from None
    shared = settings.resolved_shared_data()
    if shared is None:
        raise GeneratorUserError(
            "No postings: pass --data FILE.csv|FILE.jsonl (title, description) or set "
            "HIREBOT_SHARED_DATA_DIR to the folder holding job_postings/.")
    return load_public_corpus(shared)


def _base_model(base: str, recipe, corpus, settings: Settings):
    from transformers import GPT2LMHeadModel

    from models.gen_tokenizer import load_gpt2_tokenizer, load_tokenizer, train_bpe_tokenizer
    from models.generator import BUNDLED_GENERATOR_DIR
    from models.generator_training import new_model, seed_everything

    seed_everything(recipe.seed)
    if base == "scratch":
        if recipe.tokenizer == "gpt2":
            shared = settings.resolved_shared_data()
            if shared is None:
                raise GeneratorUserError("GPT-2's tokenizer files are not available.")
            tokenizer = load_gpt2_tokenizer(shared / "gpt2_tokenizer")
        else:
            tokenizer = train_bpe_tokenizer((p.document() for p in corpus.train),
                                            recipe.vocab_size)
        return new_model(recipe, tokenizer), tokenizer
    folder = BUNDLED_GENERATOR_DIR if base == "bundled" else Path(base)
    if folder.is_dir():
        return GPT2LMHeadModel.from_pretrained(str(folder)), load_tokenizer(folder)
    if base in HUB_BASES or "/" in base:
        try:
            from transformers import AutoTokenizer

            model = GPT2LMHeadModel.from_pretrained(base)
            tokenizer = AutoTokenizer.from_pretrained(base)
            tokenizer.pad_token = tokenizer.eos_token
            return model, tokenizer
        except OSError as exc:
            raise GeneratorUserError(
                f"cannot load {base!r} from the Hugging Face hub (no internet here?): {exc}"
            ) from None
    raise GeneratorUserError(f"--base {base!r} is not bundled, scratch, a hub name or a folder.")


def cmd_train_lexicon(args: argparse.Namespace, settings: Settings) -> int:
    """Rebuild only the title lexicon of a generator folder (``train generator`` also does)."""
    from models.title_lexicon import build_lexicon, save_lexicon

    corpus = _load_corpus(args.data, settings)
    if not (args.out / "config.json").is_file():
        raise GeneratorUserError(f"{args.out} holds no generator model.")
    lexicon = build_lexicon(corpus.train)
    path = save_lexicon(lexicon, args.out)
    print(json.dumps({"out": str(path), "families": len(lexicon)}))
    return 0


# ------------------------------------------------------------------------------ eval
def cmd_eval_generator(args: argparse.Namespace, settings: Settings) -> int:
    from models.generator_eval import evaluate_generator, format_report

    if args.data:  # the user's own held-out postings: evaluate on all of them
        from models.postings import PostingCorpus, deduplicate, read_postings_file

        try:
            postings = deduplicate(p for path in args.data for p in read_postings_file(path))
        except (OSError, ValueError) as exc:
            raise GeneratorUserError(f"cannot read the postings: {exc}") from None
        if not postings:
            raise GeneratorUserError("no usable postings (title + description of 200+ chars).")
        corpus = PostingCorpus(train=[], held_out=postings)
    else:
        corpus = _load_corpus(None, settings)
    generator = load_generator(settings, args.model)
    report = evaluate_generator(generator, corpus, titles=args.titles,
                                samples_per_title=args.samples_per_title,
                                max_new_tokens=args.max_new_tokens, settings=settings)
    report["command"] = "hirebot eval generator" + (" --save" if args.save else "") + "".join(
        f" --data {p}" for p in args.data or [])
    if args.save:
        (generator.folder / "EVAL.json").write_text(json.dumps(report, indent=2))
        from models.generator_card import write_generator_card

        write_generator_card(generator.folder)
    print(json.dumps(report) if args.json else format_report(report))
    return 0


def add_parsers(sub, train_sub, eval_sub) -> None:
    jobpost = sub.add_parser("jobpost", help="write a job description from a title")
    jobpost.add_argument("title",
                         help='job title, optionally with context: "Data Scientist, remote"')
    jobpost.add_argument("--n", type=int, default=1, help="number of drafts")
    jobpost.add_argument("--seed", type=int, default=0)
    jobpost.add_argument("--max-new-tokens", type=int, default=400)
    jobpost.add_argument("--stream", action="store_true", help="print text as it is generated")
    jobpost.add_argument("--json", action="store_true", help="one JSON object per draft")
    jobpost.add_argument("--model", type=Path, help="generator folder (default: the setting)")
    jobpost.set_defaults(func=cmd_jobpost)

    train = train_sub.add_parser("generator", help="train or fine-tune the JD generator")
    train.add_argument("--base", default="bundled",
                       help="bundled | scratch | distilgpt2 | gpt2 | PATH (default: bundled)")
    train.add_argument("--data", type=Path, nargs="+",
                       help="CSV/JSONL postings: title, description")
    train.add_argument("--out", type=Path, help="output folder")
    train.add_argument("--epochs", type=float)
    train.add_argument("--time-budget", type=float, metavar="MIN",
                       help="wall-clock minutes (alone: the schedule follows the clock)")
    train.add_argument("--max-steps", type=int, metavar="N",
                       help="optimizer steps; step-bound runs give the same weights anywhere "
                            "(the bundled recipe: 3300, with --time-budget as a guard)")
    train.add_argument("--recipe", choices=["bundled", "baseline"], default="bundled",
                       help="bundled recipe, or the issue's 20-minute baseline for comparison")
    train.add_argument("--eval-docs", type=int, help="evaluate on the first N held-out postings")
    train.add_argument("--seed", type=int, default=0)
    train.set_defaults(func=cmd_train_generator)

    lex = train_sub.add_parser("lexicon", help="rebuild a generator folder's title lexicon")
    lex.add_argument("--data", type=Path, nargs="+", help="CSV/JSONL postings: title, description")
    lex.add_argument("--out", type=Path, required=True, help="generator folder")
    lex.set_defaults(func=cmd_train_lexicon)

    ev = eval_sub.add_parser("generator", help="bits/char, repetition, relevance, structure")
    ev.add_argument("--model", type=Path, help="generator folder (default: the setting)")
    ev.add_argument("--data", type=Path, nargs="+", help="held-out postings CSV/JSONL")
    ev.add_argument("--titles", type=int, default=100)
    ev.add_argument("--samples-per-title", type=int, default=2)
    ev.add_argument("--max-new-tokens", type=int, default=400)
    ev.add_argument("--json", action="store_true")
    ev.add_argument("--save", action="store_true", help="write EVAL.json and the model card")
    ev.set_defaults(func=cmd_eval_generator)
