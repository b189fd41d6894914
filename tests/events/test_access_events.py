"""The events of access: grants to users, roles, staff accounts and their roles, each written
with the change made through the staff API; a refused change leaves none."""

from __future__ import annotations

import secrets

import httpx
from fastapi import FastAPI

from tests.events.conftest import EventLog
from tests.factories.access import PASSWORD, make_role, make_staff, staff_token
from tests.factories.identity import make_user


class TestUserGrants:
    async def test_a_scoped_grant_and_its_revocation(
        self, app: FastAPI, http: httpx.AsyncClient, events: EventLog
    ) -> None:
        user_id = await make_user(app)
        given = await http.post(
            "/v1/admin/grants",
            json={
                "subject": f"user:{user_id}",
                "role": "merchant",
                "scope_type": "merchant",
                "scope_id": 7,
            },
            headers=events.headers,
        )
        assert given.status_code == 201, given.text
        taken = await http.delete(f"/v1/admin/grants/{given.json()['id']}", headers=events.headers)
        assert taken.status_code == 204, taken.text
        history = await events.of(f"users/{user_id}")
        assert [e["type"] for e in history] == [
            "usercenter.user.registered",
            "usercenter.access.grant_changed",
            "usercenter.access.grant_changed",
        ]
        expected = {
            "user_id": user_id,
            "role_code": "merchant",
            "scope_type": "merchant",
            "scope_id": 7,
            "by_staff_id": events.staff_id,
        }
        assert history[1]["data"] == {**expected, "action": "granted"}
        assert history[2]["data"] == {**expected, "action": "revoked"}

    async def test_a_refused_grant_leaves_no_event(
        self, app: FastAPI, http: httpx.AsyncClient, events: EventLog
    ) -> None:
        user_id = await make_user(app)
        body = {"subject": f"user:{user_id}", "role": "consumer"}
        first = await http.post("/v1/admin/grants", json=body, headers=events.headers)
        assert first.status_code == 201, first.text
        twice = await http.post("/v1/admin/grants", json=body, headers=events.headers)
        assert twice.status_code == 409, twice.text
        wrong_audience = await http.post(
            "/v1/admin/grants",
            json={"subject": f"user:{user_id}", "role": "operator"},
            headers=events.headers,
        )
        assert wrong_audience.status_code in (400, 409, 422), wrong_audience.text
        assert len(await events.rows("usercenter.access.grant_changed")) == 1

    async def test_a_staff_member_without_the_roles_permissions_writes_nothing(
        self, app: FastAPI, http: httpx.AsyncClient, events: EventLog
    ) -> None:
        _, manager = await make_staff(app, await make_role(app, "role:manage"))
        headers = await staff_token(http, manager)
        user_id = await make_user(app)
        refused = await http.post(
            "/v1/admin/grants",
            json={"subject": f"user:{user_id}", "role": "merchant"},
            headers=headers,
        )
        assert refused.status_code == 403, refused.text
        assert await events.rows("usercenter.access.grant_changed") == []


