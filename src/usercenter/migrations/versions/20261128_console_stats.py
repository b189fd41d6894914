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

revision: str = "0007_console"
down_revision: str | None = "0006_session_subject"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

created = datetime(2026, 11, 28, tzinfo=UTC)

MENU = ("menu:dashboard", "数据看板", "/dashboard", 5)
CHILDREN = [("stats:view", "查看统计", "api")]
HOLDERS = ["super_admin", "operator", "finance"]
CODES = [MENU[0], *(code for code, _, _ in CHILDREN)]

permissions = sa.table(
    "permissions",
    sa.column("id", sa.Integer),
    sa.column("code", sa.String),
    sa.column("name", sa.String),
    sa.column("kind", sa.String),
    sa.column("parent_id", sa.Integer),
    sa.column("path", sa.String),
    sa.column("sort_order", sa.Integer),
    sa.column("status", sa.String),
    sa.column("created_at", usercenter.kit.models.UtcDateTime()),
    sa.column("updated_at", usercenter.kit.models.UtcDateTime()),
)
roles = sa.table("roles", sa.column("id", sa.Integer), sa.column("code", sa.String))
role_permissions = sa.table(
    "role_permissions",
    sa.column("role_id", sa.Integer),
    sa.column("permission_id", sa.Integer),
    sa.column("created_at", usercenter.kit.models.UtcDateTime()),
)
access_version = sa.table(
    "access_version", sa.column("id", sa.Integer), sa.column("version", sa.BigInteger)
)


def _bump_access_version() -> None:
    op.execute(access_version.update().values(version=access_version.c.version + 1))


def _seed() -> None:
    """Rows inserted without ids (PostgreSQL sequences stay right), then looked up by code."""
    connection = op.get_bind()
    stamp = {"status": "active", "created_at": created, "updated_at": created}
    code, name, path, sort = MENU
    op.bulk_insert(
        permissions,
        [
            {
                "code": code,
                "name": name,
                "kind": "menu",
                "parent_id": None,
                "path": path,
                "sort_order": sort,
                **stamp,
            }
        ],
    )
    menu_id = connection.execute(
        sa.select(permissions.c.id).where(permissions.c.code == code)
    ).scalar_one()
    op.bulk_insert(
        permissions,
        [
            {
                "code": child,
                "name": child_name,
                "kind": kind,
                "parent_id": menu_id,
                "path": None,
                "sort_order": index,
                **stamp,
            }
            for index, (child, child_name, kind) in enumerate(CHILDREN, start=1)
        ],
    )
    ids = connection.execute(
        sa.select(permissions.c.id).where(permissions.c.code.in_(CODES))
    ).scalars()
    permission_ids = sorted(ids)
    role_ids = connection.execute(sa.select(roles.c.id).where(roles.c.code.in_(HOLDERS))).scalars()
    op.bulk_insert(
        role_permissions,
        [
            {"role_id": role_id, "permission_id": permission_id, "created_at": created}
            for role_id in sorted(role_ids)
            for permission_id in permission_ids
        ],
    )
    _bump_access_version()


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
    _seed()


def downgrade() -> None:
    connection = op.get_bind()
    ids = list(
        connection.execute(
            sa.select(permissions.c.id).where(permissions.c.code.in_(CODES))
        ).scalars()
    )
    if ids:
        op.execute(role_permissions.delete().where(role_permissions.c.permission_id.in_(ids)))
        op.execute(permissions.delete().where(permissions.c.id.in_(ids)))
    _bump_access_version()
    with op.batch_alter_table("auth_events", schema=None) as batch_op:
        batch_op.drop_index("ix_auth_events_created_at")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_nickname")
        batch_op.drop_index("ix_users_created_at")
    op.drop_table("stats_daily")
