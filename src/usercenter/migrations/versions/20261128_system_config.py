"""system: configuration entries (seed 004 §9.2 sys_config) with a few real ones, client apps
marked as managed by configuration or by the console, and the System menu's permissions

Revision ID: 0008_system
Revises: 0007_console
Create Date: 2026-11-28 00:00:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import usercenter.kit.models
from usercenter.migrations.seed import Node, add_permissions, remove_permissions

revision: str = "0008_system"
down_revision: str | None = "0007_console"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

created = datetime(2026, 11, 28, tzinfo=UTC)

MENU = Node("menu:system", "系统管理", kind="menu", path="/system", sort_order=100)
BUTTONS = [
    Node(code, name, parent=MENU.code, sort_order=index)
    for index, (code, name) in enumerate(
        [
            ("dict:manage", "字典管理"),
            ("config:manage", "系统配置"),
            ("client_app:manage", "客户端应用与微信配置"),
        ],
        start=1,
    )
]

# (group, key, value as stored, value type, description, is_public): data that clients and
# other services read; the service itself does not act on them.
CONFIG = [
    ("BASIC", "site_name", "用户中心", "string", "站点名称（后台标题、给用户的消息落款）", True),
    ("BASIC", "service_hotline", "", "string", "客服电话，展示给登录遇到问题的用户", True),
    (
        "REGISTER",
        "registration_notice",
        "",
        "string",
        "注册页提示文字（为空则不展示）",
        True,
    ),
    ("REGISTER", "user_agreement_url", "", "string", "用户协议链接（https）", True),
    ("REGISTER", "privacy_policy_url", "", "string", "隐私政策链接（https）", True),
]


def upgrade() -> None:
    sys_config = op.create_table(
        "sys_config",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("config_group", sa.String(length=50), nullable=False),
        sa.Column("config_key", sa.String(length=100), nullable=False),
        sa.Column("config_value", sa.Text(), nullable=False),
        sa.Column("value_type", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=True),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("is_editable", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.Column("updated_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sys_config")),
        sa.UniqueConstraint("config_key", name=op.f("uq_sys_config_config_key")),
    )
    op.bulk_insert(
        sys_config,
        [
            {
                "config_group": group,
                "config_key": key,
                "config_value": value,
                "value_type": value_type,
                "description": description,
                "is_public": is_public,
                "is_editable": True,
                "created_at": created,
                "updated_at": created,
            }
            for group, key, value, value_type, description, is_public in CONFIG
        ],
    )
    with op.batch_alter_table("client_apps", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("managed_by", sa.String(length=16), nullable=False, server_default="console")
        )
    add_permissions([MENU, *BUTTONS], holders=["super_admin"], created=created)


def downgrade() -> None:
    remove_permissions([MENU.code, *(node.code for node in BUTTONS)])
    with op.batch_alter_table("client_apps", schema=None) as batch_op:
        batch_op.drop_column("managed_by")
    op.drop_table("sys_config")
