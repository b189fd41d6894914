"""providers and linking: client apps, unionids, profile changes, session provider secrets

Revision ID: 0003_linking
Revises: 0002_identity
Create Date: 2026-11-23 02:44:00.740368
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import usercenter.kit.models

revision: str = "0003_linking"
down_revision: str | None = "0002_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "client_apps",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("app_type", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("extra_encrypted", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.Column("updated_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_apps")),
        sa.UniqueConstraint("app_type", "app_id", name=op.f("uq_client_apps_app_type_app_id")),
    )
    op.create_table(
        "profile_changes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("attribute", sa.String(length=64), nullable=False),
        sa.Column("old_value", sa.String(length=255), nullable=True),
        sa.Column("new_value", sa.String(length=255), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profile_changes")),
    )
    with op.batch_alter_table("profile_changes", schema=None) as batch_op:
        batch_op.create_index("ix_profile_changes_user_id_id", ["user_id", "id"], unique=False)

    op.create_table(
        "identity_unions",
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("union_id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_identity_unions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("provider", "union_id", name=op.f("pk_identity_unions")),
    )
    with op.batch_alter_table("identity_unions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_unions_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("provider_secret_encrypted", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("uid", sa.String(length=16), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("uid")
        batch_op.drop_column("provider_secret_encrypted")

    # Dropping a table drops its indexes; MariaDB refuses to drop an index a foreign key needs.
    op.drop_table("identity_unions")
    op.drop_table("profile_changes")
    op.drop_table("client_apps")
