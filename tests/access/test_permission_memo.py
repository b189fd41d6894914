"""The permission memo reads the service clock: a process trusts the access version it read
for `access_memo_seconds` of that clock, then reads it again — tests move the clock on
instead of sleeping."""

from __future__ import annotations

from fastapi import FastAPI

from tests.access.conftest import ACCESS_DEFAULTS, AppFactory, grant, make_user, state_of
from usercenter.access.models import SubjectType
from usercenter.access.service.permissions import PermissionService, Scope, Subject
from usercenter.kit.cache import MemoryCache


class FakeSeconds:
    def __init__(self) -> None:
        self.value = 1_000_000.0

    def __call__(self) -> float:
        return self.value


def _another_process(app: FastAPI, seconds: FakeSeconds) -> PermissionService:
    """A permission service as another process has it: its own memory, no broadcast."""
    state = state_of(app)
    return PermissionService(
        settings=state.settings, database=state.database, cache=MemoryCache(), now=seconds
    )


class TestVersionMemo:
    async def test_a_change_elsewhere_is_seen_once_the_memo_time_has_passed(
        self, make_app: AppFactory
    ) -> None:
        app = await make_app(**ACCESS_DEFAULTS)
        seconds = FakeSeconds()
        other = _another_process(app, seconds)
        subject = Subject(SubjectType.USER, await make_user(app))
        scope = Scope("agency", 3)
        grant_id = await grant(app, subject, "agency", scope)
        assert await other.is_allowed(subject, "agency:report:view", scope)
        state = state_of(app)
        async with state.database.unit_of_work() as session:
            await state.rbac.revoke(session, grant_id, ceiling=None)
        # Within the memo time the other process trusts the version it read.
        seconds.value += state.settings.access_memo_seconds / 2
        assert await other.is_allowed(subject, "agency:report:view", scope)
        seconds.value += state.settings.access_memo_seconds
        assert not await other.is_allowed(subject, "agency:report:view", scope)

    async def test_a_clock_that_went_back_ends_the_trust(self, make_app: AppFactory) -> None:
        app = await make_app(**ACCESS_DEFAULTS)
        seconds = FakeSeconds()
        other = _another_process(app, seconds)
        subject = Subject(SubjectType.USER, await make_user(app))
        scope = Scope("agency", 3)
        grant_id = await grant(app, subject, "agency", scope)
        assert await other.is_allowed(subject, "agency:report:view", scope)
        state = state_of(app)
        async with state.database.unit_of_work() as session:
            await state.rbac.revoke(session, grant_id, ceiling=None)
        seconds.value -= 3600
        assert not await other.is_allowed(subject, "agency:report:view", scope)
