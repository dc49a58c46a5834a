"""The house rules of the code: imports go one way only, and no file grows past 500 lines.

Every module of ``bot/``, ``handlers/``, ``models/`` and ``bench/`` is parsed with ``ast`` (so
imports inside functions count too) and placed in a room; an import may go down to a lower
room or stay inside its own, never up, never sideways into a sibling, and never close a
circle. The README's "Layout" section is the human copy of :data:`ROOMS`.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "models", "bench")

#: room -> (rank, members). A module may import rooms of a lower rank, and its own room.
#: A member ending in ``.*`` is a package and everything in it; others are exact modules.
ROOMS: dict[str, tuple[float, tuple[str, ...]]] = {
    # above the CLI, not beside it: a benchmark drives the composed app (bot.cli.app)
    "bench": (9, ("bench", "bench.*")),
    "cli": (8, ("bot.cli", "bot.cli.*")),
    # entry points kept at their old path: ``python -m bot.refresh``, stored schedules; they
    # start refreshes with the Slack reporter, so they sit just above bot/slack
    "entry points": (5.5, ("bot.refresh",)),
    "handlers": (6, ("handlers", "handlers.*")),
    "slack": (5, ("bot.slack", "bot.slack.*")),
    "services": (4, ("bot.services", "bot.services.*")),
    "core": (3, ("bot", "bot.config", "bot.storage", "bot.event_ledger", "bot.worker",
                 "bot.scheduler", "bot.logging_setup", "bot.schema", "bot.database",
                 "bot.migrations", "bot.migrations.*", "bot.leases", "bot.jobs",
                 "bot.job_ledger", "bot.celery_queue")),
    "models/refresh": (2, ("models.refresh", "models.refresh.*")),
    "models/screening": (1, ("models.screening", "models.screening.*")),
    "models/generation": (1, ("models.generation", "models.generation.*")),
    "models/matching": (1, ("models.matching", "models.matching.*")),
    "models/common": (0, ("models", "models.common", "models.common.*")),
}
#: Modules every other room reads: they import nothing of the project, or only these.
LEAVES: dict[str, set[str]] = {
    "bot.config": set(), "bot.event_ledger": {"bot.schema"}, "bot.worker": set(),
    "bot.logging_setup": set(), "bot.schema": set(), "bot.database": set(),
    "bot.storage": {"bot.event_ledger", "bot.schema", "bot.database", "bot.config"},
    "bot.leases": {"bot.schema", "bot.storage"}, "bot.job_ledger": {"bot.schema", "bot.storage"},
    "bot.jobs": {"bot.worker"},
    "bot.celery_queue": {"bot.config", "bot.job_ledger", "bot.jobs"},
    "bot.scheduler": {"bot.config", "bot.storage", "bot.database", "bot.leases"}}
#: Rooms stricter than their rank: they may import only these rooms (and themselves).
ONLY: dict[str, set[str]] = {"handlers": {"slack"}}
#: Third-party modules a room must not import (front-end code stays in the front ends).
FRONT_END = {"slack_sdk", "slack_bolt", "argparse", "optparse", "getopt", "click", "typer"}
#: Ways to import that the graph cannot follow: not imported anywhere in these folders.
DYNAMIC = {"importlib", "runpy", "pkgutil"}
NO_FRONT_END = {"models/refresh", "models/screening", "models/generation", "models/matching",
                "models/common",
                "core", "services"}
MAX_LINES = 500
#: Files allowed past MAX_LINES, and why splitting them would scatter one idea.
LONG_FILES: dict[str, str] = {}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_sources() -> dict[str, str]:
    return {module_name(p): p.read_text(encoding="utf-8")
            for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def room_of(module: str) -> str | None:
    for room, (_, members) in ROOMS.items():
        for member in members:
            if module == member or (member.endswith(".*") and module.startswith(member[:-1])):
                return room
    return None


def imports_of(module: str, source: str, known: set[str]) -> list[tuple[str, int]]:
    """(imported name, line) for every import in the source, function-level ones included.

    ``from a import b`` names the module ``a.b`` when it is one, else ``a``.
    """
    is_package = module + ".__init__" in known or any(k.startswith(module + ".") for k in known)
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _is_dynamic_import(node.func):
            found.append(("<dynamic import>", node.lineno))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".")
                parts = parts if is_package else parts[:-1]
                parts = parts[:len(parts) - (node.level - 1)]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.append((full if full in known else base, node.lineno))
    return found


def violations(sources: dict[str, str]) -> list[str]:
    known = set(sources)
    problems: list[str] = []
    graph: dict[str, set[str]] = {m: set() for m in sources}
    for module, source in sources.items():
        room = room_of(module)
        if room is None:
            problems.append(f"{module}: in no room of the layer order (add it to ROOMS)")
        for name, line in imports_of(module, source, known):
            if name == "<dynamic import>":
                problems.append(f"{module}:{line} imports dynamically; the layer order cannot "
                                "check that")
                continue
            top = name.split(".")[0]
            if top not in PACKAGES:
                if top in DYNAMIC:
                    problems.append(f"{module}:{line} imports {top}; dynamic imports are not "
                                    "allowed (the layer order cannot check them)")
                if room in NO_FRONT_END and top in FRONT_END:
                    problems.append(f"{module}:{line} imports {top}: the {room} room has no "
                                    "Slack or command-line code")
                continue
            target = name if name in known else next(
                (k for k in sorted(known, key=len, reverse=True) if name.startswith(k + ".")),
                name)
            graph[module].add(target)
            if room is None:
                continue  # only its circles can be judged
            if module in LEAVES and target not in LEAVES[module]:
                allowed = ", ".join(sorted(LEAVES[module])) or "nothing of the project"
                problems.append(f"{module}:{line} imports {target}; it may import {allowed}")
                continue
            target_room = room_of(target)
            if target_room is None or target_room == room:
                continue
            if room in ONLY and target_room not in ONLY[room]:
                problems.append(f"{module}:{line} imports {target}; {room} may import only "
                                f"{', '.join(sorted(ONLY[room]))}")
                continue
            if ROOMS[target_room][0] >= ROOMS[room][0]:
                way = "sideways" if ROOMS[target_room][0] == ROOMS[room][0] else "up"
                problems.append(f"{module}:{line} imports {target} ({way}: {room} -> "
                                f"{target_room})")
    problems.extend(f"import circle among: {', '.join(cycle)}" for cycle in _cycles(graph))
    return problems


def _is_dynamic_import(func: ast.expr) -> bool:
    """``importlib.import_module(...)``, ``__import__(...)``, ``runpy.run_module(...)``: an
    import the graph cannot see, so none is allowed."""
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in {"import_module", "__import__", "run_module"}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in graph:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


# ------------------------------------------------------------------------------ the tree
def test_every_import_goes_down_and_none_closes_a_circle():
    assert violations(project_sources()) == []


#: Imports of the old tree (issue 11), at their new addresses: each must be caught.
OFFENDERS = [
    # services took load_screening_model from the CLI
    ("bot.services.model_service", "from bot.cli.screen import cmd_screen"),
    # the listener logic took UserError / validate_role from the CLI
    ("bot.slack.bot", "from bot.cli.parser import build_parser"),
    # the Bolt app module imported the handlers
    ("bot.slack.app", "from handlers import register_all"),
    # the CLI's model commands and the services imported each other
    ("bot.services.versions", "from bot.cli.models import cmd_models_list"),
    # the serving classifier imported the refresh code (a circle in models/)
    ("models.screening.classifier",
     "def _late():\n    from models.refresh.classifier import fit_head"),
    # the training child imported Slack's WebClient
    ("bot.services.refresh_child", "from slack_sdk import WebClient"),
    # the lowest room imported the document reader (pypdf, pdfium, docx) at import
    ("bot.config", "from models.screening.documents import DocumentLimits"),
    # a listener doing a service's work itself
    ("handlers.file_share", "from bot.services.screening import ScreeningDesk"),
    # the entry points sit below the listeners
    ("bot.refresh", "import handlers"),
    # screening and generation are siblings
    ("models.generation.generator", "from models.screening.taxonomy import category_name"),
    # models never import bot
    ("models.refresh.pipeline", "from bot.config import get_settings"),
]


@pytest.mark.parametrize(("module", "line"), OFFENDERS, ids=[m for m, _ in OFFENDERS])
def test_putting_back_an_old_offending_import_fails(module, line):
    sources = project_sources()
    sources[module] = sources[module] + "\n" + line + "\n"
    found = violations(sources)
    assert any(v.startswith(module + ":") for v in found), f"{line!r} in {module} not caught"


def test_a_dynamic_import_and_a_scheduler_import_are_caught():
    sources = project_sources()
    sources["bot.services.status"] += "\nimport importlib\nimportlib.import_module('bot.cli')\n"
    sources["bot.scheduler"] += "\nfrom bot.services.refresh import spawn_refresh\n"
    found = violations(sources)
    assert any(v.startswith("bot.services.status:") and "dynamically" in v for v in found)
    assert any(v.startswith("bot.scheduler:") for v in found)


def test_what_the_training_process_and_the_serving_classifier_load():
    """At run time, not only in the source: the refresh child loads no Slack code, and the
    serving classifier loads no refresh code."""
    probe = (
        "import sys\n"
        "import bot.refresh, bot.services.refresh_child, models.screening.screener\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('slack_sdk', 'slack_bolt')"
        " or m.startswith(('bot.slack', 'models.refresh', 'handlers', 'bot.cli')))\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_the_training_process_entry_imports_only_the_child():
    """``python -m bot.refresh`` runs ``main``: it (and the module's top level) may import
    nothing but the child's code, or the training process would load Slack again."""
    tree = ast.parse((ROOT / "bot" / "refresh.py").read_text(encoding="utf-8"))
    main = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main")
    nodes = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    nodes += [n for n in ast.walk(main) if isinstance(n, ast.Import | ast.ImportFrom)]
    names = {a.name if isinstance(n, ast.Import) else n.module for n in nodes for a in n.names}
    assert names <= {"__future__", "argparse", "sys", "bot.services.refresh_child"}


def test_a_circle_inside_one_room_is_caught():
    sources = project_sources()
    sources["bot.services.inputs"] += "\nfrom bot.services.screening import VERDICT_WORDS\n"
    sources["bot.services.screening"] += "\nfrom bot.services.inputs import read_upload\n"
    assert any(v.startswith("import circle") for v in violations(sources))


def test_a_module_outside_every_room_is_caught():
    sources = project_sources()
    sources["bot.helpers"] = "import os\n"
    assert any("bot.helpers: in no room" in v for v in violations(sources))


def test_no_file_in_bot_or_models_is_over_500_lines():
    long = {}
    for package in ("bot", "models"):
        for path in sorted((ROOT / package).rglob("*.py")):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            rel = str(path.relative_to(ROOT))
            if lines > MAX_LINES and rel not in LONG_FILES:
                long[rel] = lines
    assert long == {}
