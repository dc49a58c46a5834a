"""The ``hirebot`` command line: everything the Slack app does is reachable from here.

Exit codes follow the screening contract: 0 when every CV got a verdict, 2 when any input was
rejected (or the request itself is bad), 1 on an internal fault. Faults are logged without CV
text and reported as one line, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import unicodedata
from pathlib import Path

from bot.config import Settings, get_settings
from bot.generator_commands import GeneratorUserError
from bot.logging_setup import configure_logging
from bot.models_commands import ModelsUserError
from bot.refresh_commands import RefreshUserError

logger = logging.getLogger("hirebot")

EXIT_OK, EXIT_FAULT, EXIT_REJECTED = 0, 1, 2
MAX_ROLE_CHARS = 120


class UserError(Exception):
    """A problem with what the user asked for; reported as one line, exit 2."""


class ConfigError(Exception):
    """hirebot is set up wrongly (missing or mismatched model); one line, exit 1."""


def validate_role(role: str) -> str:
    role = " ".join((role or "").split())
    if not role:
        raise UserError("Please give a role title, e.g. --role \"Registered Nurse\".")
    if len(role) > MAX_ROLE_CHARS:
        raise UserError(f"The role title is longer than {MAX_ROLE_CHARS} characters.")
    if any(unicodedata.category(ch).startswith("C") for ch in role):
        raise UserError("The role title contains control characters.")
    return role


# ------------------------------------------------------------------------------------ screen
def load_screening_model(settings: Settings, folder: Path | None = None):
    from models.screening import ScreeningModel

    if folder is None and settings.classifier_dir is None:  # the registry's active version
        from bot.models_commands import registry_for

        folder = registry_for(settings, "classifier").active_dir()
    try:
        return ScreeningModel.load(
            folder or settings.classifier_dir,
            embedding_model=settings.embedding_model,
            precision=settings.embedding_precision,
        )
    except (FileNotFoundError, ValueError) as exc:
        raise ConfigError(f"cannot load the screening model: {exc}") from None


def read_inputs(paths: list[Path], settings: Settings) -> list:
    from models.documents import DocumentError, read_document_file

    limits = settings.document_limits()
    docs: list = []
    for path in paths:
        if not path.is_file():
            docs.append(DocumentError(path.name, "not_found", f"{path} is not a readable file."))
            continue
        try:
            docs.extend(read_document_file(path, limits))
        except OSError as exc:
            docs.append(
                DocumentError(path.name, "unreadable", f"Could not open the file ({exc.strerror}).")
            )
    return docs


def read_jd(path: Path | None, settings: Settings) -> str | None:
    if path is None:
        return None
    from models.documents import DocumentError

    limits = settings.document_limits()
    docs = read_inputs([path], settings)
    if len(docs) != 1 or isinstance(docs[0], DocumentError):
        reason = docs[0].message if docs and isinstance(docs[0], DocumentError) else "one file"
        raise UserError(f"Could not use the job description {path.name}: {reason}")
    del limits
    return docs[0].text


def cmd_screen(args: argparse.Namespace, settings: Settings) -> int:
    from models.screening import Thresholds

    role = validate_role(args.role)
    jd_text = read_jd(args.jd, settings)
    docs = read_inputs(args.files, settings)
    model = load_screening_model(settings)
    profile = model.role_profile(role, jd_text)
    results = model.screen_documents(
        docs,
        profile,
        thresholds=Thresholds(settings.fit_threshold, settings.maybe_threshold),
        top_k=settings.top_categories,
    )
    if args.json:
        for result in results:
            public = {k: v for k, v in result.items() if not k.startswith("_")}
            print(json.dumps(public, ensure_ascii=False, sort_keys=False))
    else:
        print(format_table(results))
    return EXIT_REJECTED if any("error" in r for r in results) else EXIT_OK


VERDICT_WORDS = {"fit": "Fit", "maybe": "Maybe", "no_fit": "No fit"}


def format_table(results: list[dict]) -> str:
    rows = [("file", "verdict", "score", "category", "matched skills")]
    for r in results:
        if "error" in r:
            rows.append((r["file"], "REJECTED", "", r["error"]["code"], r["error"]["message"]))
        else:
            rows.append(
                (
                    r["file"],
                    VERDICT_WORDS[r["verdict"]],
                    f"{r['score']:.2f}",
                    r["category"],
                    ", ".join(r["evidence"]["matched"][:4]),
                )
            )
    widths = [min(max(len(row[i]) for row in rows), 40) for i in range(4)]
    lines = []
    for row in rows:
        cells = [row[i][: widths[i]].ljust(widths[i]) for i in range(4)]
        lines.append("  ".join(cells + [row[4]]))
    return "\n".join(lines)


# ------------------------------------------------------------------------------------ train
def default_training_data(settings: Settings):
    from models.datasets import concat, load_livecareer, load_updated_dedup

    shared = settings.resolved_shared_data()
    if shared is None:
        raise UserError(
            "No training data: pass --data FILE.csv or set HIREBOT_SHARED_DATA_DIR to the "
            "folder holding resumes/*.csv."
        )
    return concat([load_livecareer(shared), load_updated_dedup(shared)], name="livecareer+updated")


def cmd_train_classifier(args: argparse.Namespace, settings: Settings) -> int:
    from models.datasets import concat, load_labelled_csv
    from models.embeddings import FastEmbedder
    from models.training import train_classifier

    if args.data:
        data = concat([load_labelled_csv(p) for p in args.data], name="+".join(
            p.stem for p in args.data))
    else:
        data = default_training_data(settings)
    out = args.out or (settings.data_dir / "classifier")
    embedder = FastEmbedder(settings.embedding_model, precision=settings.embedding_precision)
    command = "hirebot train classifier" + "".join(f" --data {p}" for p in args.data or [])
    if args.out:
        command += f" --out {args.out}"
    metrics = train_classifier(data, out, embedder, seed=args.seed, command=command)
    print(json.dumps(metrics, indent=2))
    return EXIT_OK


def cmd_eval_classifier(args: argparse.Namespace, settings: Settings) -> int:
    from models.datasets import load_livecareer, load_updated_dedup
    from models.embeddings import FastEmbedder
    from models.evaluation import evaluate_dataset

    shared = settings.resolved_shared_data()
    if shared is None:
        raise UserError("The evaluation needs ../shared/data (or HIREBOT_SHARED_DATA_DIR).")
    embedder = FastEmbedder(settings.embedding_model, precision=settings.embedding_precision)
    report = {
        "livecareer": evaluate_dataset(load_livecareer(shared), embedder, folds=5),
        "updated_dedup": evaluate_dataset(load_updated_dedup(shared), embedder, folds=3),
    }
    if args.save:
        _save_eval(args.save, report)
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{'dataset':15s} {'model':18s} {'accuracy':>9s} {'macro-F1':>9s}")
        for ds, res in report.items():
            for name, r in res.items():
                print(f"{ds:15s} {name:18s} {r['accuracy']:9.3f} {r['macro_f1']:9.3f}")
    return EXIT_OK


def _save_eval(folder: Path, report: dict) -> None:
    from dataclasses import asdict

    from models.classifier import CVClassifier, Recipe
    from models.training import write_model_card

    # The figures belong to the recipe (folds refit it), so the card shows them only while the
    # folder's model was trained with the same recipe.
    saved = {**report, "recipe": asdict(Recipe())}
    (folder / "EVAL.json").write_text(json.dumps(saved, indent=2))
    write_model_card(folder, CVClassifier.load(folder).metadata)


# ------------------------------------------------------------------------------------ run
DEMO_SCRIPT = [
    "/jobpost Data Scientist",
    "upload {cv}",
    "/screen Registered Nurse",
    "upload {cv}",
    "/hirebot status",
]


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Socket Mode with both Slack tokens, HTTP with ``--http``, otherwise the local shell."""
    from bot.slack_app import run_http, run_socket_mode

    if args.http:
        if settings.slack_bot_token is None:
            raise UserError("HTTP mode needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET.")
        return run_http(settings, port=args.port)
    if settings.slack_bot_token is not None and settings.slack_app_token is not None:
        return run_socket_mode(settings)
    if settings.slack_bot_token is not None:
        raise UserError("SLACK_BOT_TOKEN is set but SLACK_APP_TOKEN is not: set the app-level "
                        "token for Socket Mode, or use `hirebot run --http` with "
                        "SLACK_SIGNING_SECRET.")
    print("No Slack tokens set: opening the local shell (the same app, no workspace).",
          file=sys.stderr)
    return cmd_shell(argparse.Namespace(demo=not sys.stdin.isatty()), settings)


