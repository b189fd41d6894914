"""Access through the HTTP layer: staff login and TOTP, scoped checks, the admin log, and
every admin route behind a permission."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence
from datetime import timedelta

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import select

from tests.access.conftest import (
    ACCESS_DEFAULTS,
    PASSWORD,
    SERVICE,
    AppFactory,
    client_for,
    enrol_totp,
    grant,
    make_role,
    make_staff,
    make_user,
    staff_login,
    staff_token,
    state_of,
)
from usercenter.access.auth import StaffGuard
from usercenter.access.models import SubjectType
from usercenter.access.service.permissions import Scope, Subject
from usercenter.audit.models import AdminLog
from usercenter.kit import clock

# Admin routes open to any logged-in staff member (their own account) or to nobody yet.
SELF_SERVICE = {
    "/v1/admin/auth/logout",
    "/v1/admin/me",
    "/v1/admin/me/totp",
    "/v1/admin/me/totp/confirm",
}
ANONYMOUS = {"/v1/admin/auth/login"}


@pytest.fixture
async def app(make_app: AppFactory) -> FastAPI:  # type: ignore[override]
    return await make_app(**ACCESS_DEFAULTS)


def api_routes(routes: Sequence[object]) -> Iterator[APIRoute]:
    """Every APIRoute of the app, looking inside included routers."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif (inner := getattr(route, "original_router", None)) is not None:
            yield from api_routes(inner.routes)


def _guards(route: APIRoute) -> list[StaffGuard]:
    found: list[StaffGuard] = []
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        if isinstance(dependant.call, StaffGuard):
            found.append(dependant.call)
        stack.extend(dependant.dependencies)
    return found


class TestEveryAdminRoute:
    def test_holds_a_permission_dependency(self, app: FastAPI) -> None:
        admin = [r for r in api_routes(app.routes) if r.path.startswith("/v1/admin")]
        assert len(admin) > 15
        missing = []
        for route in admin:
            guards = _guards(route)
            if route.path in ANONYMOUS:
                continue
            if route.path in SELF_SERVICE:
                if not guards:
                    missing.append(route.path)
            elif not any(g.permission for g in guards):
                missing.append(f"{sorted(route.methods)} {route.path}")
        assert missing == []

    async def test_refuses_anonymous_callers(self, app: FastAPI) -> None:
        async with client_for(app) as http:
            for route in api_routes(app.routes):
                if not route.path.startswith("/v1/admin"):
                    continue
                path = route.path.replace("{", "").replace("}", "").replace("_id", "1")
                for method in route.methods:
                    response = await http.request(
                        method, path, json={} if method != "GET" else None
                    )
                    assert response.status_code in (401, 403), (method, path, response.text)


