"""What several processes need to agree: leases, job states, bulk chunks; and, on PostgreSQL,
Slack's event ids (SQLite keeps them in a file of their own, ``bot.event_ledger``).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # each table only if missing: an upgrade cut short on SQLite (whose DDL the driver does
    # not keep in one transaction) is simply run again
    have = set(sa.inspect(op.get_bind()).get_table_names())
    tables = {
        "leases": [sa.Column("name", sa.Text(), primary_key=True),
                   sa.Column("holder", sa.Text()), sa.Column("expires_at", sa.Float())],
        "job_runs": [sa.Column("key", sa.Text(), primary_key=True),
                     sa.Column("state", sa.Text()), sa.Column("holder", sa.Text()),
                     sa.Column("lease_until", sa.Float()),
                     sa.Column("attempts", sa.Integer()), sa.Column("created_at", sa.Float())],
        "batch_chunks": [sa.Column("batch_id", sa.Text(), primary_key=True),
                         sa.Column("chunk", sa.Integer(), primary_key=True),
                         sa.Column("results", sa.Text()), sa.Column("created_at", sa.Float())],
    }
    if op.get_bind().dialect.name != "sqlite":
        tables["events"] = [sa.Column("event_id", sa.Text(), primary_key=True),
                            sa.Column("received_at", sa.Float())]
    for name, columns in tables.items():
        if name not in have:
            op.create_table(name, *columns)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_table("events")
    for name in ("batch_chunks", "job_runs", "leases"):
        op.drop_table(name)