def cmd_shell(args: argparse.Namespace, settings: Settings) -> int:
    from bot.shell import run_shell
    from models.screening import BUNDLED_DIR

    lines = None
    if args.demo:
        cv = BUNDLED_DIR.parent / "demo" / "sample_resume.txt"
        lines = [line.format(cv=cv) for line in DEMO_SCRIPT]
    return run_shell(settings, lines)


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    """What ``/hirebot status`` and the App Home show, from the same store and model folders."""
    from bot.services import ModelService
    from bot.storage import Store

    models = ModelService(settings)
    store = Store(settings.db_path)
    try:
        report = {"models": models.model_cards(), "counts": store.counts(),
                  "data_dir": str(settings.data_dir)}
    finally:
        store.close()
    if args.json:
        print(json.dumps(report, indent=2))
        return EXIT_OK
    for card in report["models"]:
        metrics = ", ".join(f"{k} {v}" for k, v in card["metrics"].items() if v is not None)
        print(f"{card['model']:10s} {card['version']:14s} {metrics}")
    counts = report["counts"]
    print(f"{counts['jobposts']} JDs ({counts['approved_jobposts']} approved), "
          f"{counts['screenings']} screenings, {counts['feedback']} feedback votes; team data: "
          f"{counts['team_postings']} added postings, {counts['labelled_cvs']} labelled CVs")
    print(f"data: {report['data_dir']}")
    return EXIT_OK


