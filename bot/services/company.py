"""The company profile: the facts a JD may state, set by an admin instead of sampled.

Two places can hold it: the store (``/hirebot profile set`` or ``hirebot profile set``) and the
file named by ``HIREBOT_COMPANY_PROFILE_FILE``. The one set in Slack wins; the file is the
default. A broken file never stops the bot: it is logged once (per problem) and JDs are written
as if there were no profile until it is fixed.
"""

from __future__ import annotations

import logging
import threading

from bot.config import Settings
from bot.services.errors import ConfigError, UserError
from bot.storage import Store
from models.generation.profile import (
    FIELDS,
    CompanyProfile,
    ProfileError,
    load_profile,
    parse_profile_text,
    profile_from_mapping,
)

logger = logging.getLogger(__name__)

#: What each field is, in the words ``profile_text`` shows.
FIELD_HINTS = {
    "name": "the employer's name",
    "about": "one or two sentences about the company, for the opening paragraph",
    "benefits": "what the company offers, separated by ';'",
    "equal_opportunity": "the equal-opportunity statement",
    "location": "the location used when a request names none",
}

_warned: set[str] = set()
_warned_lock = threading.Lock()


def _warn_once(message: str) -> None:
    with _warned_lock:
        if message in _warned:
            return
        _warned.add(message)
    logger.error("%s", message)


def file_profile(settings: Settings) -> CompanyProfile | None:
    """The profile in ``company_profile_file``; None when no file is set.

    Raises ``ConfigError`` when the file is missing or does not parse.
    """
    path = settings.company_profile_file
    if path is None:
        return None
    try:
        profile = load_profile(path)
    except ProfileError as exc:
        raise ConfigError(f"HIREBOT_COMPANY_PROFILE_FILE cannot be used: {exc}") from exc
    return None if profile.is_empty else profile


def stored_profile(store: Store) -> CompanyProfile | None:
    """The profile set in Slack or with ``hirebot profile set``; None when none is."""
    data = store.company_profile()
    if data is None:
        return None
    try:
        profile = profile_from_mapping(data)
    except ProfileError as exc:  # written by an older version with other rules
        _warn_once(f"The stored company profile is no longer valid ({exc}); set it again "
                   "with /hirebot profile set.")
        return None
    return None if profile.is_empty else profile


def current_profile(settings: Settings, store: Store) -> CompanyProfile | None:
    """The profile a JD uses: the one set in Slack, else the file's, else None."""
    profile = stored_profile(store)
    if profile is not None:
        return profile
    try:
        return file_profile(settings)
    except ConfigError as exc:
        _warn_once(f"{exc} JDs are written without a company profile until it is fixed.")
        return None


def profile_status(settings: Settings, store: Store) -> dict:
    """What ``/hirebot profile`` and ``hirebot profile show`` report.

    ``profile`` (as ``current_profile``); ``source``: "stored" (set in Slack or with ``hirebot
    profile set``), "file" or None; ``set_by``: who stored it; ``file``: the setting, or None;
    ``problem``: why that file cannot be used, or None.
    """
    stored = stored_profile(store)
    row = store.company_profile_row() if stored is not None else None
    path = settings.company_profile_file
    problem = None
    try:
        from_file = file_profile(settings)
    except ConfigError as exc:
        from_file, problem = None, str(exc)
    profile = stored or from_file
    return {"profile": profile,
            "source": "stored" if stored else "file" if from_file else None,
            "set_by": row["set_by"] if row else None,
            "file": str(path) if path is not None else None, "problem": problem}


def set_profile_from_text(store: Store, text: str, user: str) -> CompanyProfile:
    """Replace the stored profile with ``field: value`` lines; raises ``UserError``."""
    try:
        profile = parse_profile_text(text)
    except ProfileError as exc:
        raise UserError(str(exc)) from None
    store.set_company_profile(profile.as_json(), user)
    return profile


def set_profile_from_file(store: Store, path, user: str) -> CompanyProfile:
    """Replace the stored profile with a ``.toml`` / ``.json`` file's; raises ``UserError``."""
    try:
        profile = load_profile(path)
    except ProfileError as exc:
        raise UserError(str(exc)) from None
    if profile.is_empty:
        raise UserError(f"The company profile {path} sets none of: {', '.join(FIELDS)}.")
    store.set_company_profile(profile.as_json(), user)
    return profile


def clear_profile(store: Store) -> bool:
    """Forget the stored profile (the file, if any, applies again); True when there was one."""
    return store.clear_company_profile()


def profile_text(profile: CompanyProfile | None) -> str:
    """The profile as ``field: value`` lines (the syntax that sets it), then what is missing."""
    if profile is None or profile.is_empty:
        return ("No company profile is set, so JDs state no company facts: no name, no "
                "about-us, and a placeholder where the benefits go.")
    data = profile.as_json()
    lines, missing = [], []
    for key in FIELDS:
        value = "; ".join(data[key]) if key == "benefits" else data[key]
        if value:
            lines.append(f"{key}: {value}")
        else:
            missing.append(key)
    if missing:
        lines.append("")
        lines.append("Not set (JDs leave these out or mark them to fill in):")
        lines.extend(f"  {key} ({FIELD_HINTS[key]})" for key in missing)
    return "\n".join(lines)
