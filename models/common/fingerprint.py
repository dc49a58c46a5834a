"""Model versions as content hashes, and the calibration measure every model card reports.

A version string must change with any retrain and never with anything else, so it is the hash
of the files that make the model; shared here so each model's folder is versioned alike.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def files_hash(folder: Path, names: Sequence[str], *, missing_ok: bool = True) -> str:
    """First 12 hex digits of the SHA-256 of ``names`` in ``folder``, in that order (a missing
    file is skipped when ``missing_ok``, else raises)."""
    digest = hashlib.sha256()
    for name in names:
        path = folder / name
        if missing_ok and not path.is_file():
            continue
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def expected_calibration_error(probabilities, labels, bins: int = 10) -> float:
    """Mean |confidence - accuracy| over equal-width probability bins, weighted by bin size."""
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        mask = (p >= lo) & ((p < hi) if hi < 1 else (p <= hi))
        if mask.any():
            total += mask.mean() * abs(p[mask].mean() - y[mask].mean())
    return float(total)
