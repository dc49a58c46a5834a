"""One typed settings object, read from the environment and ``.env``.

Everything configurable lives here so that the CLI, the Slack app and the tests agree on defaults,
and so an admin can see every knob in one place.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from platformdirs import user_data_dir
from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """hirebot's settings; env names are the field names upper-cased with ``HIREBOT_``."""

    model_config = SettingsConfigDict(
        env_prefix="HIREBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(default_factory=lambda: Path(user_data_dir("hirebot", appauthor=False)))
    shared_data_dir: Path | None = Field(
        default=None,
        description="Folder with the public training datasets (../shared/data in development).",
    )

    # Models
    embedding_model: str = "all-MiniLM-L6-v2"
    embedding_precision: str = "auto"
    classifier_dir: Path | None = Field(
        default=None, description="Trained classifier folder; default: the bundled one."
    )
    generator_dir: Path | None = Field(
        default=None, description="Trained JD generator folder; default: the bundled one."
    )
    matcher_dir: Path | None = Field(
        default=None, description="Trained CV-JD matcher folder; default: the bundled one.")
    match_generated_jd: bool = Field(
        default=True, description="Screen against a JD the generator writes for the title "
                                  "when the thread has none (no JD: category score only).")
    torch_threads: int = 0
    generator_head_precision: Literal["int8", "fp32"] = "int8"  # output projection when serving
    decode_threads: int = 2  # threads while writing a JD (see docs/benchmarks.md)
    keep_versions: int = 5  # model versions kept in the registry besides the active one

    # Job descriptions
    company_profile_file: Path | None = Field(
        default=None,
        description="TOML or JSON file with the company facts a JD may state (name, about, "
                    "benefits, equal_opportunity, location); a profile set with "
                    "`/hirebot profile set` wins over it. See README \"Company profile\".")

    # Screening
    fit_threshold: float = 0.6
    maybe_threshold: float = 0.3
    top_categories: int = 3
    blind_screening: bool = Field(
        default=True, description="Take names, pronouns, titles, date of birth, age, marital "
                                  "status, nationality and gender out of a CV before any model "
                                  "reads it (README \"Fair screening\").")

    # Uploads
    max_file_mb: float = 10.0
    max_zip_members: int = 200
    max_zip_total_mb: float = 100.0
    max_zip_depth: int = 2
    max_upload_chars: int = Field(
        default=2_000_000, ge=1, description="Text kept from one upload (all CVs of a ZIP "
                                             "together; with chunked bulk screening, per chunk).")
    min_cv_words: int = 30
    pdf_memory_mb: int = Field(
        default=1024, ge=0, description="Address-space cap of the child process that parses "
                                        "PDFs (0: parse in the bot's own process, unbounded).")
    pdf_parse_seconds: float = Field(default=60.0, gt=0)

    # Personal data
    retention_days: int = 30

    # Schedules (APScheduler; jobs are kept in the SQLite file and survive restarts)
    timezone: str = "UTC"
    retention_cron: str = "15 1 * * *"  # daily 01:15
    misfire_grace_s: int = 3600  # a run missed while the bot was down still runs within this

    # Fine-tune refreshes (see README "Model refreshes")
    classifier_refresh_cron: str = "0 2 * * *"  # nightly 02:00
    generator_refresh_cron: str = "0 3 * * sun"  # weekly, Sunday 03:00
    generator_refresh_minutes: float = 30.0  # time budget of one generator refresh
    generator_refresh_epochs: float = 3.0
    generator_refresh_min_postings: int = 5  # fewer team postings: the refresh is skipped
    refresh_gate_samples: int = 24  # drafts per model for the repetition figure
    gate_f1_tolerance: float = 0.01  # macro-F1 a candidate may lose and still be promoted
    gate_match_tolerance: float = 0.01  # matcher pairwise accuracy / team AUC it may lose
    gate_bpc_tolerance: float = 0.01  # relative bits/char a candidate may lose
    gate_repetition_tolerance: float = 0.05  # share of looping drafts a candidate may add
    refresh_threads: int = 1  # torch/OMP threads of the training process
    refresh_nice: int = 19  # its CPU priority (19 = lowest), so the bot keeps answering
    admin_users: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Slack user IDs allowed to run /hirebot refresh (comma-separated in env).")
    allowed_channels: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Channel IDs where CVs may be screened (comma-separated; empty = all).")
    dm_screening: bool = Field(default=True, description="May CVs be screened in DMs?")
    label_flag_confidence: float = Field(
        default=0.35, description="A team label that contradicts a classifier prediction this "
                                  "confident (top of 44 categories) waits for an admin's "
                                  "confirmation before training.")
    admin_channel: str | None = Field(
        default=None, description="Channel ID that gets each refresh's report and plot.")

    # Slack (the usual Slack names work without the HIREBOT_ prefix)
    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "HIREBOT_SLACK_BOT_TOKEN"))
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "HIREBOT_SLACK_APP_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "HIREBOT_SLACK_SIGNING_SECRET"))
    slack_api_url: str = Field(
        default="https://slack.com/api/",
        validation_alias=AliasChoices("SLACK_API_URL", "HIREBOT_SLACK_API_URL"),
        description="Web API base URL: Slack's, a corporate proxy, or the local stand-in.")
    http_port: int = 3000

    # Deployment: one process (the defaults) or several (docs/deploy.md)
    database_url: SecretStr | None = Field(
        default=None, description="Unset: the SQLite file in the data folder. "
                                  "`postgresql://user:pass@host/db`: a PostgreSQL database "
                                  "shared by every process (`hirebot db upgrade` first).")
    broker_url: SecretStr | None = Field(
        default=None, description="Unset: model jobs run on a thread of the bot. "
                                  "`redis://host:6379/0`: they go to Celery queues that "
                                  "`hirebot worker` processes take.")
    models_url: str | None = Field(
        default=None, description="Folder (or file:// URL) of the model registry every "
                                  "process loads from: a shared filesystem when workers run "
                                  "on several machines. Unset: DATA_DIR/models.")
    bulk_chunk_cvs: int = Field(default=50, ge=1, description="Files of a ZIP per chunk job "
                                "(Celery only): chunks run in parallel on the workers.")
    job_visibility_s: int = Field(
        default=600, ge=5, description="Celery: a job a worker took but never finished "
                                       "(the worker died) goes back on the queue after this.")

    # Work queue: the models are CPU-bound, so one worker runs them one job at a time
    queue_size: int = 20
    stream_interval_s: float = 1.0  # chat.update cadence while a JD is written
    jobpost_max_new_tokens: int = 600
    #: Drafts written in one batch per request; the best-ranked is shown and Regenerate shows
    #: the next one (docs/benchmarks.md has the cost of each extra draft).
    jobpost_drafts: int = Field(default=3, ge=1, le=8)
    batch_table_threshold: int = 5  # more CVs than this (or a ZIP): a ranked table and a CSV

    log_level: str = "INFO"

    @field_validator("admin_users", "allowed_channels", mode="before")
    @classmethod
    def _split_users(cls, value):
        if isinstance(value, str):
            return [u.strip() for u in value.split(",") if u.strip()]
        return value

    @property
    def db_path(self) -> Path:
        return self.data_dir / "hirebot.db"

    @property
    def database_target(self) -> str:
        """What ``Store`` opens: the database URL, else the SQLite file's path."""
        return self.secret("database_url") or str(self.db_path)

    @property
    def models_root(self) -> Path:
        """The registry's folder (``HIREBOT_MODELS_URL``, else DATA_DIR/models)."""
        if not self.models_url:
            return self.data_dir / "models"
        url = self.models_url
        if "://" in url and not url.startswith("file://"):
            raise ValueError("HIREBOT_MODELS_URL must be a folder or a file:// URL (a shared "
                             f"filesystem); {url.split('://')[0]}:// is not supported")
        return Path(url.removeprefix("file://"))

    def secret(self, name: str) -> str | None:
        value = getattr(self, name)
        return value.get_secret_value() if value is not None else None

    def resolved_shared_data(self) -> Path | None:
        """The public datasets: the setting, else ``../shared/data`` beside the checkout."""
        if self.shared_data_dir is not None:
            return self.shared_data_dir
        candidate = Path(__file__).resolve().parents[2] / "shared" / "data"
        return candidate if candidate.is_dir() else None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
