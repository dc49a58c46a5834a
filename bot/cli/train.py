"""``hirebot train classifier | generator | matcher | role | lexicon | refresh-data``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.cli.exits import EXIT_OK
from bot.config import Settings
from bot.services.errors import UserError
from bot.services.inputs import labelled_training_data, postings_corpus
from bot.services.refresh import build_shipped_refresh_data
from bot.services.versions import embedder_for


def cmd_train_classifier(args: argparse.Namespace, settings: Settings) -> int:
    from models.screening.training import train_classifier

    data = labelled_training_data(args.data, settings)
    out = args.out or (settings.data_dir / "classifier")
    command = "hirebot train classifier" + "".join(f" --data {p}" for p in args.data or [])
    if args.out:
        command += f" --out {args.out}"
    metrics = train_classifier(data, out, embedder_for(settings), seed=args.seed,
                               command=command)
    print(json.dumps(metrics, indent=2))
    return EXIT_OK


def cmd_train_generator(args: argparse.Namespace, settings: Settings) -> int:
    from models.generation.training import (
        BaseModelError,
        GeneratorRecipe,
        load_base_model,
        train_generator,
        write_generator_folder,
    )

    corpus = postings_corpus(args.data, settings)
    recipe = GeneratorRecipe.baseline() if args.recipe == "baseline" else GeneratorRecipe()
    if args.time_budget is not None:
        recipe.time_budget_min = args.time_budget
        recipe.max_steps = 0  # a budget alone: the schedule follows the clock
    if args.max_steps is not None:
        recipe.max_steps = args.max_steps
    if args.epochs is not None:
        recipe.epochs = args.epochs
    recipe.seed = args.seed
    shared = settings.resolved_shared_data()
    try:
        model, tokenizer = load_base_model(
            args.base, recipe, corpus, shared / "gpt2_tokenizer" if shared else None)
    except BaseModelError as exc:
        raise UserError(str(exc)) from None
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
    info = write_generator_folder(model, tokenizer, out, info, corpus)
    print(json.dumps({"out": str(out), "version": info["version"],
                      "held_out_bits_per_char": result.held_out_bits_per_char,
                      "steps": result.steps, "tokens_per_second": result.tokens_per_second}))
    return 0


def cmd_train_matcher(args: argparse.Namespace, settings: Settings) -> int:
    """The CV-JD matcher from ../shared/data; ``hirebot eval matcher`` measures it."""
    from bot.services.versions import load_screening_model
    from models.common.occupations import OccupationResolver
    from models.refresh.matcher import train_from_shared

    shared = settings.resolved_shared_data()
    if shared is None:
        raise UserError("Training the matcher needs ../shared/data (or "
                        "HIREBOT_SHARED_DATA_DIR).")
    embedder = embedder_for(settings)
    out = args.out or (settings.data_dir / "matcher")
    _, report = train_from_shared(
        shared, embedder, OccupationResolver.load(embedder), out,
        screening=load_screening_model(settings, embedder=embedder),
        cache_dir=settings.data_dir / "cache", seed=args.seed)
    print(json.dumps({"out": str(out), **report}, indent=2))
    return EXIT_OK


def cmd_train_role(args: argparse.Namespace, settings: Settings) -> int:
    """A head for one role title from generated examples; it serves only if it beats the
    pooled score on the real labelled CVs."""
    from tqdm import tqdm

    from bot.services.model_service import ModelService
    from bot.services.role_heads import head_path, train_role

    models = ModelService(settings)
    with tqdm(total=2 * args.synthetic, desc="generated examples", unit="JD",
              disable=args.json or None) as bar:
        head = train_role(settings, models, args.title, synthetic=args.synthetic,
                          progress=bar.update)
    report = {"role": head.role, "head": head.kind, "serves": head.serves,
              "figures": head.figures, **head.data, "file": str(head_path(settings, head.role))}
    if args.json:
        print(json.dumps(report, indent=2))
        return EXIT_OK
    f = head.figures
    print(f"{head.role}: {head.data['synthetic_per_side']} generated JDs for the role and as "
          f"many for {', '.join(head.data['contrasting_roles'])}"
          + (f", plus {head.data['team_votes']} team votes" if head.data["team_votes"] else ""))
    if "pooled_auc" in f:
        print(f"AUC on {f['real_cvs']} real labelled CVs ({f['real_cvs_of_the_role']} of the "
              f"role): category only {f['category_only_auc']}, pooled (category + JD match) "
              f"{f['pooled_auc']}, SVM head {f['svm_head_auc']}, logistic head "
              f"{f['logistic_head_auc']}" + (
                  f"; out of fold: category only {f['out_of_fold_category_only_auc']}, pooled "
                  f"{f['out_of_fold_pooled_auc']}" if "out_of_fold_pooled_auc" in f else ""))
    print(("Serves this role: " if head.serves else "Does not serve: ") + head.data["why"])
    return EXIT_OK


def cmd_train_lexicon(args: argparse.Namespace, settings: Settings) -> int:
    """Rebuild only the title lexicon of a generator folder (``train generator`` also does)."""
    from models.generation.title_lexicon import build_lexicon, save_lexicon

    corpus = postings_corpus(args.data, settings)
    if not (args.out / "config.json").is_file():
        raise UserError(f"{args.out} holds no generator model.")
    lexicon = build_lexicon(corpus.train)
    path = save_lexicon(lexicon, args.out)
    print(json.dumps({"out": str(path), "families": len(lexicon)}))
    return 0


def cmd_train_refresh_data(args: argparse.Namespace, settings: Settings) -> int:
    """Derived rows (embeddings, out-of-fold decisions, labels) shipped beside the classifier,
    and the generator's anchor postings."""
    command = "hirebot train refresh-data" + (f" --out {args.out}" if args.out else "") + (
        f" --only {args.only}" if args.only else "")

    def show(part: str, summary: dict) -> None:
        if part == "anchor":
            print(json.dumps({"anchor": summary}), flush=True)
        else:
            print(json.dumps({k: v for k, v in summary.items() if k != "classes"}, indent=2))

    build_shipped_refresh_data(settings, args.only, args.out, command, on_part=show)
    return 0


