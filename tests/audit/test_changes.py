"""The change log (seed 001 user_info_update): a row per changed field of the profile, values
masked where personal, who made it; read by the user (`GET /v1/me/changes`) and by staff with
`user:view`, newest first, a cursor per page."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.access.conftest import make_role, make_staff, staff_token
from tests.identity.conftest import bearer, client_for, new_phone, sms_login, state_of
from usercenter.audit import service as audit
from usercenter.audit.models import ChangeActor
from usercenter.kit.client import ClientInfo


async def logged_in(app: FastAPI, http: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    tokens = await sms_login(app, http, new_phone())
    headers = bearer(tokens)
    return (await http.get("/v1/me", headers=headers)).json()["id"], headers


async def changes(http: httpx.AsyncClient, headers: dict[str, str], **params: object) -> list[dict]:
    answer = await http.get("/v1/me/changes", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


class TestProfileUpdates:
    async def test_a_row_per_changed_field_masked_where_personal(self, app: FastAPI) -> None:
        async with client_for(app) as http:
            _, headers = await logged_in(app, http)
            first = await http.patch(
                "/v1/me",
                json={"nickname": "小明", "gender": 1, "birthday": "1990-03-07"},
                headers=headers,
            )
            assert first.status_code == 200
            # Unchanged fields write nothing; a nickname with a phone number in it is masked.
            again = await http.patch(
                "/v1/me",
                json={"nickname": "小明 13812348888", "gender": 1, "signature": "你好"},
                headers=headers,
            )
            assert again.status_code == 200
            rows = await changes(http, headers)
        seen = {(r["attribute"], r["old_value"], r["new_value"]) for r in rows}
        assert ("gender", "0", "1") in seen
        assert ("birthday", None, "1990-**-**") in seen
        assert ("nickname", None, "小明") in seen
        assert ("nickname", "小明", "小明 138****8888") in seen
        assert ("signature", None, "你好") in seen
        assert sum(r["attribute"] == "gender" for r in rows) == 1
        assert all(r["actor"] == "user" and r["action"] == "update" for r in rows)
        assert not any("1990-03-07" in str(r) or "13812348888" in str(r) for r in rows)
        ids = [int(r["id"]) for r in rows]
        assert ids == sorted(ids, reverse=True)

    async def test_a_rejected_update_leaves_no_row(self, app: FastAPI) -> None:
        async with client_for(app) as http:
            _, headers = await logged_in(app, http)
            before = await changes(http, headers)
            bad = await http.patch("/v1/me", json={"nickname": "x", "gender": 9}, headers=headers)
            assert bad.status_code == 422
            assert await changes(http, headers) == before


class TestReading:
    async def test_pages_newest_first_with_a_cursor_and_a_filter(self, app: FastAPI) -> None:
        async with client_for(app) as http:
            _, headers = await logged_in(app, http)
            for n in range(5):
                await http.patch("/v1/me", json={"signature": f"第{n}条"}, headers=headers)
            await http.patch("/v1/me", json={"nickname": "阿明"}, headers=headers)
            whole = await changes(http, headers, attribute="signature")
            assert [r["new_value"] for r in whole] == [f"第{n}条" for n in range(4, -1, -1)]
            pages: list[list[str]] = []
            cursor: str | None = None
            while True:
                params: dict[str, object] = {"limit": 2, "attribute": "sig"}
                if cursor:
                    params["cursor"] = cursor
                answer = await http.get("/v1/me/changes", params=params, headers=headers)
                body = answer.json()
                pages.append([r["new_value"] for r in body["items"]])
                cursor = body["next_cursor"]
                if cursor is None:
                    break
            assert pages == [["第4条", "第3条"], ["第2条", "第1条"], ["第0条"]]
            nicknames = await changes(http, headers, attribute="nickname")
            assert [r["new_value"] for r in nicknames] == ["阿明"]
            bad = await http.get("/v1/me/changes", params={"cursor": "nonsense"}, headers=headers)
            assert bad.status_code == 422
            assert bad.json()["errors"][0]["field"] == "cursor"
            assert (await http.get("/v1/me/changes")).status_code == 401

    async def test_a_user_sees_only_their_own(self, app: FastAPI) -> None:
        async with client_for(app) as http:
            _, mine = await logged_in(app, http)
            _, theirs = await logged_in(app, http)
            await http.patch("/v1/me", json={"nickname": "别人"}, headers=theirs)
            assert not [r for r in await changes(http, mine) if r["attribute"] == "nickname"]

    async def test_writers_name_who_made_a_change(self, app: FastAPI) -> None:
        async with client_for(app) as http:
            user_id, headers = await logged_in(app, http)
            services = state_of(app)
            async with services.database.unit_of_work() as session:
                # The signature other writers call, unchanged; and with who made it.
                await audit.record_profile_change(
                    session,
                    user_id=int(user_id),
                    action="set",
                    attribute="payment_password",
                    client=ClientInfo(ip="10.0.0.1"),
                    new_value="(changed)",
                )
                await audit.record_profile_change(
                    session,
                    user_id=int(user_id),
                    action="approve",
                    attribute="verification.status",
                    client=ClientInfo(),
                    old_value="pending",
                    new_value="approved",
                    actor=ChangeActor.STAFF,
                    actor_id=42,
                )
            rows = await changes(http, headers, attribute="verification")
            assert [(r["actor"], r["actor_id"]) for r in rows] == [("staff", "42")]
            secret = await changes(http, headers, attribute="payment_password")
            assert [(r["actor"], r["new_value"]) for r in secret] == [("user", "(changed)")]


class TestStaffReading:
    async def test_staff_with_user_view_read_a_users_changes(self, app: FastAPI) -> None:
        async with client_for(app) as http:
            user_id, headers = await logged_in(app, http)
            await http.patch("/v1/me", json={"nickname": "小红"}, headers=headers)
            _, viewer = await make_staff(app, await make_role(app, "user:view"))
            staff = await staff_token(http, viewer)
            answer = await http.get(f"/v1/admin/users/{user_id}/changes", headers=staff)
            assert answer.status_code == 200, answer.text
            items = answer.json()["items"]
            nicknames = [r["new_value"] for r in items if r["attribute"] == "nickname"]
            assert nicknames == ["小红"]
            paged = await http.get(
                f"/v1/admin/users/{user_id}/changes", params={"limit": 1}, headers=staff
            )
            assert len(paged.json()["items"]) == 1

    @pytest.mark.parametrize("permission", ["audit:view", "user:disable"])
    async def test_staff_without_user_view_are_refused(self, app: FastAPI, permission: str) -> None:
        async with client_for(app) as http:
            user_id, _ = await logged_in(app, http)
            _, other = await make_staff(app, await make_role(app, permission))
            refused = await http.get(
                f"/v1/admin/users/{user_id}/changes", headers=await staff_token(http, other)
            )
            assert refused.status_code == 403
            assert refused.json()["code"] == "permission_denied"
