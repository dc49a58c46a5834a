"""Versioned model folders under the data directory, with an atomically switched active pointer.

Layout, per model kind (``classifier``, ``generator`` or ``matcher``)::

    DATA_DIR/models/KIND/versions/VERSION/   weights, tokenizer, metrics, data hashes, card
    DATA_DIR/models/KIND/ACTIVE.json         {"version": ..., "history": [older actives]}
    DATA_DIR/models/KIND/runs/RUN.json       one record per refresh attempt
    DATA_DIR/models/KIND/tmp-RUN/            a run's output until it is complete

A refresh writes into ``tmp-RUN``; only a complete folder is renamed into ``versions/`` (one
``os.replace`` on the same file system), and only the gate moves ``ACTIVE.json`` (written to a
temporary file, then ``os.replace``), so a process killed at any moment leaves the active model
untouched and loadable. :meth:`Registry.recover` removes left-over ``tmp-*`` folders and marks
runs that never finished as failed. The bundled model is version zero: with no pointer, it is
the active one, and a rollback can always return to it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

BUNDLED = "bundled"
KINDS = ("classifier", "generator", "matcher")
CHECKSUMS = "CHECKSUMS.json"  # written into a version folder as it is committed


@dataclass
class RunRecord:
    run_id: str
    kind: str
    status: str  # running | promoted | rejected | failed
    started: float
    pid: int
    finished: float | None = None
    version: str | None = None
    reason: str = ""
    figures: dict = field(default_factory=dict)
    data_hash: str | None = None  # the team data a candidate was trained on


def _write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:6]}.tmp")
    tmp.write_text(json.dumps(data, indent=2))
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class Registry:
    def __init__(self, data_dir: Path, kind: str, bundled_dir: Path, keep: int = 5, *,
                 models_root: Path | None = None):
        """``models_root``: the registry's folder when it is not DATA_DIR/models (a shared
        filesystem every worker reads, ``HIREBOT_MODELS_URL``)."""
        if kind not in KINDS:
            raise ValueError(f"unknown model kind {kind!r}")
        self.kind = kind
        self.root = Path(models_root or Path(data_dir) / "models") / kind
        self.bundled_dir = Path(bundled_dir)
        self.keep = keep
        (self.root / "versions").mkdir(parents=True, exist_ok=True)
        (self.root / "runs").mkdir(parents=True, exist_ok=True)

    # --------------------------------------------------------------------------- the lock
    @contextmanager
    def lock(self, *, wait: bool = False):
        """One refresh of a kind at a time, across processes; yields False when busy.

        An flock on a file in the registry: the OS drops it when its holder dies, however it
        dies, so a killed refresh never leaves the registry locked.
        """
        with (self.root / "refresh.lock").open("w") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # --------------------------------------------------------------------------- pointer
    @property
    def _pointer(self) -> Path:
        return self.root / "ACTIVE.json"

    def _read_pointer(self) -> dict:
        if not self._pointer.is_file():
            return {"version": BUNDLED, "history": []}
        try:
            return json.loads(self._pointer.read_text())
        except ValueError:  # never written half (os.replace), but be safe with hand edits
            logger.error("unreadable %s; serving the bundled model", self._pointer)
            return {"version": BUNDLED, "history": []}

    def active_version(self) -> str:
        version = self._read_pointer()["version"]
        if version != BUNDLED and not (self.root / "versions" / version).is_dir():
            logger.error("active %s version %s is missing; serving the bundled model",
                         self.kind, version)
            return BUNDLED
        return version

    def active_dir(self) -> Path:
        return self.path_of(self.active_version())

    def path_of(self, version: str) -> Path:
        if version == BUNDLED:
            return self.bundled_dir
        path = self.root / "versions" / version
        if not path.is_dir():
            raise KeyError(f"no {self.kind} version {version}")
        return path

    def promote(self, version: str) -> None:
        """Make ``version`` the active one (atomically); the previous goes on the history."""
        self.path_of(version)  # must exist
        pointer = self._read_pointer()
        if pointer["version"] == version:
            return
        history = [pointer["version"], *pointer.get("history", [])][: self.keep + 1]
        _write_json_atomic(self._pointer, {"version": version, "history": history,
                                           "switched_at": time.time()})
        self.prune()

    def rollback(self) -> str:
        """Back to the previous active version (the bundled model when there is none)."""
        pointer = self._read_pointer()
        history = [v for v in pointer.get("history", [])
                   if v == BUNDLED or (self.root / "versions" / v).is_dir()]
        target = history[0] if history else BUNDLED
        _write_json_atomic(self._pointer, {"version": target, "history": history[1:],
                                           "switched_at": time.time(),
                                           "rolled_back_from": pointer["version"]})
        return target

    # --------------------------------------------------------------------------- versions
    def versions(self) -> list[dict]:
        """Every stored version, newest first, with its metrics and whether it is active."""
        active = self.active_version()
        out = [{"version": BUNDLED, "path": str(self.bundled_dir), "created": None,
                "active": active == BUNDLED, "metrics": _metrics(self.bundled_dir)}]
        folders = [p for p in (self.root / "versions").iterdir() if p.is_dir()]
        for folder in sorted(folders, key=lambda p: p.stat().st_mtime, reverse=True):
            out.insert(len(out) - 1, {"version": folder.name, "path": str(folder),
                                      "created": folder.stat().st_mtime,
                                      "active": folder.name == active,
                                      "metrics": _metrics(folder)})
        return out

    def prune(self) -> list[str]:
        """Keep the active version, its rollback history and the newest ``keep`` others."""
        pointer = self._read_pointer()
        protected = {pointer["version"], *pointer.get("history", [])[:2]}
        folders = sorted((p for p in (self.root / "versions").iterdir() if p.is_dir()),
                         key=lambda p: p.stat().st_mtime, reverse=True)
        removed = []
        for folder in folders[self.keep:]:
            if folder.name not in protected:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder.name)
        return removed

    # --------------------------------------------------------------------------- runs
    def start_run(self) -> tuple[RunRecord, Path]:
        run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]
        record = RunRecord(run_id=run_id, kind=self.kind, status="running",
                           started=time.time(), pid=os.getpid())
        tmp = self.root / f"tmp-{run_id}"
        tmp.mkdir(parents=True)  # before the record: a record never points at no folder
        self.save_run(record)
        return record, tmp

    def save_run(self, record: RunRecord) -> None:
        _write_json_atomic(self.root / "runs" / f"{record.run_id}.json", asdict(record))

    def finish_run(self, record: RunRecord, status: str, *, reason: str = "",
                   figures: dict | None = None, version: str | None = None) -> RunRecord:
        record.status = status
        record.finished = time.time()
        record.reason = reason
        record.figures = figures or record.figures
        record.version = version or record.version
        self.save_run(record)
        shutil.rmtree(self.root / f"tmp-{record.run_id}", ignore_errors=True)
        return record

    def commit(self, record: RunRecord, folder: Path, version: str) -> Path:
        """Move a complete candidate folder into ``versions/`` under its content version."""
        target = self.root / "versions" / version
        if target.exists():  # the same weights again: keep the stored copy
            shutil.rmtree(folder, ignore_errors=True)
        else:
            _write_json_atomic(folder / CHECKSUMS, folder_checksums(folder))
            os.replace(folder, target)
        record.version = version
        self.save_run(record)
        return target

    def runs(self, limit: int = 20) -> list[dict]:
        records = []
        for path in (self.root / "runs").glob("*.json"):
            if path.name.endswith(".outcome.json"):  # a refresh's full outcome, not a record
                continue
            try:
                records.append(json.loads(path.read_text()))
            except ValueError:
                continue
        records.sort(key=lambda r: r.get("started", 0), reverse=True)
        return records[:limit]

    def recover(self, *, holding_lock: bool = False) -> list[str]:
        """After a crash: drop unfinished ``tmp-*`` folders and mark dead runs failed.

        Runs only with the refresh lock (taken here unless the caller holds it); while a
        refresh holds it nothing is touched, and with it every "running" record is dead. A run
        that died after its version went into service is marked promoted, not failed.
        """
        if not holding_lock:
            with self.lock() as acquired:
                return self.recover(holding_lock=True) if acquired else []
        active = self.active_version()
        changed = []
        for record in self.runs(limit=10_000):
            if record.get("status") != "running":
                continue
            run = RunRecord(**record)
            if run.version and run.version == active:
                self.finish_run(run, "promoted", reason="promoted; the process stopped before "
                                                        "it could report")
            else:
                self.finish_run(run, "failed", reason="the training process stopped before it "
                                                      "finished (killed, out of memory or disk "
                                                      "full); the active model is unchanged")
            changed.append(run.run_id)
        for tmp in self.root.glob("tmp-*"):
            shutil.rmtree(tmp, ignore_errors=True)
        return changed

    def seen_data(self, data_hash: str) -> dict | None:
        """The last finished refresh (promoted or rejected) trained on exactly this data."""
        for record in self.runs(limit=10_000):
            if record.get("data_hash") == data_hash and record.get("status") in {
                    "promoted", "rejected"}:
                return record
        return None


def folder_checksums(folder: Path) -> dict[str, str]:
    """sha256 of every file of a version folder, by relative path."""
    sums = {}
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file() and path.name != CHECKSUMS:
            digest = hashlib.sha256()
            with path.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
            sums[path.relative_to(folder).as_posix()] = digest.hexdigest()
    return sums


def verify_folder(folder: Path) -> str | None:
    """Why a version folder must not be loaded (a file missing, changed or added since it was
    committed: a half-copied shared folder, a disk fault), or None when it matches its
    ``CHECKSUMS.json``. A folder without one (the bundled model, older versions) passes."""
    listed = Path(folder) / CHECKSUMS
    if not listed.is_file():
        return None
    try:
        expected = json.loads(listed.read_text())
    except ValueError:
        return f"{CHECKSUMS} is unreadable"
    actual = folder_checksums(folder)
    for name in sorted(set(expected) | set(actual)):
        if expected.get(name) != actual.get(name):
            state = ("missing" if name not in actual else
                     "not in the checksum list" if name not in expected else "changed")
            return f"{name} is {state}"
    return None


def _metrics(folder: Path) -> dict:
    for name in ("METRICS.json", "EVAL.json"):
        path = folder / name
        if path.is_file():
            try:
                return json.loads(path.read_text())
            except ValueError:
                return {}
    return {}
