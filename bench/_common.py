"""What the benchmarks share: the repository on the import path, the one percentile rule,
and the local Slack's wait helper."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.slack.local_slack import wait_for  # noqa: E402 - needs ROOT on the path

__all__ = ["ROOT", "percentile", "wait_for"]


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q`` quantile (0..1) of ``values``, as every table here reports."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]
