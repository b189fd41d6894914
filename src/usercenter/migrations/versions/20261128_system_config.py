"""system: configuration entries (seed 004 §9.2 sys_config) with a few real ones, client apps
marked as managed by configuration or by the console, and the System menu's permissions

Revision ID: 0008_system
Revises: 0006_session_subject
Create Date: 2026-11-28 00:00:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import usercenter.kit.models

revision: str = "0008_system"
down_revision: str | None = "0006_session_subject"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

created = datetime(2026, 11, 28, tzinfo=UTC)

MENU = ("menu:system", "系统管理", "/system", 100)
BUTTONS = [
    ("dict:manage", "字典管理"),
    ("config:manage", "系统配置"),
    ("client_app:manage", "客户端应用与微信配置"),
]
GRANTED_TO = "super_admin"

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
CODES = [MENU[0], *(code for code, _ in BUTTONS)]


def _seed_permissions() -> None:
    """Nodes inserted without ids (PostgreSQL sequences stay right), then looked up by code;
    the access version moves so that cached permissions are read again."""
    connection = op.get_bind()
    stamp = {"status": "active", "created_at": created, "updated_at": created}
    code, name, path, sort = MENU
    op.bulk_insert(
        permissions,
        [
            {
                "code": code,
                "name": name,
                "kind": "menu",
                "parent_id": None,
                "path": path,
                "sort_order": sort,
                **stamp,
            }
        ],
    )
    menu_id = connection.execute(
        sa.select(permissions.c.id).where(permissions.c.code == code)
    ).scalar_one()
    op.bulk_insert(
        permissions,
        [
            {
                "code": button,
                "name": label,
                "kind": "button",
                "parent_id": menu_id,
                "path": None,
                "sort_order": index,
                **stamp,
            }
            for index, (button, label) in enumerate(BUTTONS, start=1)
        ],
    )
    ids = (
        connection.execute(sa.select(permissions.c.id).where(permissions.c.code.in_(CODES)))
        .scalars()
        .all()
    )
    role_id = connection.execute(
        sa.select(roles.c.id).where(roles.c.code == GRANTED_TO)
    ).scalar_one_or_none()
    if role_id is not None:
        op.bulk_insert(
            role_permissions,
            [{"role_id": role_id, "permission_id": pid, "created_at": created} for pid in ids],
        )
    op.execute(
        access_version.update()
        .where(access_version.c.id == 1)
        .values(version=access_version.c.version + 1)
    )


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
    _seed_permissions()


def downgrade() -> None:
    ids = sa.select(permissions.c.id).where(permissions.c.code.in_(CODES))
    op.execute(role_permissions.delete().where(role_permissions.c.permission_id.in_(ids)))
    # Buttons first: they point at the menu.
    op.execute(permissions.delete().where(permissions.c.code.in_(CODES[1:])))
    op.execute(permissions.delete().where(permissions.c.code == CODES[0]))
    op.execute(
        access_version.update()
        .where(access_version.c.id == 1)
        .values(version=access_version.c.version + 1)
    )
    with op.batch_alter_table("client_apps", schema=None) as batch_op:
        batch_op.drop_column("managed_by")
    op.drop_table("sys_config")
