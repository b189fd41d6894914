"""Staff routes for users: search through the blind index, masked detail, PII reveal logged,
disable/enable, unbind."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.access.conftest import (
    ACCESS_DEFAULTS,
    AppFactory,
    client_for,
    make_staff,
    staff_token,
    state_of,
)
from tests.identity.conftest import bearer, new_phone, sms_login
from usercenter.audit.models import AdminLog


@pytest.fixture
async def app(make_app: AppFactory) -> FastAPI:  # type: ignore[override]
    return await make_app(**ACCESS_DEFAULTS)


class TestStaffUserRoutes:
    async def test_search_detail_reveal_disable_unbind(self, app: FastAPI) -> None:
        phone = new_phone()
        async with client_for(app) as http:
            tokens = await sms_login(app, http, phone)
            _, operator = await make_staff(app, "operator")
            _, admin = await make_staff(app, "super_admin")
            op = await staff_token(http, operator)
            found = await http.get("/v1/admin/users", params={"phone": phone}, headers=op)
            assert found.status_code == 200, found.text
            items = found.json()["items"]
            assert len(items) == 1
            user_id = items[0]["id"]
            detail = await http.get(f"/v1/admin/users/{user_id}", headers=op)
            assert detail.status_code == 200
            shown = detail.json()["identities"][0]["identifier"]
            assert phone not in shown
            assert "****" in shown
            sessions = detail.json()["sessions"]
            assert len(sessions) == detail.json()["live_sessions"] == 1
            logins = detail.json()["recent_logins"]
            assert logins
            assert {e["kind"] for e in logins} <= {"register", "login"}
            # The test client calls from 10.x.y.z: the address is shown masked.
            for item in [*sessions, *logins]:
                assert item["ip"] is None or item["ip"].endswith(".*.*")
            refused = await http.get(f"/v1/admin/users/{user_id}?reveal=true", headers=op)
            assert refused.status_code == 403
            boss = await staff_token(http, admin)
            revealed = await http.get(f"/v1/admin/users/{user_id}?reveal=true", headers=boss)
            assert revealed.status_code == 200
            assert phone in revealed.json()["identities"][0]["identifier"]
            whole_ip = revealed.json()["sessions"][0]["ip"]
            assert whole_ip is None or "*" not in whole_ip
            disabled = await http.post(f"/v1/admin/users/{user_id}/disable", headers=op)
            assert disabled.status_code == 204, disabled.text
            assert (await http.get("/v1/me", headers=bearer(tokens))).status_code == 401
            enabled = await http.post(f"/v1/admin/users/{user_id}/enable", headers=op)
            assert enabled.json()["status"] == "active"
            identity_id = detail.json()["identities"][0]["id"]
            unbound = await http.delete(
                f"/v1/admin/users/{user_id}/identities/{identity_id}", headers=op
            )
            assert unbound.status_code == 204, unbound.text
            again = await http.get("/v1/admin/users", params={"phone": phone}, headers=op)
            assert again.json()["items"] == []
        async with state_of(app).database.read_session() as session:
            rows = list(await session.scalars(select(AdminLog)))
        assert any(r.action == "user.pii.view" and r.result == "ok" for r in rows)
        assert any(r.action == "user.user_detail" and r.result == "ok" for r in rows)
        assert all(phone not in (r.request or "") for r in rows)
