"""CV-JD pairs in derived form: overlap features and both sides' MiniLM vectors, never text.

A matcher refresh retrains U(CV, JD) from rows like these alone. Two kinds exist:

- the *shipped* rows (``refresh_data.safetensors`` in the bundled matcher's folder): the
  constructed training, calibration and test pairs the bundled matcher was trained and
  measured on, written by ``hirebot train matcher``; they hold the refreshed matcher in place
  and give the gate its fixed figures;
- the *team's* rows: a thumbs vote on a verdict given against a JD, stored as one float16
  vector ``[features | CV vector | JD vector]`` (:func:`pair_blob`).

Everything U needs is in a row (:meth:`models.matching.matcher.MatcherWeights.score` takes
exactly these three parts), so a refresh needs no CV or JD text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.matching.features import FEATURE_NAMES, SideEncoding

REFRESH_FILE = "refresh_data.safetensors"


@dataclass
class PairRows:
    """``n`` pairs: features (n, F), CV vectors (n, d), JD vectors (n, d)."""

    features: np.ndarray
    cv_vectors: np.ndarray
    jd_vectors: np.ndarray

    def __len__(self) -> int:
        return len(self.features)

    def take(self, index: np.ndarray) -> PairRows:
        return PairRows(self.features[index], self.cv_vectors[index], self.jd_vectors[index])

    @staticmethod
    def concat(parts: Sequence[PairRows]) -> PairRows:
        return PairRows(*(np.concatenate([getattr(p, k) for p in parts]) for k in
                          ("features", "cv_vectors", "jd_vectors")))


def pair_blob(features: np.ndarray, cv_vector: np.ndarray, jd_vector: np.ndarray) -> bytes:
    """One pair as stored with a verdict (float16: 1.6 KB, and no text)."""
    return np.concatenate([features, cv_vector, jd_vector]).astype(np.float16).tobytes()


def rows_from_blobs(blobs: Sequence[bytes], dim: int) -> PairRows:
    """Stored pairs back as rows; a blob of another layout raises ValueError."""
    width = len(FEATURE_NAMES) + 2 * dim
    flat = [np.frombuffer(b, dtype=np.float16).astype(np.float32) for b in blobs]
    if any(len(v) != width for v in flat):
        raise ValueError(f"a stored pair is not {len(FEATURE_NAMES)} features and two "
                         f"{dim}-d vectors")
    x = np.stack(flat) if flat else np.zeros((0, width), dtype=np.float32)
    f = len(FEATURE_NAMES)
    return PairRows(x[:, :f], x[:, f:f + dim], x[:, f + dim:])


@dataclass
class ShippedRows:
    """The bundled matcher's constructed pairs, for refreshes and their gate."""

    pairs: PairRows
    train: np.ndarray        # (t, 2) better / worse row indices
    test: np.ndarray         # (s, 2)
    test_hard: np.ndarray    # (s,) bool: the worse JD is a hard negative
    calibration: np.ndarray  # (c,) row indices
    calibration_labels: np.ndarray


def write_shipped_rows(folder: Path, features: np.ndarray, cvs: Sequence[SideEncoding],
                       jds: Sequence[SideEncoding], pairs: Sequence[tuple[int, int]],
                       train: Sequence[tuple[int, int]], test: Sequence[tuple[int, int]],
                       test_hard: Sequence[bool], calibration: Sequence[int],
                       calibration_labels: Sequence[int]) -> Path:
    """``pairs`` (cv, jd) with their ``features``; the rest index into ``pairs``. The vectors
    are stored once per CV and per JD (float16), with each pair's two indices."""
    from safetensors.numpy import save_file

    cv_ids = sorted({c for c, _ in pairs})
    jd_ids = sorted({j for _, j in pairs})
    cv_row = {c: k for k, c in enumerate(cv_ids)}
    jd_row = {j: k for k, j in enumerate(jd_ids)}
    path = Path(folder) / REFRESH_FILE
    save_file({
        "features": np.asarray(features, dtype=np.float16),
        "cv_vectors": np.stack([cvs[c].vector for c in cv_ids]).astype(np.float16),
        "jd_vectors": np.stack([jds[j].vector for j in jd_ids]).astype(np.float16),
        "pair_cv": np.array([cv_row[c] for c, _ in pairs], dtype=np.int32),
        "pair_jd": np.array([jd_row[j] for _, j in pairs], dtype=np.int32),
        "train": np.asarray(train, dtype=np.int32).reshape(-1, 2),
        "test": np.asarray(test, dtype=np.int32).reshape(-1, 2),
        "test_hard": np.asarray(test_hard, dtype=np.uint8),
        "calibration": np.asarray(calibration, dtype=np.int32),
        "calibration_labels": np.asarray(calibration_labels, dtype=np.uint8),
    }, str(path))
    return path


def load_shipped_rows(folder: Path) -> ShippedRows:
    from safetensors.numpy import load_file

    path = Path(folder) / REFRESH_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: rebuild the matcher with `hirebot train "
                                "matcher` to refresh it")
    a = load_file(str(path))
    pairs = PairRows(a["features"].astype(np.float32),
                     a["cv_vectors"][a["pair_cv"]].astype(np.float32),
                     a["jd_vectors"][a["pair_jd"]].astype(np.float32))
    return ShippedRows(pairs, a["train"].astype(np.int64), a["test"].astype(np.int64),
                       a["test_hard"].astype(bool), a["calibration"].astype(np.int64),
                       a["calibration_labels"].astype(np.int64))
