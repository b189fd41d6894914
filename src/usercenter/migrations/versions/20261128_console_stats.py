"""console: daily statistics (seed 004 §9.7 stats_daily, user dimension), the indexes its
rollup reads by day, an index for the staff's nickname search (a trigram GIN index on
PostgreSQL), and the dashboard's permission nodes

`menu:dashboard` (/dashboard, sort 5) with `stats:view` under it, held by super_admin,
operator and finance. The access version moves, so cached permissions drop.

Revision ID: 0007_console
Revises: 0006_session_subject
Create Date: 2026-11-28 00:00:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import usercenter.kit.models
from usercenter.migrations.seed import Node, add_permissions, remove_permissions

revision: str = "0007_console"
down_revision: str | None = "0006_session_subject"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

created = datetime(2026, 11, 28, tzinfo=UTC)

MENU = Node("menu:dashboard", "数据看板", kind="menu", path="/dashboard", sort_order=5)
CHILDREN = [Node("stats:view", "查看统计", kind="api", parent=MENU.code, sort_order=1)]
HOLDERS = ["super_admin", "operator", "finance"]


def upgrade() -> None:
    op.create_table(
        "stats_daily",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("stat_date", sa.Date(), nullable=False),
        sa.Column("stat_type", sa.String(length=30), nullable=False),
        sa.Column("dimension_id", sa.BigInteger(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("finalized_at", usercenter.kit.models.UtcDateTime(), nullable=True),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.Column("updated_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_daily")),
        sa.UniqueConstraint(
            "stat_date",
            "stat_type",
            "dimension_id",
            name=op.f("uq_stats_daily_stat_date_stat_type_dimension_id"),
        ),
    )
    with op.batch_alter_table("stats_daily", schema=None) as batch_op:
        batch_op.create_index("ix_stats_daily_type_date", ["stat_type", "stat_date"], unique=False)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index("ix_users_created_at", ["created_at"], unique=False)
    with op.batch_alter_table("auth_events", schema=None) as batch_op:
        batch_op.create_index("ix_auth_events_created_at", ["created_at"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # Trusted since PostgreSQL 13: the database owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index(
            "ix_users_nickname",
            "users",
            ["nickname"],
            postgresql_using="gin",
            postgresql_ops={"nickname": "gin_trgm_ops"},
        )
    else:
        with op.batch_alter_table("users", schema=None) as batch_op:
            batch_op.create_index("ix_users_nickname", ["nickname"], unique=False)
    add_permissions([MENU, *CHILDREN], holders=HOLDERS, created=created)


def downgrade() -> None:
    remove_permissions([MENU.code, *(node.code for node in CHILDREN)])
    with op.batch_alter_table("auth_events", schema=None) as batch_op:
        batch_op.drop_index("ix_auth_events_created_at")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_nickname")
        batch_op.drop_index("ix_users_created_at")
    op.drop_table("stats_daily")
