"""The report's PNGs: a loss curve for a generator refresh, a confusion matrix for a classifier.

matplotlib's Agg backend only: the bot has no display, and the figure is a file for Slack.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def loss_curve_png(history: Sequence[dict], out: Path, *, title: str,
                   before: float | None = None, after: float | None = None) -> Path:
    """Training loss by step, with the anchor bits/char before and after in the legend."""
    plt = _pyplot()
    steps = [h["step"] for h in history if "loss" in h]
    losses = [h["loss"] for h in history if "loss" in h]
    fig, ax = plt.subplots(figsize=(6, 3.4), dpi=110)
    if steps:
        # a batch's loss swings with its rows (a team ad vs an O*NET profile): show the raw
        # points faintly and their running mean
        ax.plot(steps, losses, color="#1264a3", alpha=0.25, linewidth=0.8)
        window = max(1, len(losses) // 12)
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        ax.plot(steps[window - 1:], smooth, color="#1264a3",
                label=f"training loss, mean of {window} logs (team + anchor rows)")
    else:
        ax.text(0.5, 0.5, "no steps logged", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.set_title(title, fontsize=10)
    epochs = [(h["step"], h["held_out_bits_per_char"]) for h in history
              if "held_out_bits_per_char" in h]
    if epochs and after is not None and steps and steps[-1] > epochs[-1][0]:
        epochs.append((steps[-1], after))  # the end of training, as the gate measured it
    if epochs:
        right = ax.twinx()
        right.plot([s for s, _ in epochs], [b for _, b in epochs], "o--", color="#e01e5a",
                   label="anchor bits/char (each epoch, end)")
        right.set_ylabel("anchor bits/char", color="#e01e5a")
        right.legend(fontsize=7, loc="upper right")
    if before is not None and after is not None:
        ax.plot([], [], " ", label=f"gate: anchor bits/char {before:.4f} -> {after:.4f}")
    ax.legend(fontsize=7, loc="lower left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def confusion_png(matrix: np.ndarray, labels: Sequence[str], out: Path, *, title: str) -> Path:
    """Row-normalised confusion matrix of the candidate on the evaluation rows."""
    plt = _pyplot()
    matrix = np.asarray(matrix, dtype=float)
    keep = np.where(matrix.sum(1) + matrix.sum(0) > 0)[0]  # classes the evaluation touches
    matrix = matrix[np.ix_(keep, keep)]
    names = [labels[i] for i in keep]
    norm = matrix / np.maximum(matrix.sum(1, keepdims=True), 1)
    size = max(4.0, 0.18 * len(names) + 2.5)
    fig, ax = plt.subplots(figsize=(size, size), dpi=110)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=90, fontsize=6)
    ax.set_yticks(range(len(names)), names, fontsize=6)
    ax.set_xlabel("predicted")
    ax.set_ylabel("labelled")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out
