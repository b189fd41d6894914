"""access: permission tree, roles, scoped grants, staff accounts with TOTP, admin log;
the roles and permissions the seeds name, as data

Revision ID: 0005_access
Revises: 0004_wallet
Create Date: 2026-11-23 04:45:03.240750
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import usercenter.kit.models

revision: str = "0005_access"
down_revision: str | None = "0004_wallet"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


created = datetime(2026, 11, 23, tzinfo=UTC)

# (code, name, path, sort, [(code, name, kind), ...]): menus and the buttons/APIs under them.
PERMISSION_TREE = [
    (
        "menu:user",
        "用户管理",
        "/users",
        10,
        [
            ("user:view", "查看用户", "api"),
            ("user:pii:view", "查看完整手机号等个人信息", "button"),
            ("user:disable", "禁用/启用用户", "button"),
            ("user:identity:unbind", "解绑登录方式", "button"),
        ],
    ),
    (
        "menu:access",
        "权限管理",
        "/access",
        20,
        [
            ("role:manage", "角色、权限与授权管理", "button"),
            ("staff:manage", "后台账号管理", "button"),
            ("audit:view", "查看操作日志", "api"),
        ],
    ),
    (
        "menu:wallet",
        "钱包管理",
        "/wallet",
        30,
        [
            ("wallet:view", "查看钱包", "api"),
            ("wallet:adjust:apply", "申请补录", "button"),
            ("wallet:adjust:approve", "审批补录", "button"),
            ("wallet:withdrawal:settle", "处理提现", "button"),
            ("wallet:sponsor:manage", "促销账户管理", "button"),
            ("wallet:reconcile", "对账", "button"),
        ],
    ),
    (
        "menu:merchant",
        "商家中心",
        "/merchant",
        40,
        [
            ("merchant:order:view", "查看订单", "api"),
            ("merchant:order:refund", "订单退款", "button"),
            ("merchant:goods:manage", "商品管理", "button"),
        ],
    ),
    (
        "menu:agency",
        "代理中心",
        "/agency",
        50,
        [
            ("agency:merchant:view", "查看下属商家", "api"),
            ("agency:report:view", "代理报表", "api"),
        ],
    ),
    (
        "menu:delivery",
        "配送",
        "/delivery",
        60,
        [
            ("delivery:task:accept", "接单", "button"),
        ],
    ),
    (
        "menu:distribution",
        "分销",
        "/distribution",
        70,
        [
            ("distribution:commission:view", "查看佣金", "api"),
        ],
    ),
    (
        "menu:partner",
        "合伙人",
        "/partner",
        80,
        [
            ("partner:dashboard:view", "合伙人看板", "api"),
        ],
    ),
    (
        "menu:consumer",
        "我的",
        "/me",
        90,
        [
            ("consumer:order:create", "下单", "api"),
        ],
    ),
]

ALL = "*"
# (code, name, audience, permission codes (ALL: every one seeded here))
ROLES = [
    ("consumer", "消费者", "user", ["menu:consumer", "consumer:order:create"]),
    (
        "merchant",
        "商家",
        "user",
        ["menu:merchant", "merchant:order:view", "merchant:order:refund", "merchant:goods:manage"],
    ),
    ("driver", "配送员", "user", ["menu:delivery", "delivery:task:accept"]),
    (
        "agency",
        "代理商",
        "user",
        [
            "menu:agency",
            "agency:merchant:view",
            "agency:report:view",
            "menu:merchant",
            "merchant:order:view",
        ],
    ),
    ("distributor", "分销员", "user", ["menu:distribution", "distribution:commission:view"]),
    ("partner", "合伙人", "user", ["menu:partner", "partner:dashboard:view"]),
    ("super_admin", "超级管理员", "staff", [ALL]),
    (
        "operator",
        "运营",
        "staff",
        [
            "menu:user",
            "user:view",
            "user:disable",
            "user:identity:unbind",
            "menu:merchant",
            "merchant:order:view",
            "menu:wallet",
            "wallet:view",
            "wallet:sponsor:manage",
        ],
    ),
    (
        "finance",
        "财务",
        "staff",
        [
            "menu:user",
            "user:view",
            "menu:wallet",
            "wallet:view",
            "wallet:adjust:apply",
            "wallet:adjust:approve",
            "wallet:withdrawal:settle",
            "wallet:reconcile",
        ],
    ),
    (
        "customer_service",
        "客服",
        "staff",
        [
            "menu:user",
            "user:view",
            "user:identity:unbind",
            "menu:wallet",
            "wallet:view",
            "menu:merchant",
            "merchant:order:view",
            "merchant:order:refund",
        ],
    ),
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
roles = sa.table(
    "roles",
    sa.column("id", sa.Integer),
    sa.column("code", sa.String),
    sa.column("name", sa.String),
    sa.column("audience", sa.String),
    sa.column("status", sa.String),
    sa.column("created_at", usercenter.kit.models.UtcDateTime()),
    sa.column("updated_at", usercenter.kit.models.UtcDateTime()),
)
role_permissions = sa.table(
    "role_permissions",
    sa.column("role_id", sa.Integer),
    sa.column("permission_id", sa.Integer),
    sa.column("created_at", usercenter.kit.models.UtcDateTime()),
)
access_version = sa.table(
    "access_version", sa.column("id", sa.Integer), sa.column("version", sa.BigInteger)
)
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


def _seed() -> None:
    """Rows inserted without ids (PostgreSQL sequences stay right), then looked up by code."""
    connection = op.get_bind()
    stamp = {"status": "active", "created_at": created, "updated_at": created}
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
            for code, name, path, sort, _ in PERMISSION_TREE
        ],
    )
    ids = dict(connection.execute(sa.select(permissions.c.code, permissions.c.id)).all())
    op.bulk_insert(
        permissions,
        [
            {
                "code": code,
                "name": name,
                "kind": kind,
                "parent_id": ids[menu],
                "path": None,
                "sort_order": index,
                **stamp,
            }
            for menu, _, _, _, children in PERMISSION_TREE
            for index, (code, name, kind) in enumerate(children, start=1)
        ],
    )
    ids = dict(connection.execute(sa.select(permissions.c.code, permissions.c.id)).all())
    op.bulk_insert(
        roles,
        [
            {"code": code, "name": name, "audience": audience, **stamp}
            for code, name, audience, _ in ROLES
        ],
    )
    role_ids = dict(connection.execute(sa.select(roles.c.code, roles.c.id)).all())
    op.bulk_insert(
        role_permissions,
        [
            {"role_id": role_ids[code], "permission_id": permission_id, "created_at": created}
            for code, _, _, held in ROLES
            for permission_id in (sorted(ids.values()) if held == [ALL] else [ids[c] for c in held])
        ],
    )
    op.bulk_insert(access_version, [{"id": 1, "version": 1}])
    op.bulk_insert(
        id_segment,
        [
            {
                "biz_type": "STAFF",
                "max_id": 0,
                "step": 10,
                "version": 0,
                "description": "后台账号",
                "created_at": created,
                "updated_at": created,
            }
        ],
    )


def upgrade() -> None:
    op.create_table(
        "access_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_version")),
    )
    op.create_table(
        "admin_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("staff_id", sa.BigInteger(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("module", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("target_type", sa.String(length=32), nullable=True),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("request", sa.Text(), nullable=True),
        sa.Column("result", sa.String(length=64), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=255), nullable=True),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_log")),
    )
    with op.batch_alter_table("admin_log", schema=None) as batch_op:
        batch_op.create_index("ix_admin_log_action", ["action"], unique=False)
        batch_op.create_index("ix_admin_log_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_admin_log_staff_id_id", ["staff_id", "id"], unique=False)
        batch_op.create_index("ix_admin_log_target", ["target_type", "target_id"], unique=False)

    op.create_table(
        "permissions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("path", sa.String(length=200), nullable=True),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.Column("updated_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permissions")),
        sa.UniqueConstraint("code", name=op.f("uq_permissions_code")),
    )
    with op.batch_alter_table("permissions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_permissions_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "roles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.Column("updated_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roles")),
        sa.UniqueConstraint("code", name=op.f("uq_roles_code")),
    )
    op.create_table(
        "staff_accounts",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=64), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("totp_secret_encrypted", sa.Text(), nullable=True),
        sa.Column("totp_pending_encrypted", sa.Text(), nullable=True),
        sa.Column("totp_enabled_at", usercenter.kit.models.UtcDateTime(), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("related_partner_id", sa.BigInteger(), nullable=True),
        sa.Column("last_login_at", usercenter.kit.models.UtcDateTime(), nullable=True),
        sa.Column("last_login_ip", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.Column("updated_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_accounts")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_accounts_username")),
    )
    op.create_table(
        "grants",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=False),
        sa.Column("role_id", sa.Integer(), nullable=False),
        sa.Column("scope_type", sa.String(length=16), nullable=False),
        sa.Column("scope_id", sa.BigInteger(), nullable=False),
        sa.Column("granted_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["role_id"], ["roles.id"], name=op.f("fk_grants_role_id_roles")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grants")),
        sa.UniqueConstraint(
            "subject_type",
            "subject_id",
            "role_id",
            "scope_type",
            "scope_id",
            name=op.f("uq_grants_subject_type_subject_id_role_id_scope_type_scope_id"),
        ),
    )
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.create_index("ix_grants_role_id", ["role_id"], unique=False)

    op.create_table(
        "role_permissions",
        sa.Column("role_id", sa.Integer(), nullable=False),
        sa.Column("permission_id", sa.Integer(), nullable=False),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["permission_id"],
            ["permissions.id"],
            name=op.f("fk_role_permissions_permission_id_permissions"),
        ),
        sa.ForeignKeyConstraint(
            ["role_id"], ["roles.id"], name=op.f("fk_role_permissions_role_id_roles")
        ),
        sa.PrimaryKeyConstraint("role_id", "permission_id", name=op.f("pk_role_permissions")),
    )
    with op.batch_alter_table("role_permissions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_role_permissions_permission_id"), ["permission_id"], unique=False
        )

    op.create_table(
        "staff_recovery_codes",
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.Column("used_at", usercenter.kit.models.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_accounts.id"],
            name=op.f("fk_staff_recovery_codes_staff_id_staff_accounts"),
        ),
        sa.PrimaryKeyConstraint("staff_id", "code_hash", name=op.f("pk_staff_recovery_codes")),
    )
    _seed()


def downgrade() -> None:
    op.execute(id_segment.delete().where(id_segment.c.biz_type == "STAFF"))
    # Tables only: their indexes go with them (MariaDB refuses to drop an index a foreign
    # key still needs).
    for table in [
        "staff_recovery_codes",
        "role_permissions",
        "grants",
        "staff_accounts",
        "roles",
        "permissions",
        "admin_log",
        "access_version",
    ]:
        op.drop_table(table)
