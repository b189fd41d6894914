"""What the verification tests share: ID card numbers with their check character, a user's and a
reviewer's credentials, and the rows a test looks at."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from tests.factories.access import make_role, make_staff, staff_token
from tests.factories.identity import bearer, new_phone, sms_login
from usercenter.audit.models import ProfileChange
from usercenter.db import Database
from usercenter.events.models import OutboxEvent
from usercenter.profile.models import UserVerification, VerificationHistory

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(birth: str = "19900307", *, area: str = "440106", sequence: str = "123") -> str:
    """A resident ID card number with the right GB 11643 check character."""
    body = f"{area}{birth}{sequence}"
    total = sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


def wrong_check(number: str) -> str:
    """The same number with another (wrong) check character."""
    return number[:-1] + ("0" if number[-1] != "0" else "1")


async def user_headers(app: FastAPI, http: httpx.AsyncClient) -> tuple[int, dict[str, str]]:
    """A new user logged in over HTTP: (id, headers)."""
    answer = await sms_login(app, http, new_phone())
    return int(answer["user"]["id"]), bearer(answer)


async def reviewer_headers(
    app: FastAPI, http: httpx.AsyncClient, *permissions: str
) -> dict[str, str]:
    """A staff session holding `permissions` (user:verify:review by default)."""
    role = await make_role(app, *(permissions or ("user:verify:review",)))
    _, username = await make_staff(app, role)
    return await staff_token(http, username)


def submission(number: str, name: str = "张三丰", **extra: Any) -> dict[str, Any]:
    return {"real_name": name, "document_type": "id_card", "document_number": number, **extra}


async def count(database: Database, model: Any, **where: Any) -> int:
    async with database.read_session() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int((await session.execute(query)).scalar_one())


async def rows_of_user(database: Database, user_id: int) -> dict[str, int]:
    """How many verification, history and change-log rows the user has, and all events."""
    return {
        "verifications": await count(database, UserVerification, user_id=user_id),
        "history": await count(database, VerificationHistory, user_id=user_id),
        "changes": await count(database, ProfileChange, user_id=user_id),
    }


async def event_data(database: Database, prefix: str = "usercenter.verification.") -> list[Any]:
    async with database.read_session() as session:
        rows = await session.execute(
            select(OutboxEvent.type, OutboxEvent.data)
            .where(OutboxEvent.type.startswith(prefix))
            .order_by(OutboxEvent.id)
        )
        return [(t, d) for t, d in rows.all()]
