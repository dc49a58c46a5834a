"""Logging for the CLI and the bot: one format, level from settings, noisy libraries quietened."""

from __future__ import annotations

import logging
import os
import warnings

#: Libraries that log whole request and response bodies at DEBUG: those bodies carry verdicts
#: with CV snippets, and CV text must never reach a log, whatever the level.
PAYLOAD_LOGGERS = ("slack_sdk", "slack_bolt")


def quiet_payload_loggers() -> None:
    """Keep the payload-logging libraries at INFO or above (called again by the Slack app,
    which may run without :func:`configure_logging`, e.g. embedded in tests or another host)."""
    for name in PAYLOAD_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO or logger.level < logging.INFO:
            logger.setLevel(logging.INFO)


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("transformers", "sentence_transformers", "httpx", "urllib3", "pypdf"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    # a store migrates itself when opened, and says so in one line of its own
    # (bot.database); Alembic's lines ("Context impl SQLiteImpl.") are chatter on every call
    logging.getLogger("alembic").setLevel(logging.WARNING)
    quiet_payload_loggers()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    # torch.ao's eager quantisation prints a deprecation banner on every use; it is still the
    # supported CPU path for our int8 fallback.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="torch")
    warnings.filterwarnings("ignore", message=".*torch.ao.quantization.*")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass
