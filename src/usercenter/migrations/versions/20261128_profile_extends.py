"""profile extends: the extension keys staff declare and the users' values (seed 003
users_extends), who made each change in the change log (profile_changes.actor, actor_id; its
action widened to 32 characters), and the permission to declare keys and set values
(`user:extends:manage`, under the Users menu)

Revision ID: 0014_profile_extends
Revises: 0009_events
Create Date: 2026-11-28 06:00:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import usercenter.kit.models

revision: str = "0014_profile_extends"
down_revision: str | None = "0009_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

created = datetime(2026, 11, 28, tzinfo=UTC)
PERMISSION = ("user:extends:manage", "用户扩展字段管理")
PARENT = "menu:user"
GRANTED_TO = "super_admin"

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
    op.execute(
        access_version.update()
        .where(access_version.c.id == 1)
        .values(version=access_version.c.version + 1)
    )


def _seed_permission() -> None:
    connection = op.get_bind()
    parent_id = connection.execute(
        sa.select(permissions.c.id).where(permissions.c.code == PARENT)
    ).scalar_one_or_none()
    code, name = PERMISSION
    op.bulk_insert(
        permissions,
        [
            {
                "code": code,
                "name": name,
                "kind": "button",
                "parent_id": parent_id,
                "path": None,
                "sort_order": 20,
                "status": "active",
                "created_at": created,
                "updated_at": created,
            }
        ],
    )
    permission_id = connection.execute(
        sa.select(permissions.c.id).where(permissions.c.code == code)
    ).scalar_one()
    role_id = connection.execute(
        sa.select(roles.c.id).where(roles.c.code == GRANTED_TO)
    ).scalar_one_or_none()
    if role_id is not None:
        op.bulk_insert(
            role_permissions,
            [{"role_id": role_id, "permission_id": permission_id, "created_at": created}],
        )
    _bump_access_version()


def upgrade() -> None:
    op.create_table(
        "user_extend_keys",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("options", sa.JSON(), nullable=True),
        sa.Column("max_length", sa.Integer(), nullable=True),
        sa.Column("is_user_editable", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.Column("updated_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_user_extend_keys")),
    )
    op.create_table(
        "user_extends",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=1024), nullable=False),
        sa.Column("updated_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_extends_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "key", name=op.f("pk_user_extends")),
    )
    with op.batch_alter_table("profile_changes", schema=None) as batch_op:
        batch_op.alter_column(
            "action",
            existing_type=sa.String(length=16),
            type_=sa.String(length=32),
            existing_nullable=False,
        )
        batch_op.add_column(sa.Column("actor", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("actor_id", sa.String(length=64), nullable=True))
    _seed_permission()


def downgrade() -> None:
    ids = sa.select(permissions.c.id).where(permissions.c.code == PERMISSION[0])
    op.execute(role_permissions.delete().where(role_permissions.c.permission_id.in_(ids)))
    op.execute(permissions.delete().where(permissions.c.code == PERMISSION[0]))
    _bump_access_version()
    with op.batch_alter_table("profile_changes", schema=None) as batch_op:
        batch_op.drop_column("actor_id")
        batch_op.drop_column("actor")
        batch_op.alter_column(
            "action",
            existing_type=sa.String(length=32),
            type_=sa.String(length=16),
            existing_nullable=False,
        )
    op.drop_table("user_extends")
    op.drop_table("user_extend_keys")