class TestRoles:
    async def test_created_renamed_given_permissions_and_unchanged(
        self, http: httpx.AsyncClient, events: EventLog
    ) -> None:
        code = f"role_{secrets.token_hex(3)}"
        created = await http.post(
            "/v1/admin/roles",
            json={"code": code, "name": "审核", "permissions": ["user:view"]},
            headers=events.headers,
        )
        assert created.status_code == 201, created.text
        role_id = created.json()["id"]

        async def patch(body: dict[str, object]) -> None:
            response = await http.patch(
                f"/v1/admin/roles/{role_id}", json=body, headers=events.headers
            )
            assert response.status_code == 200, response.text

        await patch({"name": "审核员"})
        await patch({"permissions": ["user:view", "user:disable"]})
        await patch({"name": "审核员", "permissions": ["user:disable", "user:view"]})  # the same
        await patch({"status": "disabled"})
        history = await events.of(f"roles/{role_id}")
        assert [e["data"]["change"] for e in history] == [
            "created",
            "updated",
            "permissions_changed",
            "updated",
        ]
        assert {e["type"] for e in history} == {"usercenter.access.role_changed"}
        assert all(e["data"]["role_code"] == code for e in history)
        assert all(e["data"]["by_staff_id"] == events.staff_id for e in history)
        assert all(e["data"]["role_id"] == int(role_id) for e in history)

    async def test_a_new_permission_changes_super_admin_and_disabling_it_every_holder(
        self, app: FastAPI, http: httpx.AsyncClient, events: EventLog
    ) -> None:
        code = f"report:{secrets.token_hex(3)}"
        created = await http.post(
            "/v1/admin/permissions",
            json={"code": code, "name": "报表", "kind": "button"},
            headers=events.headers,
        )
        assert created.status_code == 201, created.text
        holder = await make_role(app, code)
        listed = await http.get("/v1/admin/roles", headers=events.headers)
        roles = {role["code"]: role["id"] for role in listed.json()}
        renamed = await http.patch(
            f"/v1/admin/permissions/{created.json()['id']}",
            json={"name": "报表2"},
            headers=events.headers,
        )
        assert renamed.status_code == 200, renamed.text
        disabled = await http.patch(
            f"/v1/admin/permissions/{created.json()['id']}",
            json={"status": "disabled"},
            headers=events.headers,
        )
        assert disabled.status_code == 200, disabled.text
        super_admin = await events.of(f"roles/{roles['super_admin']}")
        assert [(e["data"]["change"], e["data"]["by_staff_id"]) for e in super_admin] == [
            ("permissions_changed", events.staff_id),
            ("permissions_changed", events.staff_id),
        ]
        assert [e["data"]["change"] for e in await events.of(f"roles/{roles[holder]}")] == [
            "created",
            "permissions_changed",
        ]
        # Roles without the permission heard nothing.
        assert await events.of(f"roles/{roles['operator']}") == []

    async def test_a_role_refused_for_a_permission_unknown_writes_nothing(
        self, http: httpx.AsyncClient, events: EventLog
    ) -> None:
        refused = await http.post(
            "/v1/admin/roles",
            json={"code": "ghost", "name": "ghost", "permissions": ["no:such:thing"]},
            headers=events.headers,
        )
        assert refused.status_code in (404, 422), refused.text
        assert await events.rows("usercenter.access.role_changed") == []


class TestStaffAccounts:
    async def test_created_given_roles_disabled_enabled_and_totp_reset(
        self, http: httpx.AsyncClient, events: EventLog
    ) -> None:
        username = f"ops_{secrets.token_hex(3)}"
        created = await http.post(
            "/v1/admin/staff",
            json={"username": username, "password": PASSWORD, "roles": ["operator"]},
            headers=events.headers,
        )
        assert created.status_code == 201, created.text
        staff_id = int(created.json()["id"])
        given = await http.post(
            "/v1/admin/grants",
            json={"subject": f"staff:{staff_id}", "role": "finance"},
            headers=events.headers,
        )
        assert given.status_code == 201, given.text
        taken = await http.delete(f"/v1/admin/grants/{given.json()['id']}", headers=events.headers)
        assert taken.status_code == 204, taken.text
        for status in ("disabled", "disabled", "active"):  # twice disabled: one change
            changed = await http.post(
                f"/v1/admin/staff/{staff_id}/status",
                json={"status": status},
                headers=events.headers,
            )
            assert changed.status_code == 200, changed.text
        reset = await http.post(f"/v1/admin/staff/{staff_id}/totp/reset", headers=events.headers)
        assert reset.status_code == 204, reset.text

        history = await events.of(f"staff/{staff_id}")
        assert [e["type"].removeprefix("usercenter.staff.") for e in history] == [
            "created",
            "roles_changed",
            "roles_changed",
            "disabled",
            "enabled",
            "credentials_reset",
        ]
        by = {"staff_id": staff_id, "by_staff_id": events.staff_id}
        assert history[0]["data"] == {**by, "username": username, "role_codes": ["operator"]}
        assert history[1]["data"] == {**by, "role_codes": ["finance", "operator"]}
        assert history[2]["data"] == {**by, "role_codes": ["operator"]}
        assert history[3]["data"] == by
        assert history[5]["data"] == {**by, "what": "totp"}
        assert PASSWORD not in await events.everything()

    async def test_a_creation_that_fails_after_its_event_leaves_none(
        self, http: httpx.AsyncClient, events: EventLog
    ) -> None:
        """The same role twice: the account and its staff.created are written, then the second
        grant fails; the whole change goes, its event with it (the refusal's log row stays)."""
        refused = await http.post(
            "/v1/admin/staff",
            json={
                "username": f"ops_{secrets.token_hex(3)}",
                "password": PASSWORD,
                "roles": ["operator", "operator"],
            },
            headers=events.headers,
        )
        assert refused.status_code == 409, refused.text
        # The only staff.created is the reader's own, made before.
        [own] = await events.rows("usercenter.staff.created")
        assert own.subject == f"staff/{events.staff_id}"
        assert await events.rows("usercenter.staff.roles_changed") == []
