"""Fixtures for access tests: apps on each database (in-process cache and Redis), staff
accounts made through the service, and helpers to log them in."""

from __future__ import annotations

import base64
import secrets
from typing import Any

import httpx
from fastapi import FastAPI

from tests.identity.conftest import DEFAULTS, AppFactory, client_for, make_app, state_of
from usercenter.access.models import SubjectType
from usercenter.access.service import Scope, Subject

__all__ = ["DEFAULTS", "AppFactory", "client_for", "make_app", "state_of"]

SERVICE = {"Authorization": "Basic " + base64.b64encode(b"orders:orders-secret").decode()}
ACCESS_DEFAULTS: dict[str, Any] = {"service_clients": "orders:orders-secret"}
PASSWORD = "staff password 1234"


async def make_staff(app: FastAPI, *roles: str, password: str = PASSWORD) -> tuple[int, str]:
    """A staff account holding `roles` everywhere; returns (id, username)."""
    state = state_of(app)
    username = f"staff_{secrets.token_hex(4)}"
    async with state.database.unit_of_work() as session:
        staff = await state.access.create_staff(
            session, username=username, password=password, roles=list(roles)
        )
    return staff.id, username


async def grant(app: FastAPI, subject: Subject, role: str, scope: Scope | None = None) -> int:
    state = state_of(app)
    async with state.database.unit_of_work() as session:
        row = await state.access.grant(session, subject=subject, role_code=role, scope=scope)
    return row.id


def staff_subject(staff_id: int) -> Subject:
    return Subject(SubjectType.STAFF, staff_id)


async def staff_login(http: httpx.AsyncClient, username: str, **extra: Any) -> httpx.Response:
    return await http.post(
        "/v1/admin/auth/login", json={"username": username, "password": PASSWORD, **extra}
    )


async def staff_token(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await staff_login(http, username)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
