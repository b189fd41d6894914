"""Staff sessions are a subject type of their own: a staff account and a user that happen to
share a numeric id never see or end each other's sessions, and a staff token still says
`sub: "staff:<id>"`."""

from __future__ import annotations

from datetime import timedelta

import jwt
from fastapi import FastAPI

from tests.identity.conftest import state_of
from usercenter.kit.client import ClientInfo, Device

CLIENT = ClientInfo(ip="10.0.0.1", user_agent="test", device=Device(device_id="dev-1"))
SHARED_ID = 9_000_000_123


class TestStaffSessions:
    async def test_a_staff_member_and_a_user_with_one_id_are_kept_apart(self, app: FastAPI) -> None:
        state = state_of(app)
        tokens = state.tokens
        async with state.database.unit_of_work() as session:
            user_pair = await tokens.start_session(
                session,
                user_id=SHARED_ID,
                uid="GD999999",
                platform="APP",
                method="password",
                client=CLIENT,
            )
            staff_pair = await tokens.start_staff_session(
                session,
                staff_id=SHARED_ID,
                method="password",
                client=CLIENT,
                lifetime=timedelta(hours=1),
                amr=["pwd"],
            )
        staff_claims = jwt.decode(staff_pair.access_token, options={"verify_signature": False})
        user_claims = jwt.decode(user_pair.access_token, options={"verify_signature": False})
        assert staff_claims["sub"] == f"staff:{SHARED_ID}"
        assert user_claims["sub"] == str(SHARED_ID)
        async with state.database.unit_of_work() as session:
            listed = await tokens.list_sessions(session, SHARED_ID)
            assert [s.id for s in listed] == [user_pair.session_id]
            ended = await tokens.end_staff_sessions(session, staff_id=SHARED_ID, reason="test")
            assert ended == [staff_pair.session_id]
        async with state.database.read_session() as session:
            assert [s.id for s in await tokens.list_sessions(session, SHARED_ID)] == [
                user_pair.session_id
            ]
        assert await tokens.is_session_live(user_pair.session_id)
        assert not await tokens.is_session_live(staff_pair.session_id)