class TestMe:
    async def test_lists_the_callers_permission_codes(self, app: FastAPI) -> None:
        _, finance = await make_staff(app, "finance")
        async with client_for(app) as http:
            headers = await staff_token(http, finance)
            response = await http.get("/v1/admin/me", headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["username"] == finance
        assert "wallet:adjust:approve" in body["permissions"]
        assert "role:manage" not in body["permissions"]
        assert body["permissions"] == sorted(body["permissions"])
        assert body["scopes"]["wallet:adjust:approve"] == ["*"]
        async with state_of(app).database.read_session() as session:
            rows = list(await session.scalars(select(AdminLog)))
        assert any(r.action == "self.staff_me" and r.result == "ok" for r in rows)


class TestStaffLogin:
    async def test_user_token_is_not_a_staff_token(self, app: FastAPI) -> None:
        _, username = await make_staff(app, "super_admin")
        async with client_for(app) as http:
            headers = await staff_token(http, username)
            assert (await http.get("/v1/admin/me", headers=headers)).status_code == 200
            # A staff token is refused by user routes.
            assert (await http.get("/v1/me", headers=headers)).status_code == 401

    async def test_wrong_password_is_401_and_logged(self, app: FastAPI) -> None:
        staff_id, username = await make_staff(app, "operator")
        async with client_for(app) as http:
            response = await http.post(
                "/v1/admin/auth/login", json={"username": username, "password": "nope nope"}
            )
        assert response.status_code == 401
        async with state_of(app).database.read_session() as session:
            rows = list(
                await session.scalars(select(AdminLog).where(AdminLog.staff_id == staff_id))
            )
        assert [r.result for r in rows] == ["failed"]
        assert "nope" not in (rows[0].request or "")

    async def test_disabling_a_staff_account_ends_its_sessions(self, app: FastAPI) -> None:
        _, admin = await make_staff(app, "super_admin")
        target_id, target = await make_staff(app, "operator")
        async with client_for(app) as http:
            admin_headers = await staff_token(http, admin)
            target_headers = await staff_token(http, target)
            assert (await http.get("/v1/admin/me", headers=target_headers)).status_code == 200
            response = await http.post(
                f"/v1/admin/staff/{target_id}/status",
                json={"status": "disabled"},
                headers=admin_headers,
            )
            assert response.status_code == 200, response.text
            assert (await http.get("/v1/admin/me", headers=target_headers)).status_code == 401
            assert (await staff_login(http, target)).status_code == 401


def _code_at(secret: str, offset_steps: int = 0) -> str:
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(totp.timecode(clock.now()) + offset_steps)


class TestTotp:
    async def _enrol(self, app: FastAPI, http: object) -> tuple[str, str, list[str]]:
        _, username = await make_staff(app, "operator")
        first = await staff_login(http, username)  # type: ignore[arg-type]
        headers = {"Authorization": f"Bearer {first.json()['access_token']}"}
        begun = await http.post("/v1/admin/me/totp", headers=headers)  # type: ignore[attr-defined]
        assert begun.status_code == 200, begun.text
        uri = begun.json()["provisioning_uri"]
        assert uri.startswith("otpauth://totp/")
        assert username in uri
        secret = begun.json()["secret"]
        confirmed = await http.post(  # type: ignore[attr-defined]
            "/v1/admin/me/totp/confirm", json={"code": _code_at(secret)}, headers=headers
        )
        assert confirmed.status_code == 200, confirmed.text
        return username, secret, confirmed.json()["recovery_codes"]

    async def test_code_required_then_accepted_once(self, app: FastAPI) -> None:
        async with client_for(app) as http:
            username, secret, _ = await self._enrol(app, http)
            missing = await staff_login(http, username)
            assert missing.status_code == 401
            assert missing.json()["code"] == "totp_required"
            # The code that confirmed enrolment was used: the same step is refused.
            replay = await staff_login(http, username, totp_code=_code_at(secret))
            assert replay.status_code == 401
            later = clock.now() + timedelta(seconds=31)
            clock.set_clock(lambda: later)
            try:
                code = _code_at(secret)
                assert (await staff_login(http, username, totp_code=code)).status_code == 200
                again = await staff_login(http, username, totp_code=code)
                assert again.status_code == 401
            finally:
                clock.set_clock(None)

    async def test_recovery_codes_are_single_use(self, app: FastAPI) -> None:
        async with client_for(app) as http:
            username, _, codes = await self._enrol(app, http)
            assert len(set(codes)) == 10
            first = await staff_login(http, username, recovery_code=codes[0])
            assert first.status_code == 200, first.text
            assert (await staff_login(http, username, recovery_code=codes[0])).status_code == 401
            assert (await staff_login(http, username, recovery_code=codes[1])).status_code == 200


class TestAuthzCheck:
    async def _check(self, app: FastAPI, checks: list[dict[str, object]]) -> list[bool]:
        async with client_for(app) as http:
            response = await http.post("/v1/authz/check", json={"checks": checks}, headers=SERVICE)
        assert response.status_code == 200, response.text
        return [r["allowed"] for r in response.json()["results"]]

    async def test_needs_service_credentials(self, app: FastAPI) -> None:
        async with client_for(app) as http:
            response = await http.post(
                "/v1/authz/check", json={"checks": [{"subject": "1", "permission": "x"}]}
            )
        assert response.status_code == 401

    async def test_scoped_grant_allows_only_in_its_scope(self, app: FastAPI) -> None:
        holder, other = await make_user(app), await make_user(app)
        await grant(app, Subject(SubjectType.USER, holder), "merchant", Scope("merchant", 7))
        refund = "merchant:order:refund"
        answers = await self._check(
            app,
            [
                {
                    "subject": f"user:{holder}",
                    "permission": refund,
                    "scope_type": "merchant",
                    "scope_id": 7,
                },
                {
                    "subject": f"user:{holder}",
                    "permission": refund,
                    "scope_type": "merchant",
                    "scope_id": 8,
                },
                {"subject": f"user:{holder}", "permission": refund},
                {"subject": str(holder), "permission": "wallet:view"},
                {
                    "subject": f"user:{other}",
                    "permission": refund,
                    "scope_type": "merchant",
                    "scope_id": 7,
                },
            ],
        )
        assert answers == [True, False, False, False, False]

    async def test_unscoped_grant_and_disabled_role(self, app: FastAPI) -> None:
        staff_id, _ = await make_staff(app, "customer_service")
        subject = f"staff:{staff_id}"
        check = {
            "subject": subject,
            "permission": "merchant:order:refund",
            "scope_type": "merchant",
            "scope_id": 9,
        }
        assert await self._check(app, [check]) == [True]
        _, admin = await make_staff(app, "super_admin")
        async with client_for(app) as http:
            headers = await staff_token(http, admin)
            roles = (await http.get("/v1/admin/roles", headers=headers)).json()
            role_id = next(r["id"] for r in roles if r["code"] == "customer_service")
            response = await http.patch(
                f"/v1/admin/roles/{role_id}", json={"status": "disabled"}, headers=headers
            )
            assert response.status_code == 200, response.text
        assert await self._check(app, [check]) == [False]

    async def test_subject_permission_tree(self, app: FastAPI) -> None:
        staff_id, _ = await make_staff(app, "finance")
        async with client_for(app) as http:
            response = await http.get(
                f"/v1/authz/subjects/staff:{staff_id}/permissions", headers=SERVICE
            )
        assert response.status_code == 200, response.text
        body = response.json()
        assert "wallet:adjust:approve" in body["codes"]
        assert "role:manage" not in body["codes"]
        menus = {node["code"]: node for node in body["tree"]}
        assert "menu:wallet" in menus
        assert "menu:access" not in menus
        assert "wallet:adjust:approve" in {c["code"] for c in menus["menu:wallet"]["children"]}


class TestRevocation:
    async def test_seen_by_a_second_app_within_one_second(self, make_app: AppFactory) -> None:
        first = await make_app(**ACCESS_DEFAULTS)
        second = await make_app(**ACCESS_DEFAULTS)
        subject = Subject(SubjectType.USER, await make_user(first))
        grant_id = await grant(first, subject, "agency", Scope("agency", 3))
        scope = Scope("agency", 3)
        assert await state_of(second).access.is_allowed(subject, "agency:report:view", scope)
        async with state_of(first).database.unit_of_work() as session:
            await state_of(first).rbac.revoke(session, grant_id, ceiling=None)
        started = time.monotonic()
        while await state_of(second).access.is_allowed(subject, "agency:report:view", scope):
            assert time.monotonic() - started < 1.0, "revocation not seen within one second"
            await asyncio.sleep(0.02)
        assert not await state_of(first).access.is_allowed(subject, "agency:report:view", scope)


class TestAdminLog:
    async def test_denied_and_done_actions_are_logged_masked(self, app: FastAPI) -> None:
        operator_id, operator = await make_staff(app, "operator")
        admin_id, admin = await make_staff(app, "super_admin")
        async with client_for(app) as http:
            op_headers = await staff_token(http, operator)
            denied = await http.get("/v1/admin/roles", headers=op_headers)
            assert denied.status_code == 403
            assert denied.json()["code"] == "permission_denied"
            headers = await staff_token(http, admin)
            created = await http.post(
                "/v1/admin/staff",
                json={
                    "username": "new_staff_1",
                    "password": "another long pass 99",
                    "roles": ["finance"],
                },
                headers=headers,
            )
            assert created.status_code == 201, created.text
            found = await http.get(
                "/v1/admin/audit-log", params={"target_id": "13812345678"}, headers=headers
            )
            assert found.status_code == 200
            log = await http.get(
                "/v1/admin/audit-log", params={"staff_id": admin_id}, headers=headers
            )
            assert log.status_code == 200
        async with state_of(app).database.read_session() as session:
            rows = list(await session.scalars(select(AdminLog).order_by(AdminLog.id)))
        text = " ".join(f"{r.request} {r.target_id}" for r in rows)
        assert "another long pass" not in text
        assert PASSWORD not in text
        assert "13812345678" not in text
        assert "138****5678" in text
        results = {(r.staff_id, r.action, r.result) for r in rows}
        assert (operator_id, "role.list_roles", "denied") in results
        assert (admin_id, "staff.create_staff", "ok") in results
        assert (admin_id, "audit.audit_log", "ok") in results
        staff_row = next(r for r in rows if r.action == "staff.create_staff")
        assert staff_row.target_type == "staff"
        assert staff_row.ip

    async def test_changes_only_leaves_out_the_reads_that_went_through(self, app: FastAPI) -> None:
        operator_id, operator = await make_staff(app, "operator")
        admin_id, admin = await make_staff(app, "super_admin")
        user_id = await make_user(app)
        async with client_for(app) as http:
            op_headers = await staff_token(http, operator)
            assert (await http.get("/v1/admin/roles", headers=op_headers)).status_code == 403
            headers = await staff_token(http, admin)
            assert (await http.get("/v1/admin/staff", headers=headers)).status_code == 200
            shown = await http.get(f"/v1/admin/users/{user_id}?reveal=true", headers=headers)
            assert shown.status_code == 200, shown.text
            disabled = await http.post(f"/v1/admin/users/{user_id}/disable", headers=headers)
            assert disabled.status_code == 204, disabled.text

            async def actions(staff_id: int, **params: object) -> list[tuple[str, str]]:
                page = await http.get(
                    "/v1/admin/audit-log",
                    params={"staff_id": staff_id, "limit": 50, **params},
                    headers=headers,
                )
                assert page.status_code == 200, page.text
                return [(e["action"], e["result"]) for e in page.json()["items"]]

            everything = await actions(admin_id)
            changes = await actions(admin_id, changes_only="true")
            refused = await actions(operator_id, changes_only="true")
        assert ("staff.list_staff", "ok") in everything
        assert ("staff.list_staff", "ok") not in changes
        assert not any(action == "audit.audit_log" for action, _ in changes)
        # What changed (a login too), and who saw personal data whole, stay; so does a refusal.
        assert [action for action, _ in changes] == [
            "user.disable_user",
            "user.pii.view",
            "auth.login",
        ]
        assert refused == [("role.list_roles", "denied"), ("auth.login", "ok")]


class TestSecretsAreNotCached:
    async def test_staff_login_and_totp_enrolment_answer_no_store(self, app: FastAPI) -> None:
        async with client_for(app) as http:
            _, username = await make_staff(app, "operator")
            login = await staff_login(http, username)
            assert login.status_code == 200, login.text
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            begun = await http.post("/v1/admin/me/totp", headers=headers)
            assert begun.status_code == 200, begun.text
            confirmed = await http.post(
                "/v1/admin/me/totp/confirm",
                json={"code": _code_at(begun.json()["secret"])},
                headers=headers,
            )
            assert confirmed.status_code == 200, confirmed.text
            for answer in (login, begun, confirmed):
                assert answer.headers["cache-control"] == "no-store", answer.url


def _bearer(response: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {response.json()['access_token']}"}  # type: ignore[attr-defined]


class TestTotpRequired:
    async def test_password_only_session_may_only_enrol(self, app: FastAPI) -> None:
        _, username = await make_staff(app, "super_admin")
        async with client_for(app) as http:
            first = await staff_login(http, username)
            assert first.status_code == 200, first.text
            assert first.json()["totp_enrolment_required"] is True
            headers = _bearer(first)
            for method, path in [
                ("GET", "/v1/admin/roles"),
                ("GET", "/v1/admin/staff"),
                ("GET", "/v1/admin/audit-log"),
                ("POST", "/v1/admin/grants"),
            ]:
                response = await http.request(method, path, headers=headers, json={})
                assert response.status_code == 403, (path, response.text)
                assert response.json()["code"] == "totp_enrolment_required"
            me = await http.get("/v1/admin/me", headers=headers)
            assert me.status_code == 200
            assert me.json()["totp_enrolment_required"] is True
            authenticator = await enrol_totp(http, headers)
            # Enrolled: the password alone no longer logs in; this session stays as it was.
            assert (await http.get("/v1/admin/roles", headers=headers)).status_code == 403
            missing = await staff_login(http, username)
            assert missing.status_code == 401
            assert missing.json()["code"] == "totp_required"
            full = await staff_login(http, username, **authenticator.login_factor())
            assert full.status_code == 200, full.text
            assert full.json()["totp_enrolment_required"] is False
            assert (await http.get("/v1/admin/roles", headers=_bearer(full))).status_code == 200
            logout = await http.post("/v1/admin/auth/logout", headers=headers)
            assert logout.status_code == 204
        async with state_of(app).database.read_session() as session:
            rows = list(await session.scalars(select(AdminLog)))
        assert any(
            r.action == "role.list_roles" and r.result == "totp_enrolment_required" for r in rows
        )

    async def test_after_a_reset_the_next_login_enrols_again(self, app: FastAPI) -> None:
        _, boss = await make_staff(app, "super_admin")
        target_id, target = await make_staff(app, "operator")
        async with client_for(app) as http:
            target_headers = await staff_token(http, target)
            assert (await http.get("/v1/admin/users", headers=target_headers)).status_code == 200
            reset = await http.post(
                f"/v1/admin/staff/{target_id}/totp/reset", headers=await staff_token(http, boss)
            )
            assert reset.status_code == 204, reset.text
            assert (await http.get("/v1/admin/users", headers=target_headers)).status_code == 401
            again = await staff_login(http, target)
            assert again.status_code == 200, again.text
            assert again.json()["totp_enrolment_required"] is True
            refused = await http.get("/v1/admin/users", headers=_bearer(again))
            assert refused.status_code == 403
            assert refused.json()["code"] == "totp_enrolment_required"

    async def test_a_demo_setting_allows_the_password_alone_loudly(
        self, make_app: AppFactory, capsys: pytest.CaptureFixture[str]
    ) -> None:
        app = await make_app(**ACCESS_DEFAULTS, staff_totp_required=False, log_level="WARNING")
        warning = capsys.readouterr().err
        assert "staff_totp_not_required" in warning
        assert "never in production" in warning
        _, username = await make_staff(app, "operator")
        async with client_for(app) as http:
            login = await staff_login(http, username)
            assert login.status_code == 200, login.text
            assert login.json()["totp_enrolment_required"] is False
            assert (await http.get("/v1/admin/users", headers=_bearer(login))).status_code == 200


class TestStaffGuardTransaction:
    """A refused or failed staff call: its log row is written in the route's own transaction
    (no second writer waiting on the first: on SQLite that hung until the busy timeout, then
    answered 500 and lost the row), and the route's own writes are rolled back."""

    async def test_refusal_inside_the_route_is_fast_and_logged(self, app: FastAPI) -> None:
        manager_id, manager = await make_staff(app, "operator")
        state = state_of(app)
        role = await make_role(app, "role:manage", code="grant_only")
        await grant(app, Subject(SubjectType.STAFF, manager_id), role)
        async with client_for(app) as http:
            headers = await staff_token(http, manager)
            started = time.monotonic()
            response = await http.post(
                "/v1/admin/grants",
                json={"subject": f"staff:{manager_id}", "role": "super_admin"},
                headers=headers,
            )
            elapsed = time.monotonic() - started
        assert response.status_code == 403, response.text
        assert elapsed < 1.0, f"took {elapsed:.1f} s"
        async with state.database.read_session() as session:
            rows = list(
                await session.scalars(
                    select(AdminLog).where(
                        AdminLog.staff_id == manager_id, AdminLog.action == "role.create_grant"
                    )
                )
            )
        assert [r.result for r in rows] == ["privilege_exceeded"]

    async def test_failure_keeps_the_log_row_and_drops_the_routes_writes(
        self, app: FastAPI
    ) -> None:
        admin_id, admin = await make_staff(app, "super_admin")
        async with client_for(app) as http:
            headers = await staff_token(http, admin)
            roles = (await http.get("/v1/admin/roles", headers=headers)).json()
            finance = next(r for r in roles if r["code"] == "finance")
            started = time.monotonic()
            # The new name is written (autoflushed) before the unknown permission is found.
            response = await http.patch(
                f"/v1/admin/roles/{finance['id']}",
                json={"name": "renamed", "permissions": ["no:such:permission"]},
                headers=headers,
            )
            elapsed = time.monotonic() - started
            assert response.status_code == 404, response.text
            assert response.json()["code"] == "permission_not_found"
            assert elapsed < 1.0, f"took {elapsed:.1f} s"
            after = (await http.get("/v1/admin/roles", headers=headers)).json()
        assert next(r for r in after if r["code"] == "finance")["name"] == finance["name"]
        async with state_of(app).database.read_session() as session:
            rows = list(
                await session.scalars(
                    select(AdminLog).where(
                        AdminLog.staff_id == admin_id, AdminLog.action == "role.update_role"
                    )
                )
            )
        assert [r.result for r in rows] == ["permission_not_found"]
