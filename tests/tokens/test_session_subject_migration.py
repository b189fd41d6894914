"""Revision 0006_session_subject: staff sessions stored under negative user ids before it come
out as staff sessions of the same staff account; users' sessions stay users'."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from usercenter import schema
from usercenter.db import Database
from usercenter.kit import clock
from usercenter.kit.models import UtcDateTime

BEFORE = "0005_access"

_old_sessions = sa.table(
    "sessions",
    sa.column("id", sa.String(32)),
    sa.column("user_id", sa.BigInteger()),
    sa.column("uid", sa.String(16)),
    sa.column("platform", sa.String(16)),
    sa.column("login_method", sa.String(32)),
    sa.column("refresh_hash", sa.String(64)),
    sa.column("refresh_generation", sa.Integer()),
    sa.column("created_at", UtcDateTime()),
    sa.column("last_active_at", UtcDateTime()),
    sa.column("expires_at", UtcDateTime()),
)


def _row(session_id: str, user_id: int, platform: str) -> dict[str, Any]:
    now = clock.now()
    return {
        "id": session_id,
        "user_id": user_id,
        "uid": "staff" if user_id < 0 else "GD000001",
        "platform": platform,
        "login_method": "password",
        "refresh_hash": session_id * 2,
        "refresh_generation": 0,
        "created_at": now,
        "last_active_at": now,
        "expires_at": now + timedelta(hours=1),
    }


async def _subjects(db: Database) -> dict[str, tuple[str, int]]:
    async with db.engine.connect() as connection:
        rows = await connection.execute(sa.text("SELECT id, subject_type, user_id FROM sessions"))
        return {row.id: (row.subject_type, int(row.user_id)) for row in rows}


class TestSessionSubjectMigration:
    async def test_a_negative_user_id_becomes_a_staff_session(self, db: Database) -> None:
        await schema.downgrade(db, BEFORE)
        try:
            async with db.engine.begin() as connection:
                await connection.execute(
                    sa.insert(_old_sessions),
                    [_row("a" * 32, -7, "ADMIN"), _row("b" * 32, 7, "APP")],
                )
            await schema.upgrade(db)
            assert await _subjects(db) == {"a" * 32: ("staff", 7), "b" * 32: ("user", 7)}
            # And back: the old encoding again.
            await schema.downgrade(db, BEFORE)
            async with db.engine.connect() as connection:
                rows = await connection.execute(sa.text("SELECT id, user_id FROM sessions"))
                assert {row.id: int(row.user_id) for row in rows} == {"a" * 32: -7, "b" * 32: 7}
        finally:
            await schema.upgrade(db)
