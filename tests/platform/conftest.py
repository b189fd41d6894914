"""Fixtures for platform tests: the app on each database (in-process cache and Redis), staff
sessions with and without the System permissions, and the admin log as a test reads it."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from tests.access.conftest import (
    AppFactory,
    client_for,
    make_app,
    make_role,
    make_staff,
    staff_token,
    state_of,
)
from usercenter.audit.models import AdminLog

__all__ = ["AppFactory", "client_for", "make_app", "make_staff", "staff_token", "state_of"]


async def admin_headers(app: FastAPI, http: httpx.AsyncClient) -> tuple[int, dict[str, str]]:
    """A super admin's staff id and session headers."""
    staff_id, username = await make_staff(app, "super_admin")
    return staff_id, await staff_token(http, username)


async def staff_holding(app: FastAPI, http: httpx.AsyncClient, *codes: str) -> dict[str, str]:
    """Session headers of a staff member holding exactly `codes` (none: no permission)."""
    role = await make_role(app, *codes) if codes else None
    _, username = await make_staff(app, *([role] if role else []))
    return await staff_token(http, username)


async def admin_log(app: FastAPI, **where: Any) -> list[AdminLog]:
    """The admin-log rows matching `where` (column = value), oldest first."""
    async with state_of(app).database.read_session() as session:
        query = select(AdminLog).order_by(AdminLog.id)
        for column, value in where.items():
            query = query.where(getattr(AdminLog, column) == value)
        return list(await session.scalars(query))


def problem(response: httpx.Response, status: int, code: str, field: str | None = None) -> None:
    """`response` is a problem with that status and code (naming `field` when given)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    if field is not None:
        assert field in [e["field"] for e in body.get("errors", [])], body
