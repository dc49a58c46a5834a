"""docs/deploy: the compose file names real settings and real ``hirebot`` commands."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.cli.parser import build_parser
from bot.config import Settings

DEPLOY = Path(__file__).resolve().parents[1] / "docs" / "deploy"


def test_the_compose_file_runs_real_commands_with_real_settings():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"bot", "worker", "redis", "postgres", "migrate"} <= set(services)
    fields = {f"HIREBOT_{name.upper()}" for name in Settings.model_fields}
    parser = build_parser()
    for name in ("bot", "worker", "migrate"):
        service = services[name]
        unknown = {k for k in service["environment"] if k.startswith("HIREBOT_")} - fields
        assert not unknown, (name, unknown)
        args = parser.parse_args(service["command"])  # a verb the CLI really has
        assert callable(args.func)
    assert services["worker"]["command"][:1] == ["worker"]
    assert "--appendonly" in services["redis"]["command"]  # queued jobs survive a restart
    assert services["migrate"]["command"] == ["db", "upgrade"]
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "torch==2.13.0" in dockerfile and 'ENTRYPOINT ["hirebot"]' in dockerfile
