"""Binding an e-mail (with a code, purpose bind) and a username after registration: another
user's is refused as identity_taken (never merged), one's own is replaced as a rebind."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.identity.conftest import (
    bearer,
    last_mail_code,
    new_phone,
    new_username,
    register,
    sms_login,
    state_of,
)
from usercenter.audit.models import ProfileChange
from usercenter.db import Database
from usercenter.events.models import OutboxEvent
from usercenter.identity.models import Identity, IdentityType


def new_address() -> str:
    return f"{new_username()}@example.org"


async def bind_email(
    application: FastAPI, http: httpx.AsyncClient, tokens: dict[str, Any], address: str
) -> httpx.Response:
    sent = await http.post("/v1/email/codes", json={"email": address, "purpose": "bind"})
    assert sent.status_code == 202, sent.text
    code = await last_mail_code(application, address)
    return await http.post(
        "/v1/me/identities/email", json={"email": address, "code": code}, headers=bearer(tokens)
    )


async def changes_of(db: Database, user_id: int) -> list[tuple[str, str]]:
    async with db.read_session() as session:
        rows = await session.scalars(
            select(ProfileChange).where(ProfileChange.user_id == user_id).order_by(ProfileChange.id)
        )
        return [(row.action, row.attribute) for row in rows]


async def bound_types(db: Database) -> list[str]:
    async with db.read_session() as session:
        return list(await session.scalars(select(OutboxEvent.type).order_by(OutboxEvent.id)))


class TestBindEmail:
    async def test_an_email_proven_by_a_code_is_bound_and_logs_in(
        self, app: FastAPI, http: httpx.AsyncClient, db: Database
    ) -> None:
        tokens = await sms_login(app, http, new_phone())
        address = new_address()
        bound = await bind_email(app, http, tokens, address)
        assert bound.status_code == 204, bound.text
        me = await http.get("/v1/me", headers=bearer(tokens))
        assert me.json()["email"] is not None
        assert "*" in me.json()["email"]
        user_id = int(tokens["user"]["id"])
        assert await changes_of(db, user_id) == [("bind", "email")]
        assert "usercenter.user.identity_bound" in await bound_types(db)

    async def test_a_wrong_code_binds_nothing(
        self, app: FastAPI, http: httpx.AsyncClient, db: Database
    ) -> None:
        tokens = await sms_login(app, http, new_phone())
        address = new_address()
        await http.post("/v1/email/codes", json={"email": address, "purpose": "bind"})
        code = await last_mail_code(app, address)
        wrong = "000000" if code != "000000" else "111111"
        refused = await http.post(
            "/v1/me/identities/email",
            json={"email": address, "code": wrong},
            headers=bearer(tokens),
        )
        assert refused.status_code in (400, 422), refused.text
        assert refused.json()["code"] == "code_invalid"
        assert await changes_of(db, int(tokens["user"]["id"])) == []

    async def test_another_users_email_is_taken_never_merged(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        address = new_address()
        owner = await sms_login(app, http, new_phone())
        assert (await bind_email(app, http, owner, address)).status_code == 204
        other = await sms_login(app, http, new_phone())
        taken = await bind_email(app, http, other, address.upper())
        assert taken.status_code == 409
        assert taken.json()["code"] == "identity_taken"
        assert taken.json()["errors"][0]["field"] == "email"
        mine = await http.get("/v1/me", headers=bearer(other))
        assert mine.json()["email"] is None

    async def test_replacing_ones_own_email_is_a_rebind(
        self, app: FastAPI, http: httpx.AsyncClient, db: Database
    ) -> None:
        tokens = await sms_login(app, http, new_phone())
        first, second = new_address(), new_address()
        await bind_email(app, http, tokens, first)
        again = await bind_email(app, http, tokens, first)
        replaced = await bind_email(app, http, tokens, second)
        assert again.status_code == replaced.status_code == 204
        user_id = int(tokens["user"]["id"])
        async with db.read_session() as session:
            emails = list(
                await session.scalars(
                    select(Identity).where(
                        Identity.user_id == user_id, Identity.type == IdentityType.EMAIL
                    )
                )
            )
        assert len(emails) == 1
        assert await changes_of(db, user_id) == [("bind", "email"), ("rebind", "email")]
        events = await bound_types(db)
        assert "usercenter.user.identity_unbound" in events

    async def test_two_users_binding_one_email_at_once_one_wins(
        self, app: FastAPI, http: httpx.AsyncClient, db: Database, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        one = await sms_login(app, http, new_phone())
        two = await sms_login(app, http, new_phone())
        address = new_address()

        async def any_code(*_: object) -> bool:
            return True  # both hold a valid code: the race is the database's to settle

        context = state_of(app).bindings.context
        monkeypatch.setattr(context.email_codes, "verify", any_code)
        answers = await asyncio.gather(
            *(
                http.post(
                    "/v1/me/identities/email",
                    json={"email": address, "code": "123456"},
                    headers=bearer(tokens),
                )
                for tokens in (one, two)
            )
        )
        assert sorted(a.status_code for a in answers) == [204, 409], [a.text for a in answers]
        assert next(a for a in answers if a.status_code == 409).json()["code"] == "identity_taken"
        async with db.read_session() as session:
            owners = list(
                await session.scalars(
                    select(Identity.user_id).where(Identity.type == IdentityType.EMAIL)
                )
            )
        assert len(owners) == 1


class TestBindUsername:
    async def test_a_username_is_taken_validated_and_replaced(
        self, app: FastAPI, http: httpx.AsyncClient, db: Database
    ) -> None:
        tokens = await sms_login(app, http, new_phone())
        first, second = new_username(), new_username()
        bound = await http.post(
            "/v1/me/identities/username", json={"username": first}, headers=bearer(tokens)
        )
        replaced = await http.post(
            "/v1/me/identities/username", json={"username": second}, headers=bearer(tokens)
        )
        digits = await http.post(
            "/v1/me/identities/username", json={"username": "13812345678"}, headers=bearer(tokens)
        )
        short = await http.post(
            "/v1/me/identities/username", json={"username": "ab"}, headers=bearer(tokens)
        )
        assert bound.status_code == replaced.status_code == 204, bound.text
        assert digits.json()["code"] == "username_looks_like_phone"
        assert short.json()["code"] == "username_invalid"
        me = await http.get("/v1/me", headers=bearer(tokens))
        assert me.json()["username"] == second
        assert await changes_of(db, int(tokens["user"]["id"])) == [
            ("bind", "username"),
            ("rebind", "username"),
        ]

    async def test_another_users_username_is_taken(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        taken = new_username()
        await register(http, taken)
        tokens = await sms_login(app, http, new_phone())
        refused = await http.post(
            "/v1/me/identities/username", json={"username": taken.upper()}, headers=bearer(tokens)
        )
        assert refused.status_code == 409
        assert refused.json()["code"] == "identity_taken"
        assert refused.json()["errors"][0]["field"] == "username"
