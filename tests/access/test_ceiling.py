"""The privilege ceiling: a staff member grants, creates, changes or removes only what they
hold themselves; roles go only to existing, active subjects of their audience; ids beyond a
BIGINT are refused with 422."""

from __future__ import annotations

import secrets

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.access.conftest import (
    ACCESS_DEFAULTS,
    SERVICE,
    AppFactory,
    client_for,
    grant,
    make_role,
    make_staff,
    make_user,
    staff_login,
    staff_token,
    state_of,
)
from usercenter.access.models import Grant, StaffAccount, Status, SubjectType
from usercenter.access.service.permissions import Scope, Subject

BEYOND_INT64 = [2**63, 2**64]


@pytest.fixture
async def app(make_app: AppFactory) -> FastAPI:  # type: ignore[override]
    return await make_app(**ACCESS_DEFAULTS)


async def holding(app: FastAPI, *permissions: str) -> tuple[int, str]:
    """A staff account whose only role holds exactly `permissions`."""
    return await make_staff(app, await make_role(app, *permissions))


async def grants_of(app: FastAPI, subject_type: str, subject_id: int) -> list[Grant]:
    async with state_of(app).database.read_session() as session:
        rows = await session.scalars(
            select(Grant).where(Grant.subject_type == subject_type, Grant.subject_id == subject_id)
        )
        return list(rows)


async def staff_row(app: FastAPI, staff_id: int) -> StaffAccount:
    async with state_of(app).database.read_session() as session:
        row = await session.get(StaffAccount, staff_id)
        assert row is not None
        return row


