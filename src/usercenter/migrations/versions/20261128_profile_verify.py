"""profile: real-name verification (seed 000 §1.9) — the current verification of each user, the
history of its transitions, and the permission to review them (`user:verify:review`, under the
Users menu)

Revision ID: 0011_profile_verify
Revises: 0009_events
Create Date: 2026-11-28 06:00:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import usercenter.kit.models

revision: str = "0011_profile_verify"
down_revision: str | None = "0009_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

created = datetime(2026, 11, 28, tzinfo=UTC)
BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PERMISSION = ("user:verify:review", "实名认证审核")
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
        "user_verifications",
        sa.Column("id", BIGINT, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("document_type", sa.String(length=24), nullable=False),
        sa.Column("real_name_encrypted", sa.Text(), nullable=False),
        sa.Column("document_number_encrypted", sa.Text(), nullable=False),
        sa.Column("document_index", sa.String(length=64), nullable=True),
        sa.Column("real_name_masked", sa.String(length=64), nullable=False),
        sa.Column("document_number_masked", sa.String(length=32), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("sex", sa.String(length=8), nullable=True),
        sa.Column("photo_front", sa.String(length=255), nullable=True),
        sa.Column("photo_back", sa.String(length=255), nullable=True),
        sa.Column("photo_held", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("vendor_result", sa.String(length=16), nullable=True),
        sa.Column("decided_by", sa.String(length=16), nullable=True),
        sa.Column("reviewer_id", sa.BigInteger(), nullable=True),
        sa.Column("submitted_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.Column("decided_at", usercenter.kit.models.UtcDateTime(), nullable=True),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.Column("updated_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_verifications")),
        sa.UniqueConstraint("user_id", name=op.f("uq_user_verifications_user_id")),
        sa.UniqueConstraint("document_index", name=op.f("uq_user_verifications_document_index")),
    )
    op.create_index("ix_user_verifications_status_id", "user_verifications", ["status", "id"])
    op.create_table(
        "user_verification_history",
        sa.Column("id", BIGINT, autoincrement=True, nullable=False),
        sa.Column("verification_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=16), nullable=False),
        sa.Column("staff_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_verification_history")),
    )
    op.create_index(
        op.f("ix_user_verification_history_verification_id"),
        "user_verification_history",
        ["verification_id"],
    )
    op.create_index(
        op.f("ix_user_verification_history_user_id"), "user_verification_history", ["user_id"]
    )
    _seed_permission()


def downgrade() -> None:
    ids = sa.select(permissions.c.id).where(permissions.c.code == PERMISSION[0])
    op.execute(role_permissions.delete().where(role_permissions.c.permission_id.in_(ids)))
    op.execute(permissions.delete().where(permissions.c.code == PERMISSION[0]))
    _bump_access_version()
    op.drop_index(
        op.f("ix_user_verification_history_user_id"), table_name="user_verification_history"
    )
    op.drop_index(
        op.f("ix_user_verification_history_verification_id"),
        table_name="user_verification_history",
    )
    op.drop_table("user_verification_history")
    op.drop_index("ix_user_verifications_status_id", table_name="user_verifications")
    op.drop_table("user_verifications")
