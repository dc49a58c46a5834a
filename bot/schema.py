"""The bot's tables, one SQLAlchemy ``MetaData`` for SQLite and PostgreSQL alike.

This is what the code reads and writes through; the migrations under ``bot/migrations`` are
what creates it (``hirebot db upgrade``), frozen copies of the same columns. CV text has no
column anywhere: a verdict keeps its scores and derived features, never the document.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, LargeBinary, MetaData, Table, Text

metadata = MetaData()


def _id_table(name: str, *columns: Column) -> Table:
    """Ids never reused (SQLite AUTOINCREMENT; a sequence in PostgreSQL): a vote names one
    verdict, and an erased verdict's id must not come back as someone else's."""
    return Table(name, metadata, Column("id", Integer, primary_key=True, autoincrement=True),
                 *columns, sqlite_autoincrement=True)


def _text(*names: str) -> list[Column]:
    return [Column(n, Text) for n in names]


file_claims = Table(
    "file_claims", metadata, Column("key", Text, primary_key=True),
    *_text("channel", "message_ts", "file_id", "status"), Column("created_at", Float),
    Column("user", Text))  # the uploader
threads = Table(
    "threads", metadata, Column("channel", Text, primary_key=True),
    Column("thread_ts", Text, primary_key=True), *_text("kind", "role"),
    Column("jobpost_id", Integer), Column("created_at", Float))
pending_files = Table(
    "pending_files", metadata, Column("key", Text, primary_key=True),
    *_text("channel", "thread_ts", "message_ts", "file_id"), Column("created_at", Float))
jobposts = _id_table(
    "jobposts", *_text("channel", "thread_ts", "message_ts", "title", "context", "text",
                       "model_version", "model_name", "user"),
    Column("approved", Integer), Column("approved_by", Text), Column("created_at", Float),
    # what the draft was grounded on and its inclusive-language line, shown under it; the
    # unshown drafts of its batch (JSON) for Regenerate
    *_text("grounded_on", "inclusive", "alternates"), Column("draft_number", Integer),
    Column("drafts_in_batch", Integer), Column("raw_request", Text))
screenings = _id_table(
    "screenings", *_text("channel", "thread_ts", "file_name", "role", "verdict"),
    Column("score", Float), *_text("category", "model_version"), Column("created_at", Float),
    # derived features (no text) for a thumbs vote to become a team label; purged with the row
    Column("features", LargeBinary), *_text("role_category", "base_version"),
    # a verdict against a JD: the CV-JD pair's matcher row (features and two MiniLM vectors)
    Column("match_pair", LargeBinary), Column("match_layout", Text),
    # the Slack file and its uploader, so `forget` can find a candidate
    *_text("file_id", "user"))
team_postings = Table(
    "team_postings", metadata, Column("key", Text, primary_key=True),
    *_text("title", "description", "source"), Column("created_at", Float))
labelled_cvs = Table(  # a team label, in derived form only (embeddings, classifier decisions)
    "labelled_cvs", metadata, Column("key", Text, primary_key=True), Column("label", Text),
    Column("features", LargeBinary), *_text("base_version", "source"),
    Column("created_at", Float),
    # "flagged": contradicts a confident prediction, trains once an admin confirms it
    *_text("state", "flag_reason"))
match_pairs = Table(  # a vote on a verdict against a JD: matched (1) or not (0)
    "match_pairs", metadata, Column("key", Text, primary_key=True), Column("label", Integer),
    Column("features", LargeBinary), *_text("layout", "role"), Column("created_at", Float))
feedback = _id_table(
    "feedback", Column("target", Text), Column("target_id", Integer),
    *_text("user", "value"), Column("created_at", Float))
Index("idx_feedback_target_target_id_user_value", feedback.c.target, feedback.c.target_id,
      feedback.c.user, feedback.c.value, unique=True)
audit = _id_table(  # who asked for which verdict or JD, when, which model (never CV text)
    "audit", Column("kind", Text), Column("ref_id", Integer),
    *_text("user", "channel", "file_name", "file_id", "role", "verdict"),
    Column("score", Float), *_text("model_name", "model_version", "source"),
    Column("created_at", Float))
company_profile = Table(  # at most one row (id 1): the profile an admin set in Slack, as JSON
    "company_profile", metadata, Column("id", Integer, primary_key=True, autoincrement=False),
    *_text("data", "set_by"), Column("created_at", Float))
# --- added for deployments of several processes (migration 0002)
leases = Table(  # one holder at a time across processes: refresh training, the scheduler
    "leases", metadata, Column("name", Text, primary_key=True), Column("holder", Text),
    Column("expires_at", Float))
job_runs = Table(  # a queued job's state, so a redelivered job neither runs twice nor is lost
    "job_runs", metadata, Column("key", Text, primary_key=True), Column("state", Text),
    Column("holder", Text), Column("lease_until", Float), Column("attempts", Integer),
    Column("created_at", Float))
batch_chunks = Table(  # one chunk's verdicts of a bulk upload, until the gather job posts them
    "batch_chunks", metadata, Column("batch_id", Text, primary_key=True),
    Column("chunk", Integer, primary_key=True), Column("results", Text),
    Column("created_at", Float))
#: Slack's event ids. On SQLite they live in a file of their own (``bot.event_ledger``), on
#: PostgreSQL in this table of the same database.
events = Table("events", metadata, Column("event_id", Text, primary_key=True),
               Column("received_at", Float))

TABLES: dict[str, Table] = {t.name: t for t in metadata.sorted_tables}