def refused(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["code"] == "privilege_exceeded"


class TestGrantCeiling:
    async def test_role_manager_cannot_grant_itself_super_admin(self, app: FastAPI) -> None:
        me, username = await holding(app, "role:manage")
        async with client_for(app) as http:
            headers = await staff_token(http, username)
            response = await http.post(
                "/v1/admin/grants",
                json={"subject": f"staff:{me}", "role": "super_admin"},
                headers=headers,
            )
            refused(response)
            assert "audit:view" in response.json()["detail"]
            english = await http.post(
                "/v1/admin/grants",
                json={"subject": f"staff:{me}", "role": "super_admin"},
                headers={**headers, "Accept-Language": "en"},
            )
            assert english.json()["title"].startswith("You may grant or manage only")
            me_now = await http.get("/v1/admin/me", headers=headers)
        assert me_now.json()["permissions"] == ["role:manage"]
        assert len(await grants_of(app, SubjectType.STAFF, me)) == 1

    async def test_role_manager_cannot_take_roles_from_a_stronger_account(
        self, app: FastAPI
    ) -> None:
        _, username = await holding(app, "role:manage")
        boss_id, _ = await make_staff(app, "super_admin")
        boss_grant = (await grants_of(app, SubjectType.STAFF, boss_id))[0]
        async with client_for(app) as http:
            headers = await staff_token(http, username)
            refused(await http.delete(f"/v1/admin/grants/{boss_grant.id}", headers=headers))
        assert len(await grants_of(app, SubjectType.STAFF, boss_id)) == 1

    async def test_role_manager_cannot_create_or_widen_roles_beyond_itself(
        self, app: FastAPI
    ) -> None:
        _, username = await holding(app, "role:manage")
        async with client_for(app) as http:
            headers = await staff_token(http, username)
            roles = (await http.get("/v1/admin/roles", headers=headers)).json()
            super_admin = next(r for r in roles if r["code"] == "super_admin")
            refused(
                await http.post(
                    "/v1/admin/roles",
                    json={"code": "payer", "name": "payer", "permissions": ["wallet:adjust:apply"]},
                    headers=headers,
                )
            )
            refused(
                await http.patch(
                    f"/v1/admin/roles/{super_admin['id']}",
                    json={"permissions": ["role:manage"]},
                    headers=headers,
                )
            )
            permissions = (await http.get("/v1/admin/permissions", headers=headers)).json()
            user_view = next(
                c for menu in permissions for c in menu["children"] if c["code"] == "user:view"
            )
            refused(
                await http.patch(
                    f"/v1/admin/permissions/{user_view['id']}",
                    json={"status": "disabled"},
                    headers=headers,
                )
            )
            # Within what it holds, it still works.
            made = await http.post(
                "/v1/admin/roles",
                json={
                    "code": f"helper_{secrets.token_hex(3)}",
                    "name": "helper",
                    "permissions": ["role:manage"],
                },
                headers=headers,
            )
            assert made.status_code == 201, made.text

    async def test_within_the_ceiling_grants_and_revokes_work(self, app: FastAPI) -> None:
        manager_id, username = await make_staff(app, await make_role(app, "role:manage"), "finance")
        target_id, _ = await make_staff(app)
        async with client_for(app) as http:
            headers = await staff_token(http, username)
            made = await http.post(
                "/v1/admin/grants",
                json={"subject": f"staff:{target_id}", "role": "finance"},
                headers=headers,
            )
            assert made.status_code == 201, made.text
            # The target holds no more than the manager: its roles can change.
            gone = await http.delete(f"/v1/admin/grants/{made.json()['id']}", headers=headers)
            assert gone.status_code == 204, gone.text
        assert await grants_of(app, SubjectType.STAFF, target_id) == []
        assert manager_id != target_id

    async def test_scoped_permissions_grant_only_in_their_scope(self, app: FastAPI) -> None:
        merchant_role = await make_role(
            app,
            "menu:merchant",
            "merchant:order:view",
            "merchant:order:refund",
            "merchant:goods:manage",
        )
        manager_id, username = await holding(app, "role:manage")
        await grant(
            app, Subject(SubjectType.STAFF, manager_id), merchant_role, Scope("merchant", 7)
        )
        user_id = await make_user(app)
        async with client_for(app) as http:
            headers = await staff_token(http, username)

            async def give(**scope: object) -> httpx.Response:
                return await http.post(
                    "/v1/admin/grants",
                    json={"subject": f"user:{user_id}", "role": "merchant", **scope},
                    headers=headers,
                )

            refused(await give())
            refused(await give(scope_type="merchant", scope_id=8))
            assert (await give(scope_type="merchant", scope_id=7)).status_code == 201

    async def test_super_admin_holds_permissions_created_later(self, app: FastAPI) -> None:
        _, boss = await make_staff(app, "super_admin")
        user_id = await make_user(app)
        code = f"report:{secrets.token_hex(3)}"
        async with client_for(app) as http:
            headers = await staff_token(http, boss)
            made = await http.post(
                "/v1/admin/permissions",
                json={"code": code, "name": "new report", "kind": "api"},
                headers=headers,
            )
            assert made.status_code == 201, made.text
            role = await http.post(
                "/v1/admin/roles",
                json={
                    "code": f"r_{secrets.token_hex(3)}",
                    "name": "reports",
                    "audience": "user",
                    "permissions": [code],
                },
                headers=headers,
            )
            assert role.status_code == 201, role.text
            given = await http.post(
                "/v1/admin/grants",
                json={"subject": f"user:{user_id}", "role": role.json()["code"]},
                headers=headers,
            )
            assert given.status_code == 201, given.text
            me = await http.get("/v1/admin/me", headers=headers)
        assert code in me.json()["permissions"]


class TestStaffCeiling:
    async def test_staff_manager_cannot_create_a_super_admin(self, app: FastAPI) -> None:
        _, username = await holding(app, "staff:manage")
        async with client_for(app) as http:
            headers = await staff_token(http, username)
            response = await http.post(
                "/v1/admin/staff",
                json={
                    "username": "new_boss",
                    "password": "a long new password 77",
                    "roles": ["super_admin"],
                },
                headers=headers,
            )
            refused(response)
            assert (await staff_login(http, "new_boss")).status_code == 401
        async with state_of(app).database.read_session() as session:
            made = await session.scalar(
                select(StaffAccount).where(StaffAccount.username == "new_boss")
            )
        assert made is None

    async def test_staff_manager_cannot_disable_or_reset_the_super_admin(
        self, app: FastAPI
    ) -> None:
        _, username = await holding(app, "staff:manage")
        boss_id, boss = await make_staff(app, "super_admin")
        async with client_for(app) as http:
            boss_headers = await staff_token(http, boss)  # enrols the super admin's TOTP
            headers = await staff_token(http, username)
            refused(
                await http.post(
                    f"/v1/admin/staff/{boss_id}/status",
                    json={"status": "disabled"},
                    headers=headers,
                )
            )
            refused(await http.post(f"/v1/admin/staff/{boss_id}/totp/reset", headers=headers))
            assert (await http.get("/v1/admin/roles", headers=boss_headers)).status_code == 200
        row = await staff_row(app, boss_id)
        assert row.status == "active"
        assert row.totp_enabled_at is not None

    async def test_staff_manager_cannot_enable_a_disabled_stronger_account(
        self, app: FastAPI
    ) -> None:
        _, username = await holding(app, "staff:manage")
        boss_id, _ = await make_staff(app, "super_admin")
        state = state_of(app)
        async with state.database.unit_of_work() as session:
            await state.staff.set_staff_status(session, boss_id, Status.DISABLED, ceiling=None)
        async with client_for(app) as http:
            headers = await staff_token(http, username)
            refused(
                await http.post(
                    f"/v1/admin/staff/{boss_id}/status", json={"status": "active"}, headers=headers
                )
            )
        assert (await staff_row(app, boss_id)).status == "disabled"

    async def test_within_the_ceiling_staff_management_works(self, app: FastAPI) -> None:
        _, username = await make_staff(app, await make_role(app, "staff:manage"), "finance")
        async with client_for(app) as http:
            headers = await staff_token(http, username)
            made = await http.post(
                "/v1/admin/staff",
                json={
                    "username": f"fin_{secrets.token_hex(3)}",
                    "password": "a long new password 77",
                    "roles": ["finance"],
                },
                headers=headers,
            )
            assert made.status_code == 201, made.text
            new_id = made.json()["id"]
            reset = await http.post(f"/v1/admin/staff/{new_id}/totp/reset", headers=headers)
            assert reset.status_code == 204, reset.text
            disabled = await http.post(
                f"/v1/admin/staff/{new_id}/status", json={"status": "disabled"}, headers=headers
            )
            assert disabled.status_code == 200, disabled.text
            assert disabled.json()["status"] == "disabled"

    async def test_super_admin_can_do_all_of_it(self, app: FastAPI) -> None:
        _, boss = await make_staff(app, "super_admin")
        other_boss_id, _ = await make_staff(app, "super_admin")
        async with client_for(app) as http:
            headers = await staff_token(http, boss)
            made = await http.post(
                "/v1/admin/staff",
                json={
                    "username": f"boss_{secrets.token_hex(3)}",
                    "password": "a long new password 77",
                    "roles": ["super_admin"],
                },
                headers=headers,
            )
            assert made.status_code == 201, made.text
            reset = await http.post(f"/v1/admin/staff/{other_boss_id}/totp/reset", headers=headers)
            assert reset.status_code == 204, reset.text
            disabled = await http.post(
                f"/v1/admin/staff/{other_boss_id}/status",
                json={"status": "disabled"},
                headers=headers,
            )
            assert disabled.status_code == 200, disabled.text


class TestRoleAudience:
    async def test_staff_roles_not_to_users_nor_user_roles_to_staff(self, app: FastAPI) -> None:
        _, boss = await make_staff(app, "super_admin")
        user_id = await make_user(app)
        staff_id, _ = await make_staff(app)
        async with client_for(app) as http:
            headers = await staff_token(http, boss)
            for subject, role in [
                (f"user:{user_id}", "super_admin"),
                (f"staff:{staff_id}", "consumer"),
            ]:
                response = await http.post(
                    "/v1/admin/grants", json={"subject": subject, "role": role}, headers=headers
                )
                assert response.status_code == 422, response.text
                assert response.json()["code"] == "role_audience_mismatch"
                assert response.json()["errors"][0]["field"] == "role"
            created = await http.post(
                "/v1/admin/staff",
                json={
                    "username": f"s_{secrets.token_hex(3)}",
                    "password": "a long new password 77",
                    "roles": ["consumer"],
                },
                headers=headers,
            )
            assert created.status_code == 422, created.text
            assert created.json()["code"] == "role_audience_mismatch"
        assert await grants_of(app, SubjectType.USER, user_id) == []
        assert await grants_of(app, SubjectType.STAFF, staff_id) == []


class TestGrantSubjects:
    async def test_roles_go_only_to_existing_active_subjects(self, app: FastAPI) -> None:
        _, boss = await make_staff(app, "super_admin")
        disabled_user = await make_user(app)
        state = state_of(app)
        async with state.database.unit_of_work() as session:
            await state.identity.disable_user(session, disabled_user)
        disabled_staff, _ = await make_staff(app)
        async with state.database.unit_of_work() as session:
            await state.staff.set_staff_status(
                session, disabled_staff, Status.DISABLED, ceiling=None
            )
        missing_user = 9_000_000_000 + secrets.randbelow(10**9)
        async with client_for(app) as http:
            headers = await staff_token(http, boss)
            for subject, role, code in [
                (f"user:{missing_user}", "consumer", "user_not_found"),
                (f"user:{disabled_user}", "consumer", "user_not_found"),
                (f"staff:{missing_user}", "finance", "staff_not_found"),
                (f"staff:{disabled_staff}", "finance", "staff_not_found"),
            ]:
                response = await http.post(
                    "/v1/admin/grants", json={"subject": subject, "role": role}, headers=headers
                )
                assert response.status_code == 404, (subject, response.text)
                assert response.json()["code"] == code
                assert response.json()["errors"][0]["field"] == "subject"
        assert await grants_of(app, SubjectType.USER, missing_user) == []
        assert await grants_of(app, SubjectType.USER, disabled_user) == []


class TestLargeIds:
    async def test_ids_beyond_bigint_are_422_in_admin_routes(self, app: FastAPI) -> None:
        _, boss = await make_staff(app, "super_admin")
        async with client_for(app) as http:
            headers = await staff_token(http, boss)
            for big in BEYOND_INT64:
                calls = [
                    ("GET", f"/v1/admin/users/{big}", None, None),
                    ("POST", f"/v1/admin/users/{big}/disable", None, None),
                    ("DELETE", f"/v1/admin/users/1/identities/{big}", None, None),
                    ("POST", f"/v1/admin/staff/{big}/status", {"status": "active"}, None),
                    ("POST", f"/v1/admin/staff/{big}/totp/reset", None, None),
                    ("DELETE", f"/v1/admin/grants/{big}", None, None),
                    ("PATCH", f"/v1/admin/roles/{big}", {"name": "x"}, None),
                    ("PATCH", f"/v1/admin/permissions/{big}", {"name": "x"}, None),
                    ("GET", "/v1/admin/grants", None, {"subject": f"user:{big}"}),
                    ("GET", "/v1/admin/audit-log", None, {"staff_id": str(big)}),
                    (
                        "POST",
                        "/v1/admin/grants",
                        {"subject": f"user:{big}", "role": "consumer"},
                        None,
                    ),
                    (
                        "POST",
                        "/v1/admin/grants",
                        {
                            "subject": "user:1",
                            "role": "merchant",
                            "scope_type": "merchant",
                            "scope_id": big,
                        },
                        None,
                    ),
                    (
                        "POST",
                        "/v1/admin/staff",
                        {
                            "username": "big_one",
                            "password": "a long new password 77",
                            "user_id": big,
                        },
                        None,
                    ),
                ]
                if big == 2**63:
                    # Roles and permissions have INTEGER ids (and sort orders).
                    calls += [
                        ("PATCH", f"/v1/admin/roles/{2**31}", {"name": "x"}, None),
                        ("PATCH", f"/v1/admin/permissions/{2**40}", {"name": "x"}, None),
                        ("PATCH", "/v1/admin/permissions/1", {"sort_order": 2**31}, None),
                        (
                            "POST",
                            "/v1/admin/permissions",
                            {"code": "big:one", "name": "x", "kind": "api", "parent_id": 2**31},
                            None,
                        ),
                    ]
                for method, path, body, params in calls:
                    response = await http.request(
                        method, path, json=body, params=params, headers=headers
                    )
                    assert response.status_code == 422, (method, path, response.text)
                    assert response.json()["errors"], (method, path, response.text)

    async def test_ids_beyond_bigint_are_422_in_authz_routes(self, app: FastAPI) -> None:
        async with client_for(app) as http:
            for big in BEYOND_INT64:
                for check in [
                    {"subject": f"user:{big}", "permission": "x"},
                    {"subject": str(big), "permission": "x"},
                    {
                        "subject": "user:1",
                        "permission": "x",
                        "scope_type": "merchant",
                        "scope_id": big,
                    },
                ]:
                    response = await http.post(
                        "/v1/authz/check", json={"checks": [check]}, headers=SERVICE
                    )
                    assert response.status_code == 422, (check, response.text)
                    assert response.json()["errors"][0]["field"].startswith("checks")
                tree = await http.get(
                    f"/v1/authz/subjects/staff:{big}/permissions", headers=SERVICE
                )
                assert tree.status_code == 422, tree.text
                assert tree.json()["errors"][0]["field"] == "subject"
