"""What the admin console needs of access: the caller's menus in /v1/admin/me, a user's login
history page by page, ending every session of a user (logged)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.access.conftest import (
    ACCESS_DEFAULTS,
    AppFactory,
    client_for,
    make_role,
    make_staff,
    staff_token,
    state_of,
)
from tests.identity.conftest import bearer, new_phone, sms_login
from usercenter.audit.models import AdminLog


@pytest.fixture
async def app(make_app: AppFactory) -> FastAPI:  # type: ignore[override]
    return await make_app(**ACCESS_DEFAULTS)


def codes(menus: list[dict[str, Any]]) -> list[str]:
    return [m["code"] for m in menus]


class TestMenus:
    async def test_super_admin_sees_every_menu_sorted(self, app: FastAPI) -> None:
        _, root = await make_staff(app, "super_admin")
        async with client_for(app) as http:
            me = (await http.get("/v1/admin/me", headers=await staff_token(http, root))).json()
        menus = me["menus"]
        assert codes(menus)[:4] == ["menu:dashboard", "menu:user", "menu:access", "menu:wallet"]
        assert [m["sort"] for m in menus] == sorted(m["sort"] for m in menus)
        assert menus[0] == {
            "code": "menu:dashboard",
            "name": "数据看板",
            "path": "/dashboard",
            "sort": 5,
            "children": [],
        }
        # Buttons and APIs are permissions, not menus.
        assert "stats:view" in me["permissions"]
        assert all(code.startswith("menu:") for code in codes(menus))

    async def test_finance_sees_the_menus_its_role_holds(self, app: FastAPI) -> None:
        _, finance = await make_staff(app, "finance")
        async with client_for(app) as http:
            me = (await http.get("/v1/admin/me", headers=await staff_token(http, finance))).json()
        assert codes(me["menus"]) == ["menu:dashboard", "menu:user", "menu:wallet"]
        assert me["username"] == finance  # the fields it had stay

    async def test_a_held_menu_under_a_held_menu_is_its_child(self, app: FastAPI) -> None:
        services = state_of(app)
        async with services.database.unit_of_work() as session:
            wallet = next(
                p for p in await services.rbac.list_permissions(session) if p.code == "menu:wallet"
            )
            await services.rbac.create_permission(
                session,
                code="menu:wallet:report",
                name="报表",
                kind="menu",
                parent_id=wallet.id,
                path="/wallet/reports",
                sort_order=1,
                description=None,
            )
        only = await make_role(app, "menu:wallet", "menu:wallet:report", "wallet:view")
        nested = await make_role(app, "menu:wallet:report")
        _, both = await make_staff(app, only)
        _, child_only = await make_staff(app, nested)
        async with client_for(app) as http:
            me = (await http.get("/v1/admin/me", headers=await staff_token(http, both))).json()
            orphan = (
                await http.get("/v1/admin/me", headers=await staff_token(http, child_only))
            ).json()
        assert codes(me["menus"]) == ["menu:wallet"]
        assert codes(me["menus"][0]["children"]) == ["menu:wallet:report"]
        assert me["menus"][0]["children"][0]["path"] == "/wallet/reports"
        # A menu whose parent is not held stands at the top.
        assert codes(orphan["menus"]) == ["menu:wallet:report"]


class TestUserLogins:
    async def test_pages_of_the_history_masked(self, app: FastAPI) -> None:
        phone = new_phone()
        async with client_for(app) as http:
            for _ in range(3):
                await sms_login(app, http, phone)
            _, operator = await make_staff(app, "operator")
            headers = await staff_token(http, operator)
            found = await http.get("/v1/admin/users", params={"phone": phone}, headers=headers)
            user_id = found.json()["items"][0]["id"]
            seen: list[dict[str, Any]] = []
            cursor = None
            while True:
                params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
                page = await http.get(
                    f"/v1/admin/users/{user_id}/logins", params=params, headers=headers
                )
                assert page.status_code == 200, page.text
                seen.extend(page.json()["items"])
                cursor = page.json()["next_cursor"]
                if cursor is None:
                    break
            missing = await http.get("/v1/admin/users/424242/logins", headers=headers)
            bad = await http.get(
                f"/v1/admin/users/{user_id}/logins?cursor=nonsense", headers=headers
            )
        assert [e["kind"] for e in seen] == ["login", "login", "login", "register"]
        assert [int(e["id"]) for e in seen] == sorted((int(e["id"]) for e in seen), reverse=True)
        assert all(e["ip"] is None or e["ip"].endswith(".*.*") for e in seen)
        assert missing.status_code == 404
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "cursor"


class TestRevokeSessions:
    async def test_ends_every_session_keeps_the_account_and_logs_it(self, app: FastAPI) -> None:
        phone = new_phone()
        async with client_for(app) as http:
            first = await sms_login(app, http, phone)
            second = await sms_login(app, http, phone)
            _, operator = await make_staff(app, "operator")
            _, finance = await make_staff(app, "finance")
            headers = await staff_token(http, operator)
            found = await http.get("/v1/admin/users", params={"phone": phone}, headers=headers)
            user_id = found.json()["items"][0]["id"]
            refused = await http.post(
                f"/v1/admin/users/{user_id}/sessions/revoke",
                headers=await staff_token(http, finance),
            )
            assert refused.status_code == 403
            assert (await http.get("/v1/me", headers=bearer(first))).status_code == 200

            revoked = await http.post(f"/v1/admin/users/{user_id}/sessions/revoke", headers=headers)

            assert revoked.status_code == 200, revoked.text
            assert revoked.json() == {"revoked": 2}
            for tokens in (first, second):
                assert (await http.get("/v1/me", headers=bearer(tokens))).status_code == 401
            detail = await http.get(f"/v1/admin/users/{user_id}", headers=headers)
            assert detail.json()["status"] == "active"
            assert detail.json()["live_sessions"] == 0
            # Not disabled: the user logs in again.
            await sms_login(app, http, phone)
        async with state_of(app).database.read_session() as session:
            rows = list(
                await session.scalars(
                    select(AdminLog).where(AdminLog.action == "user.revoke_user_sessions")
                )
            )
        assert [(r.result, r.target_type, r.target_id) for r in rows] == [
            ("denied", "user", user_id),
            ("ok", "user", user_id),
        ]
        assert '"sessions_ended": 2' in (rows[1].request or "")


class TestReveal:
    async def test_needs_pii_view_and_each_attempt_is_logged(self, app: FastAPI) -> None:
        phone = new_phone()
        async with client_for(app) as http:
            await sms_login(app, http, phone)
            _, operator = await make_staff(app, "operator")
            _, root = await make_staff(app, "super_admin")
            op = await staff_token(http, operator)
            found = await http.get("/v1/admin/users", params={"phone": phone}, headers=op)
            user_id = found.json()["items"][0]["id"]
            refused = await http.get(f"/v1/admin/users/{user_id}?reveal=true", headers=op)
            shown = await http.get(
                f"/v1/admin/users/{user_id}?reveal=true", headers=await staff_token(http, root)
            )
        assert refused.status_code == 403
        assert refused.json()["code"] == "permission_denied"
        assert shown.json()["pii_revealed"] is True
        async with state_of(app).database.read_session() as session:
            rows = list(
                await session.scalars(
                    select(AdminLog).where(AdminLog.target_id == user_id).order_by(AdminLog.id)
                )
            )
        reveals = [(r.username, r.action, r.result) for r in rows if "reveal" in (r.request or "")]
        assert reveals == [
            (operator, "user.user_detail", "permission_denied"),
            (root, "user.pii.view", "ok"),
        ]
