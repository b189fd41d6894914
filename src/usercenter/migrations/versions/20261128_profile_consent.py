"""profile: consents (append-only records and the current state per kind), the latest device
per user and platform (seed 001 user_extra), the last known location (seed 001 user_location,
coordinates encrypted)

Revision ID: 0013_profile_consent
Revises: 0012_profile_paypw
Create Date: 2026-11-28 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import usercenter.kit.models

revision: str = "0013_profile_consent"
down_revision: str | None = "0012_profile_paypw"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "consent_records",
        sa.Column("id", BIGINT, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=True),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=True),
        sa.Column("client_name", sa.String(length=64), nullable=True),
        sa.Column("client_version", sa.String(length=32), nullable=True),
        sa.Column("ip_masked", sa.String(length=64), nullable=True),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_records")),
    )
    op.create_index("ix_consent_records_user_id_id", "consent_records", ["user_id", "id"])
    op.create_table(
        "consent_states",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=True),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("changed_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "kind", name=op.f("pk_consent_states")),
    )
    op.create_table(
        "user_devices",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("device_id", sa.String(length=128), nullable=True),
        sa.Column("vendor", sa.String(length=64), nullable=True),
        sa.Column("model", sa.String(length=64), nullable=True),
        sa.Column("os_name", sa.String(length=32), nullable=True),
        sa.Column("os_version", sa.String(length=32), nullable=True),
        sa.Column("client_name", sa.String(length=64), nullable=True),
        sa.Column("client_version", sa.String(length=32), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("push_token", sa.String(length=255), nullable=True),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.Column("updated_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "platform", name=op.f("pk_user_devices")),
    )
    op.create_table(
        "user_locations",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("coordinates_encrypted", sa.Text(), nullable=True),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("located_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.Column("updated_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_locations")),
    )


def downgrade() -> None:
    op.drop_table("user_locations")
    op.drop_table("user_devices")
    op.drop_table("consent_states")
    op.drop_index("ix_consent_records_user_id_id", table_name="consent_records")
    op.drop_table("consent_records")
