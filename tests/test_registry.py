"""The model registry: atomic promotion, rollback, pruning, and recovery after a crash."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from models.common.registry import BUNDLED, Registry


def make_version(registry: Registry, name: str, metric: float) -> str:
    record, tmp = registry.start_run()
    (tmp / "weights.bin").write_bytes(name.encode())
    (tmp / "METRICS.json").write_text(json.dumps({"macro_f1": metric}))
    registry.commit(record, tmp, name)
    registry.finish_run(record, "promoted", version=name)
    return name


def test_bundled_is_active_until_a_promotion_and_rollback_returns(tmp_path):
    bundled = tmp_path / "bundled"
    bundled.mkdir()
    registry = Registry(tmp_path / "data", "classifier", bundled)
    assert registry.active_version() == BUNDLED and registry.active_dir() == bundled
    make_version(registry, "v1", 0.8)
    registry.promote("v1")
    make_version(registry, "v2", 0.9)
    registry.promote("v2")
    assert registry.active_version() == "v2"
    assert registry.rollback() == "v1"
    assert registry.rollback() == BUNDLED
    assert registry.active_dir() == bundled
    listed = registry.versions()
    assert [v["version"] for v in listed][-1] == BUNDLED
    assert {v["version"]: v["metrics"].get("macro_f1") for v in listed}["v2"] == 0.9


def test_prune_keeps_the_active_and_its_rollback(tmp_path):
    registry = Registry(tmp_path / "data", "generator", tmp_path, keep=2)
    for i in range(5):
        make_version(registry, f"v{i}", i)
        os.utime(registry.root / "versions" / f"v{i}", (time.time() + i, time.time() + i))
    registry.promote("v1")
    registry.promote("v4")
    kept = {p.name for p in (registry.root / "versions").iterdir()}
    assert kept == {"v1", "v3", "v4"}  # the newest two, plus v1 for a rollback
    assert registry.rollback() == "v1"


def test_killed_run_leaves_the_active_model_and_is_marked_failed(tmp_path):
    registry = Registry(tmp_path / "data", "classifier", tmp_path)
    make_version(registry, "v1", 0.8)
    registry.promote("v1")
    script = (
        "import sys, time; from pathlib import Path; from models.common.registry import Registry\n"
        f"r = Registry(Path({str(tmp_path / 'data')!r}), 'classifier', Path({str(tmp_path)!r}))\n"
        "rec, tmp = r.start_run(); (tmp / 'partial.bin').write_bytes(b'x' * 1000)\n"
        "print('started', flush=True); time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            cwd=os.getcwd())
    assert proc.stdout.readline().strip() == "started"
    proc.kill()  # kill -9 mid-run
    proc.wait()
    assert registry.active_version() == "v1"
    assert (registry.active_dir() / "weights.bin").read_bytes() == b"v1"
    failed = registry.recover()
    assert len(failed) == 1
    assert not list(registry.root.glob("tmp-*"))
    assert registry.runs()[0]["status"] == "failed"
    make_version(registry, "v2", 0.9)  # and the next refresh succeeds
    registry.promote("v2")
    assert registry.active_version() == "v2"


def test_models_cli_lists_promotes_and_rolls_back(tmp_path, capsys):
    from bot.cli import main
    from bot.config import get_settings
    from bot.services.versions import registry_for

    registry = registry_for(get_settings(), "classifier")
    make_version(registry, "c1", 0.7)
    assert main(["models", "promote", "c1"]) == 0
    assert main(["models", "list", "--kind", "classifier"]) == 0
    out = capsys.readouterr().out
    assert "active c1" in out and "* c1" in out and "bundled" in out
    assert main(["models", "promote", "nope"]) == 2
    assert "no stored version" in capsys.readouterr().err
    assert main(["models", "rollback", "--kind", "classifier"]) == 0
    assert registry.active_version() == BUNDLED


def test_a_version_folder_is_checked_against_its_checksums_before_it_loads(tmp_path):
    """Workers load from a shared folder: a file changed, missing or added since the commit
    (a half-finished copy, a disk fault) stops the load; the serving model stays."""
    from bot.config import Settings
    from bot.services.errors import ConfigError
    from bot.services.model_service import ModelService
    from models.common.registry import CHECKSUMS, verify_folder

    shared = tmp_path / "shared-models"
    registry = Registry(tmp_path / "data", "generator", tmp_path, models_root=shared)
    make_version(registry, "v1", 0.8)
    folder = registry.path_of("v1")
    assert folder.parent.parent.parent == shared and (folder / CHECKSUMS).is_file()
    assert verify_folder(folder) is None
    (folder / "weights.bin").write_bytes(b"tampered")
    assert verify_folder(folder) == "weights.bin is changed"
    (folder / "weights.bin").unlink()
    assert verify_folder(folder) == "weights.bin is missing"
    (folder / "weights.bin").write_bytes(b"v1")  # back as committed
    assert verify_folder(folder) is None
    (folder / "extra.bin").write_bytes(b"")
    assert verify_folder(folder) == "extra.bin is not in the checksum list"
    service = ModelService(Settings(data_dir=tmp_path / "data", models_url=f"file://{shared}"))
    registry.promote("v1")
    assert service.active_dir("generator") == folder  # the shared registry's active version
    try:
        service._load("generator", folder)
    except ConfigError as exc:
        assert "fails its checksum" in str(exc)
    else:
        raise AssertionError("a tampered folder loaded")
