"""Where the shipped model folders live (a path only: importing it loads no model code)."""

from pathlib import Path

BUNDLED_ROOT = Path(__file__).resolve().parents[1] / "bundled"
