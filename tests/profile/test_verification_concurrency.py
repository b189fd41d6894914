"""The same ID number submitted by two users at the same moment, on every database. On
PostgreSQL and MariaDB both pass the check for a holder before either writes, so the UNIQUE
index alone decides; SQLite runs write transactions one at a time (BEGIN IMMEDIATE), so there
the second sees the first's row. Either way exactly one wins; the other gets
`id_document_taken` and nothing of theirs is written."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI

from tests.factories.identity import make_user
from tests.profile.verification_helpers import count, event_data, id_number, rows_of_user
from usercenter.db import Database
from usercenter.kit.client import ClientInfo
from usercenter.profile.errors import IdDocumentTaken
from usercenter.profile.models import UserVerification
from usercenter.profile.repository import verification as repository
from usercenter.profile.service.verification import Submission
from usercenter.security.documents import DocumentType


@pytest.mark.parametrize("rounds", [3])
async def test_two_users_one_document_at_once_exactly_one_wins(
    app: FastAPI, db: Database, monkeypatch: pytest.MonkeyPatch, rounds: int, backend_name: str
) -> None:
    services = app.state.services
    verifications = services.verifications
    original = repository.holder_of_document
    barrier: list[asyncio.Barrier] = []

    async def both_look_first(session: Any, index: str) -> int | None:
        holder = await original(session, index)
        await barrier[0].wait()  # neither writes before both have looked
        return holder

    if backend_name != "sqlite":
        monkeypatch.setattr(repository, "holder_of_document", both_look_first)
    for round_ in range(rounds):
        barrier[:] = [asyncio.Barrier(2)]
        number = id_number("19950505", sequence=f"{round_:03d}")
        users = [await make_user(services) for _ in range(2)]

        async def submit(user_id: int, name: str, number: str = number) -> str:
            async with services.database.unit_of_work() as session:
                await verifications.submit(
                    session,
                    user_id,
                    Submission(name, DocumentType.ID_CARD, number),
                    ClientInfo(ip="10.0.0.1"),
                )
            return "ok"

        results = await asyncio.gather(
            submit(users[0], "张三"), submit(users[1], "李四"), return_exceptions=True
        )
        outcomes = sorted(r if isinstance(r, str) else type(r).__name__ for r in results)
        assert outcomes == ["IdDocumentTaken", "ok"], results
        assert all(isinstance(r, str | IdDocumentTaken) for r in results)
        winner, loser = (users[0], users[1]) if results[0] == "ok" else (users[1], users[0])
        assert await rows_of_user(services.database, winner) == {
            "verifications": 1,
            "history": 1,
            "changes": 1,
        }
        assert await rows_of_user(services.database, loser) == {
            "verifications": 0,
            "history": 0,
            "changes": 0,
        }
    assert await count(services.database, UserVerification) == rounds
    assert len(await event_data(services.database)) == rounds
