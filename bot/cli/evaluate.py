"""``hirebot eval classifier | generator | matcher``: the figures in each model card."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from bot.cli.exits import EXIT_OK
from bot.config import Settings
from bot.services.errors import UserError
from bot.services.inputs import held_out_postings, postings_corpus
from bot.services.versions import embedder_for, load_generator, load_screening_model


def cmd_eval_classifier(args: argparse.Namespace, settings: Settings) -> int:
    from models.screening.datasets import load_livecareer, load_updated_dedup
    from models.screening.evaluation import evaluate_dataset

    shared = settings.resolved_shared_data()
    if shared is None:
        raise UserError("The evaluation needs ../shared/data (or HIREBOT_SHARED_DATA_DIR).")
    embedder = embedder_for(settings)
    report = {
        "livecareer": evaluate_dataset(load_livecareer(shared), embedder, folds=5),
        "updated_dedup": evaluate_dataset(load_updated_dedup(shared), embedder, folds=3),
    }
    if args.save:
        _save_classifier_eval(args.save, report)
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{'dataset':15s} {'model':18s} {'accuracy':>9s} {'macro-F1':>9s}")
        for ds, res in report.items():
            for name, r in res.items():
                print(f"{ds:15s} {name:18s} {r['accuracy']:9.3f} {r['macro_f1']:9.3f}")
    return EXIT_OK


def _save_classifier_eval(folder: Path, report: dict) -> None:
    from models.screening.classifier import CVClassifier, Recipe
    from models.screening.training import write_model_card

    # The figures belong to the recipe (folds refit it), so the card shows them only while the
    # folder's model was trained with the same recipe.
    saved = {**report, "recipe": asdict(Recipe())}
    (folder / "EVAL.json").write_text(json.dumps(saved, indent=2))
    write_model_card(folder, CVClassifier.load(folder).metadata)


def cmd_eval_generator(args: argparse.Namespace, settings: Settings) -> int:
    from models.generation.card import write_generator_card
    from models.generation.evaluation import evaluate_generator, format_report

    # the user's own held-out postings are evaluated on whole
    corpus = held_out_postings(args.data) if args.data else postings_corpus(None, settings)
    generator = load_generator(settings, args.model)
    from models.common.occupations import OccupationResolver

    embedder = embedder_for(settings)
    generator.resolver = OccupationResolver.load(embedder)
    report = evaluate_generator(generator, corpus, titles=args.titles,
                                samples_per_title=args.samples_per_title,
                                max_new_tokens=args.max_new_tokens,
                                embedder=embedder,
                                cache_dir=settings.data_dir / "cache")
    report["command"] = "hirebot eval generator" + (" --save" if args.save else "") + "".join(
        f" --data {p}" for p in args.data or [])
    if args.save:
        (generator.folder / "EVAL.json").write_text(json.dumps(report, indent=2))
        write_generator_card(generator.folder)
    print(json.dumps(report) if args.json else format_report(report))
    return 0


def cmd_eval_matcher(args: argparse.Namespace, settings: Settings) -> int:
    from models.common.occupations import OccupationResolver
    from models.matching.matcher import MATCHER_DIR, Matcher
    from models.refresh.matcher import evaluate_all, format_matcher_report, write_report

    shared = settings.resolved_shared_data()
    if shared is None:
        raise UserError("The evaluation needs ../shared/data (or HIREBOT_SHARED_DATA_DIR).")
    folder = args.model or MATCHER_DIR
    embedder = embedder_for(settings)
    try:
        matcher = Matcher.load(folder, embedder=embedder)
    except (FileNotFoundError, ValueError) as exc:
        raise UserError(str(exc)) from exc
    resolver = OccupationResolver.load(embedder)
    report = evaluate_all(matcher, shared, resolver,
                          screening=load_screening_model(settings, embedder=embedder),
                          cache_dir=settings.data_dir / "cache")
    if args.roles:
        from bot.services.model_service import ModelService
        from models.refresh.role_eval import per_role_auc

        service = ModelService(settings)
        report["per_role"] = per_role_auc(shared, embedder, resolver, service.jd_for_title,
                                          cache_dir=settings.data_dir / "cache")
        report["command"] += " --roles"
    if args.save:
        write_report(folder, report)
    print(json.dumps(report, indent=2) if args.json else format_matcher_report(report))
    return EXIT_OK


def add_parsers(sub) -> None:
    evaluate = sub.add_parser("eval", help="evaluate a model")
    eval_sub = evaluate.add_subparsers(dest="what", required=True)
    clf = eval_sub.add_parser("classifier", help="cross-validate against baselines")
    clf.add_argument("--json", action="store_true")
    clf.add_argument("--save", type=Path, help="model folder whose card gets the figures")
    clf.set_defaults(func=cmd_eval_classifier)

    gen = eval_sub.add_parser("generator", help="bits/char, invented words, cut lines, "
                                                "relevance, must terms, resolver, inclusive")
    gen.add_argument("--model", type=Path, help="generator folder (default: the setting)")
    gen.add_argument("--data", type=Path, nargs="+", help="held-out postings CSV/JSONL")
    gen.add_argument("--titles", type=int, default=40)
    gen.add_argument("--samples-per-title", type=int, default=1)
    gen.add_argument("--max-new-tokens", type=int, default=600)
    gen.add_argument("--json", action="store_true")
    gen.add_argument("--save", action="store_true", help="write EVAL.json and the model card")
    gen.set_defaults(func=cmd_eval_generator)

    match = eval_sub.add_parser("matcher", help="AUC on real labelled JDs, hard-negative "
                                                "accuracy, calibration, vs TF-IDF and MiniLM")
    match.add_argument("--model", type=Path, help="matcher folder (default: the bundled one)")
    match.add_argument("--json", action="store_true")
    match.add_argument("--save", action="store_true", help="write EVAL.json and the model card")
    match.add_argument("--roles", action="store_true",
                       help="also the per-role AUC on the Updated CVs, out of fold (~20 min)")
    match.set_defaults(func=cmd_eval_matcher)
