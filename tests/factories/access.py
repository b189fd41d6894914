"""Staff accounts, roles and grants, made through the access service; and staff sessions as
the admin console gets them: the password, then a code from the authenticator.

A staff account's authenticator is enrolled once, at its first `staff_token`, through the
access service in a unit of work as the enrolment route does it — not over HTTP, which costs
three more requests per account (the HTTP flow has tests of its own in tests/access/test_api.py).
Only its login goes over HTTP."""

from __future__ import annotations

import secrets
import weakref
from dataclasses import dataclass, field
from typing import Any

import httpx
import pyotp
from fastapi import FastAPI

from tests.factories import services_of
from usercenter.access.models import SubjectType
from usercenter.access.service.permissions import Scope, Subject
from usercenter.access.service.staff_auth import StaffAuthService
from usercenter.app import Services
from usercenter.kit import clock

PASSWORD = "staff password 1234"


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

    def first_code(self) -> str:
        """The code of the step before: what an app shows just as a step turns (accepted,
        ±1), so the logins after it have this step and the next to use."""
        return self.code_at(self.step_now() - 1)

    def login_factor(self) -> dict[str, str]:
        """What a login sends beside the password: the next unused code, or a recovery code."""
        now = self.step_now()
        step = max(self.last_step + 1, now - 1)
        if step <= now + 1:
            return {"totp_code": self.code_at(step)}
        return {"recovery_code": self.recovery_codes.pop()}


# The authenticators of staff accounts enrolled by these factories, by username; and the
# services each account was made with, so `staff_token` can enrol it there.
AUTHENTICATORS: dict[str, Authenticator] = {}
_MADE_WITH: dict[str, tuple[weakref.ref[StaffAuthService], int]] = {}


async def make_staff(
    owner: FastAPI | Services, *roles: str, password: str = PASSWORD
) -> tuple[int, str]:
    """A staff account holding `roles` everywhere (made as the command line makes one, without
    a ceiling); returns (id, username). No authenticator yet: its first `staff_token` enrols
    one, its first `staff_login` gets a session that may only enrol."""
    services = services_of(owner)
    username = f"staff_{secrets.token_hex(4)}"
    async with services.database.unit_of_work() as session:
        staff = await services.staff.create_staff(
            session, username=username, password=password, roles=list(roles), ceiling=None
        )
    _MADE_WITH[username] = (weakref.ref(services.staff_auth), staff.id)
    return staff.id, username


async def make_role(
    owner: FastAPI | Services, *permissions: str, audience: str = "staff", code: str | None = None
) -> str:
    """A role holding exactly `permissions`; returns its code."""
    services = services_of(owner)
    code = code or f"role_{secrets.token_hex(4)}"
    async with services.database.unit_of_work() as session:
        await services.rbac.create_role(
            session,
            code=code,
            name=code,
            audience=audience,
            description=None,
            permissions=list(permissions),
            ceiling=None,
        )
    return code


def staff_subject(staff_id: int) -> Subject:
    return Subject(SubjectType.STAFF, staff_id)


async def grant(
    owner: FastAPI | Services, subject: Subject, role: str, scope: Scope | None = None
) -> int:
    """Give `role` to `subject` (everywhere, or in `scope`) without a ceiling; the grant's id."""
    services = services_of(owner)
    async with services.database.unit_of_work() as session:
        row = await services.rbac.grant(
            session, subject=subject, role_code=role, scope=scope, ceiling=None
        )
    return row.id


async def enrol_authenticator(access: StaffAuthService, staff_id: int) -> Authenticator:
    """Set up the staff member's authenticator through the access service, each step in a unit
    of work as its route (begin, then confirm with a first code) runs it."""
    database = access.staff.database
    async with database.unit_of_work() as session:
        begun = await access.begin_totp(session, staff_id)
    authenticator = Authenticator(begun.secret)
    async with database.unit_of_work() as session:
        authenticator.recovery_codes = await access.confirm_totp(
            session, staff_id, authenticator.first_code()
        )
    return authenticator


async def enrol_totp(http: httpx.AsyncClient, headers: dict[str, str]) -> Authenticator:
    """Set up an authenticator over HTTP in a (password-only) session, as the console does."""
    begun = await http.post("/v1/admin/me/totp", headers=headers)
    assert begun.status_code == 200, begun.text
    authenticator = Authenticator(begun.json()["secret"])
    confirmed = await http.post(
        "/v1/admin/me/totp/confirm", json={"code": authenticator.first_code()}, headers=headers
    )
    assert confirmed.status_code == 200, confirmed.text
    authenticator.recovery_codes = confirmed.json()["recovery_codes"]
    return authenticator


async def staff_login(http: httpx.AsyncClient, username: str, **extra: Any) -> httpx.Response:
    """POST the staff login with the factories' password (and `extra`: a code)."""
    return await http.post(
        "/v1/admin/auth/login", json={"username": username, "password": PASSWORD, **extra}
    )


async def staff_token(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    """Headers of a full staff session for an account made by `make_staff`: its authenticator
    is enrolled through the service the first time, then each call logs in over HTTP with the
    password and a code."""
    authenticator = AUTHENTICATORS.get(username)
    if authenticator is None:
        made_with, staff_id = _MADE_WITH.pop(username)
        access = made_with()
        assert access is not None, f"{username} was made by an app that has stopped"
        authenticator = AUTHENTICATORS[username] = await enrol_authenticator(access, staff_id)
    response = await staff_login(http, username, **authenticator.login_factor())
    assert response.status_code == 200, response.text
    assert response.json()["totp_enrolment_required"] is False
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
