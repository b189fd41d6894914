"""profile: regions and addresses — the user's region (a GB/T 2260 county-level code), the
delivery addresses (seed 000 §1.6) with their personal data encrypted and at most one live
default per user enforced by a unique index on a generated column, and their id segment

Revision ID: 0010_profile_addr
Revises: 0009_events
Create Date: 2026-11-28 06:00:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import usercenter.kit.models

revision: str = "0010_profile_addr"
down_revision: str | None = "0009_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

created = datetime(2026, 11, 28, tzinfo=UTC)
ID_SEGMENT = ("ADDRESS", 100, "收货地址")
# The user id on a user's live default address, NULL on every other row: a unique index on it
# allows one live default per user on every engine (NULLs never collide), where a partial
# index would not exist on MariaDB.
DEFAULT_OWNER = "CASE WHEN is_default AND deleted_at IS NULL THEN user_id END"

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
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region_code", sa.String(length=6), nullable=True))
    op.create_table(
        "user_addresses",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("receiver_name_encrypted", sa.Text(), nullable=False),
        sa.Column("receiver_phone_encrypted", sa.Text(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("street_encrypted", sa.Text(), nullable=True),
        sa.Column("detail_encrypted", sa.Text(), nullable=False),
        sa.Column("postcode", sa.String(length=6), nullable=True),
        sa.Column("latitude", sa.Numeric(precision=10, scale=7), nullable=True),
        sa.Column("longitude", sa.Numeric(precision=10, scale=7), nullable=True),
        sa.Column("tag", sa.String(length=16), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column(
            "default_owner",
            sa.BigInteger(),
            sa.Computed(DEFAULT_OWNER, persisted=True),
            nullable=True,
        ),
        sa.Column("deleted_at", usercenter.kit.models.UtcDateTime(), nullable=True),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.Column("updated_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_addresses")),
    )
    op.create_index(
        "ix_user_addresses_user_id_deleted_at", "user_addresses", ["user_id", "deleted_at"]
    )
    op.create_index(
        "uq_user_addresses_default_owner", "user_addresses", ["default_owner"], unique=True
    )
    biz_type, step, description = ID_SEGMENT
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
        ],
    )


def downgrade() -> None:
    op.execute(id_segment.delete().where(id_segment.c.biz_type == ID_SEGMENT[0]))
    op.drop_index("uq_user_addresses_default_owner", table_name="user_addresses")
    op.drop_index("ix_user_addresses_user_id_deleted_at", table_name="user_addresses")
    op.drop_table("user_addresses")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("region_code")
