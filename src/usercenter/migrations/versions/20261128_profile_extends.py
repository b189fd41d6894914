"""profile extends: the extension keys staff declare and the users' values (seed 003
users_extends), who made each change in the change log (profile_changes.actor, actor_id; its
action widened to 32 characters), and the permission to declare keys and set values
(`user:extends:manage`, under the Users menu)

Revision ID: 0014_profile_extends
Revises: 0013_profile_consent
Create Date: 2026-11-28 06:00:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import usercenter.kit.models
from usercenter.migrations.seed import Node, add_permissions, remove_permissions

revision: str = "0014_profile_extends"
down_revision: str | None = "0013_profile_consent"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

created = datetime(2026, 11, 28, tzinfo=UTC)
PERMISSION = Node("user:extends:manage", "用户扩展字段管理", parent="menu:user", sort_order=20)


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
    add_permissions([PERMISSION], holders=["super_admin"], created=created)


def downgrade() -> None:
    remove_permissions([PERMISSION.code])
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
