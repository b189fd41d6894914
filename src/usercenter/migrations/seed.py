"""Permission nodes a migration adds or removes, the one way every migration does it.

A migration must not import the application's models (they describe the newest schema, not
the one it runs against), so the tables are named here as lightweight stubs with only the
columns seeding touches. Nodes are inserted without ids (PostgreSQL's sequences stay right),
then looked up by code; every change moves the access version so that the permissions cached
by running processes are read again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from alembic import op

from usercenter.kit.models import UtcDateTime

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
    sa.column("created_at", UtcDateTime()),
    sa.column("updated_at", UtcDateTime()),
)
roles = sa.table("roles", sa.column("id", sa.Integer), sa.column("code", sa.String))
role_permissions = sa.table(
    "role_permissions",
    sa.column("role_id", sa.Integer),
    sa.column("permission_id", sa.Integer),
    sa.column("created_at", UtcDateTime()),
)
access_version = sa.table(
    "access_version", sa.column("id", sa.Integer), sa.column("version", sa.BigInteger)
)


@dataclass(frozen=True, slots=True)
class Node:
    """One permission node: a menu (with its console path), a button or an api permission,
    under the node whose code is `parent` (an existing one, or one listed before it)."""

    code: str
    name: str
    kind: str = "button"
    parent: str | None = None
    path: str | None = None
    sort_order: int = 10


def bump_access_version() -> None:
    op.execute(
        access_version.update()
        .where(access_version.c.id == 1)
        .values(version=access_version.c.version + 1)
    )


def _id_of(connection: sa.Connection, code: str) -> int | None:
    return connection.execute(
        sa.select(permissions.c.id).where(permissions.c.code == code)
    ).scalar_one_or_none()


def add_permissions(nodes: Sequence[Node], *, holders: Sequence[str], created: datetime) -> None:
    """Insert `nodes` in order and grant every one of them to each role of `holders` that
    exists (a role deleted by the operators is skipped)."""
    connection = op.get_bind()
    for node in nodes:
        op.bulk_insert(
            permissions,
            [
                {
                    "code": node.code,
                    "name": node.name,
                    "kind": node.kind,
                    "parent_id": _id_of(connection, node.parent) if node.parent else None,
                    "path": node.path,
                    "sort_order": node.sort_order,
                    "status": "active",
                    "created_at": created,
                    "updated_at": created,
                }
            ],
        )
    codes = [node.code for node in nodes]
    permission_ids = sorted(
        connection.execute(sa.select(permissions.c.id).where(permissions.c.code.in_(codes)))
        .scalars()
        .all()
    )
    role_ids = sorted(
        connection.execute(sa.select(roles.c.id).where(roles.c.code.in_(holders))).scalars().all()
    )
    if permission_ids and role_ids:
        op.bulk_insert(
            role_permissions,
            [
                {"role_id": role_id, "permission_id": permission_id, "created_at": created}
                for role_id in role_ids
                for permission_id in permission_ids
            ],
        )
    bump_access_version()


def remove_permissions(codes: Sequence[str]) -> None:
    """Delete the nodes of `codes` and every grant of them; children before parents (list
    parents first, as `add_permissions` takes them)."""
    ids = sa.select(permissions.c.id).where(permissions.c.code.in_(codes))
    op.execute(role_permissions.delete().where(role_permissions.c.permission_id.in_(ids)))
    for code in reversed(codes):
        op.execute(permissions.delete().where(permissions.c.code == code))
    bump_access_version()
