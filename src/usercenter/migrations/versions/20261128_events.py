"""events: the transactional outbox, the subjects' sequence counters, the relay's state row,
and the permission to view them (`events:view`, under the System menu)

Revision ID: 0009_events
Revises: 0008_system
Create Date: 2026-11-28 03:00:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import usercenter.kit.models
from usercenter.migrations.seed import Node, add_permissions, remove_permissions

revision: str = "0009_events"
down_revision: str | None = "0008_system"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

created = datetime(2026, 11, 28, tzinfo=UTC)
BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PERMISSION = Node("events:view", "事件与投递", parent="menu:system")


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", BIGINT, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=80), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("subject_seq", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_events_event_id")),
    )
    op.create_index("ix_events_position_id", "events", ["position", "id"])
    op.create_index(
        "ix_events_unsequenced",
        "events",
        ["id"],
        postgresql_where=sa.text("position IS NULL"),
        sqlite_where=sa.text("position IS NULL"),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Every event is updated once (its position): vacuum the outbox after 1 % of it has
        # changed, not the default 20 %, so the relay's index stays lean on a big table.
        op.execute(
            "ALTER TABLE events SET (autovacuum_vacuum_scale_factor = 0.01,"
            " autovacuum_vacuum_threshold = 1000)"
        )
    op.create_index("ix_events_subject_seq", "events", ["subject", "subject_seq"], unique=True)
    op.create_index("ix_events_type_position", "events", ["type", "position"])
    op.create_table(
        "event_subjects",
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject", name=op.f("pk_event_subjects")),
    )
    relay = op.create_table(
        "event_relay",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=True),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("lease_until", usercenter.kit.models.UtcDateTime(), nullable=True),
        sa.Column("heartbeat_at", usercenter.kit.models.UtcDateTime(), nullable=True),
        sa.Column("sequenced_through", sa.BigInteger(), nullable=False),
        sa.Column("published_through", sa.BigInteger(), nullable=False),
        sa.Column("trimmed_through", sa.BigInteger(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_event_relay")),
    )
    op.bulk_insert(
        relay,
        [
            {
                "name": "default",
                "holder": None,
                "epoch": 0,
                "sequenced_through": 0,
                "published_through": 0,
                "trimmed_through": 0,
                "errors": [],
            }
        ],
    )
    add_permissions([PERMISSION], holders=["super_admin"], created=created)


def downgrade() -> None:
    remove_permissions([PERMISSION.code])
    op.drop_table("event_relay")
    op.drop_table("event_subjects")
    op.drop_index("ix_events_type_position", table_name="events")
    op.drop_index("ix_events_subject_seq", table_name="events")
    op.drop_index("ix_events_unsequenced", table_name="events")
    op.drop_index("ix_events_position_id", table_name="events")
    op.drop_table("events")