# ------------------------------------------------------------------------------------ main
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hirebot", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    screen = sub.add_parser("screen", help="screen CV files (PDF, DOCX, TXT/MD, ZIP) for a role")
    screen.add_argument("files", nargs="+", type=Path, metavar="FILE")
    screen.add_argument("--role", required=True, help="role title, e.g. 'Registered Nurse'")
    screen.add_argument("--jd", type=Path, help="job description file (its skills are used)")
    screen.add_argument("--json", action="store_true", help="one JSON object per CV per line")
    screen.set_defaults(func=cmd_screen)

    train = sub.add_parser("train", help="train a model")
    train_sub = train.add_subparsers(dest="what", required=True)
    train_clf = train_sub.add_parser("classifier", help="train the CV classifier")
    train_clf.add_argument("--data", type=Path, nargs="+", help="CSV files: text + category")
    train_clf.add_argument("--out", type=Path, help="output folder")
    train_clf.add_argument("--seed", type=int, default=0)
    train_clf.set_defaults(func=cmd_train_classifier)

    evaluate = sub.add_parser("eval", help="evaluate a model")
    eval_sub = evaluate.add_subparsers(dest="what", required=True)
    eval_clf = eval_sub.add_parser("classifier", help="cross-validate against baselines")
    eval_clf.add_argument("--json", action="store_true")
    eval_clf.add_argument("--save", type=Path, help="model folder whose card gets the figures")
    eval_clf.set_defaults(func=cmd_eval_classifier)

    from bot.generator_commands import add_parsers
    from bot.models_commands import add_parsers as add_model_parsers
    from bot.refresh_commands import add_parsers as add_refresh_parsers

    add_parsers(sub, train_sub, eval_sub)
    add_model_parsers(sub)
    add_refresh_parsers(sub, train_sub)

    run = sub.add_parser("run", help="run the Slack app (no Slack tokens: the local shell)")
    run.add_argument("--http", action="store_true",
                     help="serve /slack/events over HTTP instead of Socket Mode")
    run.add_argument("--port", type=int, help="HTTP port (default: the http_port setting)")
    run.set_defaults(func=cmd_run)

    shell = sub.add_parser("shell", help="use the Slack app from this terminal, no workspace")
    shell.add_argument("--demo", action="store_true", help="run a short scripted session")
    shell.set_defaults(func=cmd_shell)

    status = sub.add_parser("status", help="model versions, metrics and counts")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level)
    try:
        return args.func(args, settings)
    except (UserError, GeneratorUserError, ModelsUserError, RefreshUserError) as exc:
        print(f"hirebot: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    except ConfigError as exc:
        print(f"hirebot: {exc}", file=sys.stderr)
        return EXIT_FAULT
    except KeyboardInterrupt:
        return 130
    except Exception:  # noqa: BLE001 - last line of defence: one line for the user, log for us
        logger.exception("internal error in %s", args.command)
        print("hirebot: internal error; see the log above.", file=sys.stderr)
        return EXIT_FAULT


if __name__ == "__main__":
    sys.exit(main())
