"""How a candidate's gate figures compare with the active version's: one rule for every
model kind, so "better", "worse" and "learnt nothing" mean the same in each refresh."""

from __future__ import annotations

#: Gate figures where a smaller number is the better model (matched by name suffix, so
#: "calibration_brier" and a per-split "held_out_calibration_brier" both count).
LOWER_IS_BETTER = ("bits_per_char", "repetition_rate", "calibration_brier")
#: Smaller than this is float noise, not learning (the figures are kept to 4 decimals).
MIN_GAIN = 1e-4


def gain(name: str, active: float, candidate: float) -> float:
    """How much better the candidate is on figure ``name`` (negative: worse)."""
    return active - candidate if name.endswith(LOWER_IS_BETTER) else candidate - active


def improved_figures(figures: dict) -> list[str]:
    """The figures on which the candidate measures better than the active version.

    A candidate equal on every figure learnt nothing the gate can see (a forced refresh with
    no team data refits the same head): promoting it would only add a version to roll back
    past, so it is rejected however "not worse" it is.
    """
    active, candidate = figures.get("active", {}), figures.get("candidate", {})
    better = []
    for name, value in candidate.items():
        old = active.get(name)
        if not isinstance(value, int | float) or not isinstance(old, int | float):
            continue
        if gain(name, old, value) > MIN_GAIN:
            better.append(name)
    return better