def add_parsers(sub) -> None:
    train = sub.add_parser("train", help="train a model")
    train_sub = train.add_subparsers(dest="what", required=True)
    clf = train_sub.add_parser("classifier", help="train the CV classifier")
    clf.add_argument("--data", type=Path, nargs="+", help="CSV files: text + category")
    clf.add_argument("--out", type=Path, help="output folder")
    clf.add_argument("--seed", type=int, default=0)
    clf.set_defaults(func=cmd_train_classifier)

    gen = train_sub.add_parser("generator", help="train or fine-tune the JD generator")
    gen.add_argument("--base", default="bundled",
                     help="bundled | scratch | distilgpt2 | gpt2 | PATH (default: bundled)")
    gen.add_argument("--data", type=Path, nargs="+",
                     help="CSV/JSONL postings: title, description")
    gen.add_argument("--out", type=Path, help="output folder")
    gen.add_argument("--epochs", type=float)
    gen.add_argument("--time-budget", type=float, metavar="MIN",
                     help="wall-clock minutes (alone: the schedule follows the clock)")
    gen.add_argument("--max-steps", type=int, metavar="N",
                     help="optimizer steps; step-bound runs give the same weights anywhere "
                          "(the bundled recipe: 3300, with --time-budget as a guard)")
    gen.add_argument("--recipe", choices=["bundled", "baseline"], default="bundled",
                     help="bundled recipe, or the issue's 20-minute baseline for comparison")
    gen.add_argument("--eval-docs", type=int, help="evaluate on the first N held-out postings")
    gen.add_argument("--seed", type=int, default=0)
    gen.set_defaults(func=cmd_train_generator)

    matcher = train_sub.add_parser(
        "matcher", help="train the CV-JD matcher (pairwise loss, constructed pairs)")
    matcher.add_argument("--out", type=Path,
                         help="output folder (the shipped one: models/bundled/matcher)")
    matcher.add_argument("--seed", type=int, default=0)
    matcher.set_defaults(func=cmd_train_matcher)

    role = train_sub.add_parser(
        "role", help="a head for one role title, bootstrapped from generated examples")
    role.add_argument("title", help='the role, e.g. "Senior DevOps Engineer"')
    role.add_argument("--synthetic", type=int, default=24, metavar="N",
                      help="generated JDs for the role, and as many for contrasting roles")
    role.add_argument("--json", action="store_true")
    role.set_defaults(func=cmd_train_role)

    lex = train_sub.add_parser("lexicon", help="rebuild a generator folder's title lexicon")
    lex.add_argument("--data", type=Path, nargs="+", help="CSV/JSONL postings: title, description")
    lex.add_argument("--out", type=Path, required=True, help="generator folder")
    lex.set_defaults(func=cmd_train_lexicon)

    data = train_sub.add_parser(
        "refresh-data", help="the shipped data refreshes train and gate on")
    data.add_argument("--out", type=Path, help="classifier folder (default: the bundled one)")
    data.add_argument("--only", choices=("classifier", "generator"))
    data.set_defaults(func=cmd_train_refresh_data)
