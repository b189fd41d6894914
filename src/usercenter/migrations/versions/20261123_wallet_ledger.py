"""wallet ledger: accounts, transfers, entries, holds, payout accounts, withdrawals,
adjustments, sponsors, VIP memberships; id segments for transfers, holds and records

Revision ID: 0004_wallet
Revises: 0003_linking
Create Date: 2026-11-23 04:25:10.278523
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import usercenter.kit.models

revision: str = "0004_wallet"
down_revision: str | None = "0003_linking"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID_SEGMENTS = [
    ("WALLET_TRANSFER", 5000, "钱包交易"),
    ("WALLET_HOLD", 1000, "钱包冻结"),
    ("WALLET_RECORD", 100, "收款账户、提现、补录、促销账户"),
]

created = datetime(2026, 11, 23, tzinfo=UTC)

id_segment = sa.table(
    "id_segment",
    sa.column("biz_type", sa.String),
    sa.column("max_id", sa.BigInteger),
    sa.column("step", sa.Integer),
    sa.column("version", sa.Integer),
    sa.column("description", sa.String),
    sa.column("created_at", usercenter.kit.models.UtcDateTime()),
    sa.column("updated_at", usercenter.kit.models.UtcDateTime()),
)


def upgrade() -> None:
    op.create_table(
        "wallet_accounts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("owner", sa.String(length=80), nullable=False),
        sa.Column("asset", sa.String(length=16), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("frozen", sa.BigInteger(), nullable=False),
        sa.Column("may_go_negative", sa.Boolean(), nullable=False),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.Column("updated_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "may_go_negative OR (frozen >= 0 AND balance >= frozen)",
            name=op.f("ck_wallet_accounts_covered"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_accounts")),
        sa.UniqueConstraint("owner", "asset", name=op.f("uq_wallet_accounts_owner_asset")),
    )
    op.create_table(
        "wallet_adjustments",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("asset", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("adjustment_type", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("applicant_id", sa.String(length=64), nullable=False),
        sa.Column("approver_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("approval_remark", sa.String(length=500), nullable=True),
        sa.Column("transfer_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.Column("decided_at", usercenter.kit.models.UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_adjustments")),
    )
    with op.batch_alter_table("wallet_adjustments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wallet_adjustments_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_wallet_adjustments_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "wallet_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("transfer_id", sa.BigInteger(), nullable=False),
        sa.Column("leg", sa.SmallInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("asset", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("balance_before", sa.BigInteger(), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_entries")),
    )
    with op.batch_alter_table("wallet_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wallet_entries_account_id"), ["account_id", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_wallet_entries_transfer_id"), ["transfer_id"], unique=False
        )

    op.create_table(
        "wallet_holds",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("asset", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("captured", sa.BigInteger(), nullable=False),
        sa.Column("destination_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("transfer_id", sa.BigInteger(), nullable=False),
        sa.Column("resolution_transfer_id", sa.BigInteger(), nullable=True),
        sa.Column("business_type", sa.String(length=32), nullable=True),
        sa.Column("business_id", sa.String(length=64), nullable=True),
        sa.Column("expires_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.Column("resolved_at", usercenter.kit.models.UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_holds")),
    )
    with op.batch_alter_table("wallet_holds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wallet_holds_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_wallet_holds_status"), ["status", "expires_at"], unique=False
        )

    op.create_table(
        "wallet_payout_accounts",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("details_encrypted", sa.Text(), nullable=False),
        sa.Column("masked", sa.JSON(), nullable=False),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.Column("deleted_at", usercenter.kit.models.UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_payout_accounts")),
        sa.UniqueConstraint(
            "user_id", "fingerprint", name=op.f("uq_wallet_payout_accounts_user_id_fingerprint")
        ),
    )
    with op.batch_alter_table("wallet_payout_accounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wallet_payout_accounts_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "wallet_sponsors",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("sponsor_type", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("contact_encrypted", sa.Text(), nullable=True),
        sa.Column("contact_masked", sa.JSON(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.Column("updated_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_sponsors")),
    )
    op.create_table(
        "wallet_transfers",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("idempotency_key", sa.String(length=191), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("refunded", sa.BigInteger(), nullable=False),
        sa.Column("business_type", sa.String(length=32), nullable=True),
        sa.Column("business_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=255), nullable=True),
        sa.Column("operator_id", sa.String(length=64), nullable=True),
        sa.Column("related_transfer_id", sa.BigInteger(), nullable=True),
        sa.Column("hold_id", sa.BigInteger(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_transfers")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_wallet_transfers_idempotency_key")),
    )
    with op.batch_alter_table("wallet_transfers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wallet_transfers_business_type"),
            ["business_type", "business_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_wallet_transfers_hold_id"), ["hold_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_wallet_transfers_related_transfer_id"),
            ["related_transfer_id"],
            unique=False,
        )

    op.create_table(
        "wallet_vip_memberships",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("starts_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.Column("ends_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.Column("updated_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_wallet_vip_memberships")),
    )
    op.create_table(
        "wallet_withdrawals",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("payout_account_id", sa.BigInteger(), nullable=False),
        sa.Column("payout_masked", sa.JSON(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("hold_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("handler_id", sa.String(length=64), nullable=True),
        sa.Column("handle_remark", sa.String(length=255), nullable=True),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.Column("handled_at", usercenter.kit.models.UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_withdrawals")),
    )
    with op.batch_alter_table("wallet_withdrawals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wallet_withdrawals_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_wallet_withdrawals_user_id"), ["user_id"], unique=False
        )

    op.bulk_insert(
        id_segment,
        [
            {
                "biz_type": biz_type,
                "max_id": 0,
                "step": step,
                "version": 0,
                "description": description,
                "created_at": created,
                "updated_at": created,
            }
            for biz_type, step, description in ID_SEGMENTS
        ],
    )


def downgrade() -> None:
    op.execute(
        id_segment.delete().where(
            id_segment.c.biz_type.in_([biz_type for biz_type, _, _ in ID_SEGMENTS])
        )
    )
    with op.batch_alter_table("wallet_withdrawals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_withdrawals_user_id"))
        batch_op.drop_index(batch_op.f("ix_wallet_withdrawals_status"))

    op.drop_table("wallet_withdrawals")
    op.drop_table("wallet_vip_memberships")
    with op.batch_alter_table("wallet_transfers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_transfers_related_transfer_id"))
        batch_op.drop_index(batch_op.f("ix_wallet_transfers_hold_id"))
        batch_op.drop_index(batch_op.f("ix_wallet_transfers_business_type"))

    op.drop_table("wallet_transfers")
    op.drop_table("wallet_sponsors")
    with op.batch_alter_table("wallet_payout_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_payout_accounts_user_id"))

    op.drop_table("wallet_payout_accounts")
    with op.batch_alter_table("wallet_holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_holds_status"))
        batch_op.drop_index(batch_op.f("ix_wallet_holds_account_id"))

    op.drop_table("wallet_holds")
    with op.batch_alter_table("wallet_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_entries_transfer_id"))
        batch_op.drop_index(batch_op.f("ix_wallet_entries_account_id"))

    op.drop_table("wallet_entries")
    with op.batch_alter_table("wallet_adjustments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_adjustments_user_id"))
        batch_op.drop_index(batch_op.f("ix_wallet_adjustments_status"))

    op.drop_table("wallet_adjustments")
    op.drop_table("wallet_accounts")
