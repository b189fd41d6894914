"""Fixtures for access tests: apps on each database (in-process cache and Redis), staff
accounts and users made through the services, and helpers to log staff in the way the admin
console does: password, authenticator set-up on first login (pyotp), then password and code."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx
import pyotp
from fastapi import FastAPI

from tests.identity.conftest import DEFAULTS, AppFactory, client_for, make_app, state_of
from usercenter.access.models import SubjectType
from usercenter.access.service.permissions import Scope, Subject
from usercenter.kit import clock

__all__ = ["DEFAULTS", "AppFactory", "client_for", "make_app", "state_of"]

SERVICE = {"Authorization": "Basic " + base64.b64encode(b"orders:orders-secret").decode()}
ACCESS_DEFAULTS: dict[str, Any] = {"service_clients": "orders:orders-secret"}
PASSWORD = "staff password 1234"


async def make_staff(app: FastAPI, *roles: str, password: str = PASSWORD) -> tuple[int, str]:
    """A staff account holding `roles` everywhere (made as the command line makes one, without
    a ceiling); returns (id, username). It sets up its authenticator at its first login."""
    state = state_of(app)
    username = f"staff_{secrets.token_hex(4)}"
    async with state.database.unit_of_work() as session:
        staff = await state.staff.create_staff(
            session, username=username, password=password, roles=list(roles), ceiling=None
        )
    return staff.id, username


async def make_user(app: FastAPI) -> int:
    """A new active user (no login identities), to hold roles."""
    state = state_of(app)
    async with state.database.unit_of_work() as session:
        user = await state.identity.create_user(
            session, method="test", identities=[], province=None
        )
    return user.id


async def grant(app: FastAPI, subject: Subject, role: str, scope: Scope | None = None) -> int:
    state = state_of(app)
    async with state.database.unit_of_work() as session:
        row = await state.rbac.grant(
            session, subject=subject, role_code=role, scope=scope, ceiling=None
        )
    return row.id


def staff_subject(staff_id: int) -> Subject:
    return Subject(SubjectType.STAFF, staff_id)


@dataclass
class Authenticator:
    """A staff member's authenticator app: the secret it scanned, and the recovery codes shown
    once at set-up. Each 30-second code is accepted once, so a second login within the same
    step takes the next step's code (accepted: ±1 step), then a recovery code."""

    secret: str
    recovery_codes: list[str] = field(default_factory=list)
    last_step: int = 0

    def step_now(self) -> int:
        return int(pyotp.TOTP(self.secret).timecode(clock.now()))

    def code_at(self, step: int) -> str:
        self.last_step = step
        return pyotp.TOTP(self.secret).generate_otp(step)

    def login_factor(self) -> dict[str, str]:
        """What a login sends beside the password: the next unused code, or a recovery code."""
        now = self.step_now()
        step = max(self.last_step + 1, now - 1)
        if step <= now + 1:
            return {"totp_code": self.code_at(step)}
        return {"recovery_code": self.recovery_codes.pop()}


# The authenticators of the staff accounts logged in through `staff_token`, by username.
AUTHENTICATORS: dict[str, Authenticator] = {}


async def staff_login(http: httpx.AsyncClient, username: str, **extra: Any) -> httpx.Response:
    return await http.post(
        "/v1/admin/auth/login", json={"username": username, "password": PASSWORD, **extra}
    )


async def enrol_totp(http: httpx.AsyncClient, headers: dict[str, str]) -> Authenticator:
    """Set up an authenticator in a (password-only) session, as the console does."""
    begun = await http.post("/v1/admin/me/totp", headers=headers)
    assert begun.status_code == 200, begun.text
    authenticator = Authenticator(begun.json()["secret"])
    # The code of the step before: what an app shows just as a step turns (accepted, ±1).
    code = authenticator.code_at(authenticator.step_now() - 1)
    confirmed = await http.post("/v1/admin/me/totp/confirm", json={"code": code}, headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    authenticator.recovery_codes = confirmed.json()["recovery_codes"]
    return authenticator


async def staff_token(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    """Headers of a full staff session: at the first login, the password-only session sets
    up the authenticator; every login then sends the password and a code."""
    authenticator = AUTHENTICATORS.get(username)
    if authenticator is None:
        first = await staff_login(http, username)
        assert first.status_code == 200, first.text
        assert first.json()["totp_enrolment_required"] is True
        enrolling = {"Authorization": f"Bearer {first.json()['access_token']}"}
        authenticator = AUTHENTICATORS[username] = await enrol_totp(http, enrolling)
    response = await staff_login(http, username, **authenticator.login_factor())
    assert response.status_code == 200, response.text
    assert response.json()["totp_enrolment_required"] is False
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
