"""Users: made through the identity service (`make_user`), or registered and logged in over
HTTP as a client does (`register`, `sms_login`), with what the app sent them."""

from __future__ import annotations

import random
import re
import secrets
from typing import Any, Protocol

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import services_of
from usercenter.app import Services
from usercenter.config import Settings
from usercenter.db import Database
from usercenter.identity.models import IdentityType
from usercenter.identity.service.accounts import UserAccounts
from usercenter.identity.service.context import IdentitySpec
from usercenter.identity.service.normalize import normalize_phone, normalize_username
from usercenter.notify.mail import ConsoleMailSender
from usercenter.notify.sms import ConsoleSmsSender
from usercenter.security.passwords import PasswordHasher

PASSWORD = "correct horse 42"


class HoldsIdentity(Protocol):
    """What `make_user` needs of its owner: `Services`, or a service that holds the identity
    service (the wallet)."""

    settings: Settings
    database: Database
    identity: UserAccounts


def new_phone() -> str:
    """A plausible mainland mobile number no other test uses."""
    return f"139{random.randint(0, 99_999_999):08d}"


def new_username() -> str:
    return f"user_{secrets.token_hex(5)}"


async def make_user(
    owner: FastAPI | HoldsIdentity,
    *,
    phone: str | None = None,
    username: str | None = None,
    password: str | None = None,
    session: AsyncSession | None = None,
) -> int:
    """A new active user, made through the identity service; returns its id. Without `phone`
    or `username` it has no login identity (a holder of roles or balances); with `password`
    it can log in with it. In the caller's `session` when given, else in a unit of work of its
    own."""
    holder: HoldsIdentity = services_of(owner) if isinstance(owner, FastAPI) else owner
    identity = holder.identity
    specs = []
    if phone is not None:
        specs.append(IdentitySpec(IdentityType.PHONE, normalize_phone(phone).e164))
    if username is not None:
        specs.append(IdentitySpec(IdentityType.USERNAME, normalize_username(username)))
    hasher = PasswordHasher.from_settings(holder.settings)
    password_hash = await hasher.hash_async(password) if password else None

    async def create(session: AsyncSession) -> int:
        user = await identity.create_user(
            session, method="test", identities=specs, province=None, password_hash=password_hash
        )
        return user.id

    if session is not None:
        return await create(session)
    async with holder.database.unit_of_work() as own:
        return await create(own)


async def register(
    http: httpx.AsyncClient, username: str, password: str = PASSWORD, **extra: Any
) -> dict[str, Any]:
    """Register over HTTP with a username and password; returns the login answer."""
    body = {"username": username, "password": password, "platform": "WEB", **extra}
    response = await http.post("/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def last_sms_code(application: FastAPI | Services, phone: str) -> str:
    """The last code sent to `phone`, once every delivery under way has finished."""
    services = services_of(application)
    await services.courier.drain()
    sender = services.codes.sms
    assert isinstance(sender, ConsoleSmsSender)
    digits = phone.replace(" ", "")
    code = sender.last_code(digits if digits.startswith("+") else f"+86{digits}")
    assert code is not None, f"no code was sent to {phone}"
    return code


async def last_mail_code(application: FastAPI | Services, address: str) -> str:
    """The 6-digit code in the last mail sent to `address`, once every delivery under way has
    finished."""
    services = services_of(application)
    await services.courier.drain()
    sender = services.codes.mail
    assert isinstance(sender, ConsoleMailSender)
    message = sender.last_message(address.lower())
    assert message is not None, f"no mail was sent to {address}"
    found = re.search(r"(?<!\d)\d{6}(?!\d)", message.body)
    assert found is not None, message.body
    return found.group(0)


async def sms_login(
    application: FastAPI, http: httpx.AsyncClient, phone: str, **extra: Any
) -> dict[str, Any]:
    """Send a code to `phone` and log in with it over HTTP (registering the phone's owner on
    first use); returns the login answer."""
    sent = await http.post("/v1/sms/codes", json={"phone": phone, "purpose": "login"})
    assert sent.status_code == 202, sent.text
    body = {
        "phone": phone,
        "code": await last_sms_code(application, phone),
        "platform": "APP",
        **extra,
    }
    response = await http.post("/v1/auth/sms-login", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    """The headers that carry a login answer's access token."""
    return {"Authorization": f"Bearer {tokens['access_token']}"}
