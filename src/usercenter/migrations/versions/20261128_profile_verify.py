"""profile: real-name verification (seed 000 §1.9) — the current verification of each user, the
history of its transitions, and the permission to review them (`user:verify:review`, under the
Users menu)

Revision ID: 0011_profile_verify
Revises: 0010_profile_addr
Create Date: 2026-11-28 06:00:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import usercenter.kit.models
from usercenter.migrations.seed import Node, add_permissions, remove_permissions

revision: str = "0011_profile_verify"
down_revision: str | None = "0010_profile_addr"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

created = datetime(2026, 11, 28, tzinfo=UTC)
BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PERMISSION = Node("user:verify:review", "实名认证审核", parent="menu:user", sort_order=21)


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
    add_permissions([PERMISSION], holders=["super_admin"], created=created)


def downgrade() -> None:
    remove_permissions([PERMISSION.code])
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
