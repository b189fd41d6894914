"""profile: the payment password (hash, wrong tries counted in the row, lock) and its
single-use tickets (a hash of each, bound to the user, an action and an amount)

Revision ID: 0012_profile_paypw
Revises: 0011_profile_verify
Create Date: 2026-11-28 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import usercenter.kit.models

revision: str = "0012_profile_paypw"
down_revision: str | None = "0011_profile_verify"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment_passwords",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("locked_until", usercenter.kit.models.UtcDateTime(), nullable=True),
        sa.Column("changed_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_payment_passwords")),
    )
    op.create_table(
        "payment_tickets",
        sa.Column("ticket_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.String(length=32), nullable=True),
        sa.Column("expires_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.Column("spent_at", usercenter.kit.models.UtcDateTime(), nullable=True),
        sa.Column("spent_key", sa.String(length=128), nullable=True),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_hash", name=op.f("pk_payment_tickets")),
    )
    op.create_index(
        op.f("ix_payment_tickets_user_id"), "payment_tickets", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_payment_tickets_user_id"), table_name="payment_tickets")
    op.drop_table("payment_tickets")
    op.drop_table("payment_passwords")
