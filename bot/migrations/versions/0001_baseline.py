"""The tables as they were before migrations (kept by ``Store`` itself until now).

A store created by an older hirebot already has some of them, perhaps without the columns added
since: those tables get the missing columns; the others are created.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

T, N, F, B = sa.Text, sa.Integer, sa.Float, sa.LargeBinary  # N: a whole number
#: table -> (primary key columns, [(column, type)]); "id" tables never reuse an id
TABLES = {
    "file_claims": (("key",), [("key", T), ("channel", T), ("message_ts", T), ("file_id", T),
                               ("status", T), ("created_at", F), ("user", T)]),
    "threads": (("channel", "thread_ts"), [("channel", T), ("thread_ts", T), ("kind", T),
                                           ("role", T), ("jobpost_id", N), ("created_at", F)]),
    "pending_files": (("key",), [("key", T), ("channel", T), ("thread_ts", T),
                                 ("message_ts", T), ("file_id", T), ("created_at", F)]),
    "jobposts": (("id",), [("id", N), ("channel", T), ("thread_ts", T), ("message_ts", T),
                           ("title", T), ("context", T), ("text", T), ("model_version", T),
                           ("model_name", T), ("user", T), ("approved", N),
                           ("approved_by", T), ("created_at", F), ("grounded_on", T),
                           ("inclusive", T), ("alternates", T), ("draft_number", N),
                           ("drafts_in_batch", N), ("raw_request", T)]),
    "screenings": (("id",), [("id", N), ("channel", T), ("thread_ts", T), ("file_name", T),
                             ("role", T), ("verdict", T), ("score", F), ("category", T),
                             ("model_version", T), ("created_at", F), ("features", B),
                             ("role_category", T), ("base_version", T), ("match_pair", B),
                             ("match_layout", T), ("file_id", T), ("user", T)]),
    "team_postings": (("key",), [("key", T), ("title", T), ("description", T), ("source", T),
                                 ("created_at", F)]),
    "labelled_cvs": (("key",), [("key", T), ("label", T), ("features", B),
                                ("base_version", T), ("source", T), ("created_at", F),
                                ("state", T), ("flag_reason", T)]),
    "match_pairs": (("key",), [("key", T), ("label", N), ("features", B), ("layout", T),
                               ("role", T), ("created_at", F)]),
    "feedback": (("id",), [("id", N), ("target", T), ("target_id", N), ("user", T),
                           ("value", T), ("created_at", F)]),
    "audit": (("id",), [("id", N), ("kind", T), ("ref_id", N), ("user", T), ("channel", T),
                        ("file_name", T), ("file_id", T), ("role", T), ("verdict", T),
                        ("score", F), ("model_name", T), ("model_version", T), ("source", T),
                        ("created_at", F)]),
    "company_profile": (("id",), [("id", N), ("data", T), ("set_by", T), ("created_at", F)]),
}
FEEDBACK_INDEX = "idx_feedback_target_target_id_user_value"


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    existing = set(inspector.get_table_names())
    for name, (pk, columns) in TABLES.items():
        if name in existing:  # an older store: add what it lacks
            have = {c["name"] for c in inspector.get_columns(name)}
            for column, kind in columns:
                if column not in have:
                    op.add_column(name, sa.Column(column, kind()))
            continue
        generated = pk == ("id",) and name != "company_profile"
        op.create_table(
            name,
            *(sa.Column(c, k(), primary_key=c in pk,
                        autoincrement=generated if c in pk else "auto") for c, k in columns),
            sqlite_autoincrement=generated)
    if FEEDBACK_INDEX not in {i["name"] for i in inspector.get_indexes("feedback")}:
        op.create_index(FEEDBACK_INDEX, "feedback", ["target", "target_id", "user", "value"],
                        unique=True)


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
