"""UserAccounts: what other modules (access, wallet) and staff get from identity — views,
never rows."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.identity.conftest import new_phone, sms_login, state_of
from usercenter.identity.errors import UserNotFound
from usercenter.identity.models import UserStatus
from usercenter.identity.views import IdentityRecord, UserSummary
from usercenter.kit.errors import ValidationFailed


async def _new_users(app: FastAPI, count: int) -> list[int]:
    state = state_of(app)
    made = []
    async with state.database.unit_of_work() as session:
        for _ in range(count):
            user = await state.identity.create_user(
                session, method="test", identities=[], province=None
            )
            made.append(user.id)
    return made


class TestSearchUsers:
    async def test_pages_newest_first_as_summaries(self, app: FastAPI) -> None:
        made = await _new_users(app, 3)
        users = state_of(app).identity
        seen: list[int] = []
        cursor = None
        async with state_of(app).database.read_session() as session:
            while True:
                page = await users.search_users(
                    session,
                    uid=None,
                    phone=None,
                    nickname=None,
                    status=UserStatus.ACTIVE,
                    cursor=cursor,
                    limit=2,
                )
                assert all(isinstance(item, UserSummary) for item in page.items)
                seen += [item.id for item in page.items]
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
        assert seen == sorted(seen, reverse=True)
        assert set(made) <= set(seen)

    async def test_an_unknown_phone_finds_nobody_and_a_foreign_cursor_is_refused(
        self, app: FastAPI
    ) -> None:
        users = state_of(app).identity
        async with state_of(app).database.read_session() as session:
            page = await users.search_users(
                session,
                uid=None,
                phone=new_phone(),
                nickname=None,
                status=None,
                cursor=None,
                limit=5,
            )
            assert (page.items, page.next_cursor) == ([], None)
            with pytest.raises(ValidationFailed):
                await users.search_users(
                    session, uid=None, phone=None, nickname=None, status=None, cursor="x", limit=5
                )


class TestStaffOperations:
    async def test_identities_are_masked_unless_revealed(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        phone = new_phone()
        user_id = int((await sms_login(app, http, phone))["user"]["id"])
        users = state_of(app).identity
        async with state_of(app).database.read_session() as session:
            [masked] = await users.identities_for_staff(session, user_id, reveal=False)
            [whole] = await users.identities_for_staff(session, user_id, reveal=True)
        assert isinstance(masked, IdentityRecord)
        assert masked.type == "phone"
        assert phone not in masked.identifier
        assert masked.identifier.endswith(phone[-4:])
        assert whole.identifier == f"+86{phone}"

    async def test_disable_then_enable_answers_with_the_summary(self, app: FastAPI) -> None:
        [user_id] = await _new_users(app, 1)
        users = state_of(app).identity
        async with state_of(app).database.unit_of_work() as session:
            await users.disable_user(session, user_id)
        assert await users.status_of(state_of(app).database, user_id) == UserStatus.DISABLED
        async with state_of(app).database.unit_of_work() as session:
            enabled = await users.enable_user(session, user_id)
            assert isinstance(enabled, UserSummary)
            assert enabled.is_active
        async with state_of(app).database.read_session() as session:
            assert (await users.get_user_or_raise(session, user_id)).is_active
            with pytest.raises(UserNotFound):
                await users.get_user_or_raise(session, 2**62)
