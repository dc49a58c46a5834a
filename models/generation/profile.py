"""The company facts a JD may state: who the employer is, what it offers, its equal-opportunity
statement.

A small model invents these ("401K" for a job in Berlin, "dental, Dental, and vision") because
ads it learned from all have them. They are facts about one employer, so they come from a profile
an admin sets (a file named in the settings, or ``/hirebot profile`` in Slack), never from
sampling. Without a profile, the draft says plainly what to fill in.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

#: Shown in place of Benefits when no profile says what the company offers.
BENEFITS_PLACEHOLDER = ("[To fill in: salary range, leave, pension or retirement plan, and the "
                        "other benefits this role offers. Set them once with `/hirebot profile`.]")
FIELDS = ("name", "about", "benefits", "equal_opportunity", "location")
MAX_FIELD_CHARS = 1500
MAX_BENEFITS = 15


class ProfileError(ValueError):
    """A profile file or ``/hirebot profile`` text that cannot be used; the message says why."""


@dataclass(frozen=True)
class CompanyProfile:
    name: str = ""
    about: str = ""  # one or two sentences for the opening paragraph
    benefits: tuple[str, ...] = field(default_factory=tuple)
    equal_opportunity: str = ""
    location: str = ""  # the default location when the request names none

    @property
    def is_empty(self) -> bool:
        return not any((self.name, self.about, self.benefits, self.equal_opportunity,
                        self.location))

    def as_json(self) -> dict:
        data = asdict(self)
        data["benefits"] = list(self.benefits)
        return data


def profile_from_mapping(data: dict) -> CompanyProfile:
    """A profile from parsed TOML / JSON; unknown keys are refused so typos are not lost."""
    if not isinstance(data, dict):
        raise ProfileError("A company profile is a table of fields: " + ", ".join(FIELDS) + ".")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise ProfileError(f"Unknown company profile field(s): {', '.join(unknown)}. "
                           f"Known fields: {', '.join(FIELDS)}.")
    benefits = data.get("benefits", ())
    if isinstance(benefits, str):
        benefits = [b for b in (part.strip() for part in benefits.split(";")) if b]
    if not isinstance(benefits, list | tuple) or not all(isinstance(b, str) for b in benefits):
        raise ProfileError("benefits must be a list of short texts (or one text split by ';').")
    if len(benefits) > MAX_BENEFITS:
        raise ProfileError(f"At most {MAX_BENEFITS} benefits, please.")
    values = {}
    for key in ("name", "about", "equal_opportunity", "location"):
        value = data.get(key, "")
        if not isinstance(value, str):
            raise ProfileError(f"{key} must be text.")
        values[key] = " ".join(value.split())
    for key, value in [*values.items(), *(("benefits", b) for b in benefits)]:
        if len(value) > MAX_FIELD_CHARS:
            raise ProfileError(f"{key} is longer than {MAX_FIELD_CHARS} characters.")
    return CompanyProfile(benefits=tuple(" ".join(b.split()) for b in benefits), **values)


def load_profile(path: Path) -> CompanyProfile:
    """Read a ``.toml`` or ``.json`` profile file."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"Cannot read the company profile {path}: {exc.strerror}.") from exc
    try:
        data = json.loads(raw) if path.suffix.lower() == ".json" else tomllib.loads(raw)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ProfileError(f"The company profile {path.name} does not parse: {exc}") from exc
    return profile_from_mapping(data)


def parse_profile_text(text: str) -> CompanyProfile:
    """``/hirebot profile`` text: one ``field: value`` per line; benefits split by ';'.

    e.g. ``name: Acme GmbH`` / ``about: We build ...`` / ``benefits: 30 days leave; pension``.
    """
    data: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        key = key.strip().lower().replace(" ", "_").replace("-", "_")
        if key in {"eeo", "equal_opportunities"}:
            key = "equal_opportunity"
        if not sep or key not in FIELDS:
            raise ProfileError(f"Line {number} should read `field: value` with a field among "
                               f"{', '.join(FIELDS)}.")
        data[key] = value.strip()
    if not data:
        raise ProfileError("The profile is empty. Write one `field: value` per line, e.g. "
                           "`about: We build ...` and `benefits: 30 days leave; pension`.")
    return profile_from_mapping(data)
