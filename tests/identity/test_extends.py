"""Extension fields (seed 003 users_extends): keys declared by staff, values typed and checked,
changed all or nothing by the user (editable keys) or by staff (any), shown under `extends` in
GET /v1/me's cached view."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, select
from sqlalchemy.engine import Connection

from tests.access.conftest import make_role, make_staff, staff_token
from tests.identity.conftest import bearer, client_for, new_phone, sms_login, state_of
from usercenter.audit.models import AdminLog, ProfileChange
from usercenter.events.models import OutboxEvent
from usercenter.identity.extend_values import KeyRule, ValueRejected, canonical, typed
from usercenter.identity.models import ExtendType, UserExtend
from usercenter.identity.service.extends import ExtendKeyDraft

KEYS: list[dict[str, Any]] = [
    {"key": "school", "label": "学校", "type": "string", "max_length": 8, "is_user_editable": True},
    {"key": "height", "label": "身高", "type": "integer", "is_user_editable": True},
    {"key": "weight", "label": "体重", "type": "decimal", "is_user_editable": True},
    {"key": "smoker", "label": "吸烟", "type": "boolean", "is_user_editable": True},
    {"key": "wedding", "label": "纪念日", "type": "date", "is_user_editable": True},
    {
        "key": "size",
        "label": "尺码",
        "type": "enum",
        "options": ["S", "M", "L"],
        "is_user_editable": True,
    },
    {"key": "level", "label": "等级", "type": "integer", "is_user_editable": False},
]


async def declare_keys(app: FastAPI) -> None:
    services = state_of(app)
    async with services.database.unit_of_work() as session:
        for spec in KEYS:
            values = {**spec, "type": ExtendType(spec["type"])}
            await services.extends.create_key(session, ExtendKeyDraft(**values))


async def user_headers(app: FastAPI, http: httpx.AsyncClient) -> tuple[int, dict[str, str]]:
    tokens = await sms_login(app, http, new_phone())
    me = (await http.get("/v1/me", headers=bearer(tokens))).json()
    return int(me["id"]), bearer(tokens)


@contextmanager
def statements(app: FastAPI) -> Iterator[list[str]]:
    """The SQL statements the app's database runs meanwhile."""
    seen: list[str] = []
    engine = state_of(app).database.engine.sync_engine

    def record(conn: Connection, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


class TestValueTypes:
    @pytest.mark.parametrize(
        ("type_", "value", "stored"),
        [
            ("string", "北京大学", "北京大学"),
            ("string", "", ""),
            ("integer", 42, "42"),
            ("integer", -7, "-7"),
            ("decimal", "12.50", "12.50"),
            ("decimal", 12.5, "12.5"),
            ("decimal", 3, "3"),
            ("boolean", True, "true"),
            ("boolean", False, "false"),
            ("date", "2024-02-29", "2024-02-29"),
            ("enum", "M", "M"),
        ],
    )
    def test_accepts_values_of_the_type(self, type_: str, value: object, stored: str) -> None:
        assert canonical(KeyRule(type_, ("S", "M", "L")), value) == stored

    @pytest.mark.parametrize(
        ("type_", "value"),
        [
            ("string", 5),
            ("string", None),
            ("integer", "42"),
            ("integer", 4.2),
            ("integer", True),
            ("integer", 2**63),
            ("decimal", "12,5"),
            ("decimal", "1e5"),
            ("decimal", True),
            ("decimal", "NaN"),
            ("decimal", float("inf")),
            ("boolean", "true"),
            ("boolean", 1),
            ("date", "2023-02-29"),
            ("date", "2024-2-1"),
            ("date", 20240201),
            ("enum", "XL"),
            ("enum", "m"),
        ],
    )
    def test_refuses_values_of_another_type(self, type_: str, value: object) -> None:
        with pytest.raises(ValueRejected):
            canonical(KeyRule(type_, ("S", "M", "L")), value)

    def test_refuses_a_value_longer_than_the_key_allows(self) -> None:
        assert canonical(KeyRule("string", max_length=3), "abc") == "abc"
        with pytest.raises(ValueRejected):
            canonical(KeyRule("string", max_length=3), "abcd")
        with pytest.raises(ValueRejected):
            canonical(KeyRule("integer", max_length=3), 1234)
        with pytest.raises(ValueRejected):
            canonical(KeyRule("string"), "x" * 1025)

    def test_types_stored_values_for_the_api(self) -> None:
        assert typed("integer", "42") == 42
        assert typed("boolean", "false") is False
        assert typed("decimal", "12.50") == "12.50"
        assert typed("date", "2024-02-29") == "2024-02-29"


class TestDeclareKeys:
    async def test_staff_declare_list_change_and_disable_keys(self, app: FastAPI) -> None:
        async with client_for(app) as http:
            _, admin = await make_staff(app, "super_admin")
            staff = await staff_token(http, admin)
            created = await http.post(
                "/v1/admin/profile/extend-keys",
                json={"key": "size", "label": "尺码", "type": "enum", "options": ["S", "M"]},
                headers=staff,
            )
            assert created.status_code == 201, created.text
            assert created.json()["status"] == "active"
            assert created.json()["is_user_editable"] is False
            again = await http.post(
                "/v1/admin/profile/extend-keys",
                json={"key": "size", "label": "尺码", "type": "string"},
                headers=staff,
            )
            assert again.status_code == 409
            assert again.json()["code"] == "extend_key_taken"
            listed = await http.get("/v1/admin/profile/extend-keys", headers=staff)
            assert [k["key"] for k in listed.json()["items"]] == ["size"]
            changed = await http.patch(
                "/v1/admin/profile/extend-keys/size",
                json={"options": ["S", "M", "L"], "is_user_editable": True, "label": "衣码"},
                headers=staff,
            )
            assert changed.status_code == 200, changed.text
            assert changed.json()["options"] == ["S", "M", "L"]
            assert changed.json()["label"] == "衣码"
            assert changed.json()["type"] == "enum"
            disabled = await http.patch(
                "/v1/admin/profile/extend-keys/size", json={"status": "disabled"}, headers=staff
            )
            assert disabled.json()["status"] == "disabled"
            missing = await http.patch(
                "/v1/admin/profile/extend-keys/nothing", json={"label": "x"}, headers=staff
            )
            assert missing.status_code == 404

    @pytest.mark.parametrize(
        "body",
        [
            {"key": "Size", "label": "x", "type": "string"},
            {"key": "size-1", "label": "x", "type": "string"},
            {"key": "size", "label": "x", "type": "colour"},
            {"key": "size", "label": "", "type": "string"},
            {"key": "size", "label": "x", "type": "string", "max_length": 5000},
            {"key": "size", "label": "x", "type": "enum"},
            {"key": "size", "label": "x", "type": "string", "options": ["a"]},
            {"key": "size", "label": "x", "type": "enum", "options": ["a", "a"]},
        ],
    )
    async def test_refuses_a_bad_declaration(self, app: FastAPI, body: dict[str, Any]) -> None:
        async with client_for(app) as http:
            _, admin = await make_staff(app, "super_admin")
            refused = await http.post(
                "/v1/admin/profile/extend-keys", json=body, headers=await staff_token(http, admin)
            )
            assert refused.status_code == 422, refused.text
            assert refused.json()["code"] in {"validation_failed", "extend_options_invalid"}

    async def test_declaring_needs_the_permission(self, app: FastAPI) -> None:
        async with client_for(app) as http:
            _, operator = await make_staff(app, await make_role(app, "user:view"))
            staff = await staff_token(http, operator)
            assert (
                await http.get("/v1/admin/profile/extend-keys", headers=staff)
            ).status_code == 200
            refused = await http.post(
                "/v1/admin/profile/extend-keys",
                json={"key": "level", "label": "等级", "type": "integer"},
                headers=staff,
            )
            assert refused.status_code == 403


class TestUserValues:
    async def test_user_sets_values_and_sees_them_typed_in_me(self, app: FastAPI) -> None:
        await declare_keys(app)
        async with client_for(app) as http:
            user_id, headers = await user_headers(app, http)
            assert (await http.get("/v1/me", headers=headers)).json()["extends"] == {}
            changed = await http.patch(
                "/v1/me/extends",
                json={
                    "school": "北大",
                    "height": 180,
                    "weight": "70.50",
                    "smoker": False,
                    "wedding": "2020-05-20",
                    "size": "L",
                },
                headers=headers,
            )
            assert changed.status_code == 200, changed.text
            expected = {
                "school": "北大",
                "height": 180,
                "weight": "70.50",
                "smoker": False,
                "wedding": "2020-05-20",
                "size": "L",
            }
            assert changed.json()["extends"] == expected
            # The cached view was dropped with the change: GET /v1/me shows the values at once.
            assert (await http.get("/v1/me", headers=headers)).json()["extends"] == expected
            removed = await http.patch(
                "/v1/me/extends", json={"school": None, "height": 181}, headers=headers
            )
            assert removed.status_code == 200
            shown = (await http.get("/v1/me", headers=headers)).json()["extends"]
            assert "school" not in shown
            assert shown["height"] == 181

        async with state_of(app).database.read_session() as session:
            rows = list(
                await session.scalars(select(UserExtend).where(UserExtend.user_id == user_id))
            )
            assert {row.key for row in rows} == set(expected) - {"school"}
            changes = list(
                await session.scalars(
                    select(ProfileChange)
                    .where(ProfileChange.user_id == user_id)
                    .order_by(ProfileChange.id)
                )
            )
            logged = [(c.action, c.attribute, c.old_value, c.new_value, c.actor) for c in changes]
            assert ("set", "extends.height", None, "180", "user") in logged
            assert ("update", "extends.height", "180", "181", "user") in logged
            assert ("remove", "extends.school", "北大", None, "user") in logged
            events = list(
                await session.scalars(
                    select(OutboxEvent).where(OutboxEvent.type == "usercenter.user.profile_changed")
                )
            )
            fields = [e.data["fields"] for e in events if e.data["user_id"] == user_id]
            assert ["extends.height", "extends.school"] in fields

    @pytest.mark.parametrize(
        ("values", "field"),
        [
            ({"height": "180"}, "extends.height"),
            ({"height": 1.5}, "extends.height"),
            ({"weight": "heavy"}, "extends.weight"),
            ({"smoker": "no"}, "extends.smoker"),
            ({"wedding": "2020-13-01"}, "extends.wedding"),
            ({"size": "XXL"}, "extends.size"),
            ({"school": "一所很长很长的大学名字"}, "extends.school"),
        ],
    )
    async def test_refuses_a_value_that_does_not_fit(
        self, app: FastAPI, values: dict[str, Any], field: str
    ) -> None:
        await declare_keys(app)
        async with client_for(app) as http:
            _, headers = await user_headers(app, http)
            refused = await http.patch("/v1/me/extends", json=values, headers=headers)
            assert refused.status_code == 422, refused.text
            assert refused.json()["code"] == "extend_value_invalid"
            assert refused.json()["errors"][0]["field"] == field

    async def test_all_or_nothing(self, app: FastAPI) -> None:
        await declare_keys(app)
        async with client_for(app) as http:
            user_id, headers = await user_headers(app, http)
            refused = await http.patch(
                "/v1/me/extends", json={"height": 170, "size": "XXL"}, headers=headers
            )
            assert refused.status_code == 422
            assert (await http.get("/v1/me", headers=headers)).json()["extends"] == {}
        async with state_of(app).database.read_session() as session:
            assert not list(
                await session.scalars(select(UserExtend).where(UserExtend.user_id == user_id))
            )
            assert not list(
                await session.scalars(
                    select(ProfileChange).where(
                        ProfileChange.user_id == user_id,
                        ProfileChange.attribute.startswith("extends."),
                    )
                )
            )

    async def test_refuses_unknown_disabled_and_staff_only_keys(self, app: FastAPI) -> None:
        await declare_keys(app)
        async with client_for(app) as http:
            _, headers = await user_headers(app, http)
            unknown = await http.patch("/v1/me/extends", json={"colour": "red"}, headers=headers)
            assert unknown.status_code == 422
            assert unknown.json()["code"] == "extend_key_unknown"
            assert unknown.json()["errors"][0]["field"] == "extends.colour"
            staff_only = await http.patch("/v1/me/extends", json={"level": 9}, headers=headers)
            assert staff_only.status_code == 403
            assert staff_only.json()["code"] == "extend_key_not_editable"
            assert staff_only.json()["errors"][0]["field"] == "extends.level"
            _, admin = await make_staff(app, "super_admin")
            staff = await staff_token(http, admin)
            await http.patch(
                "/v1/admin/profile/extend-keys/size", json={"status": "disabled"}, headers=staff
            )
            disabled = await http.patch("/v1/me/extends", json={"size": "S"}, headers=headers)
            assert disabled.json()["code"] == "extend_key_unknown"
            # What a client may show: the active keys, each saying whether the user may edit it.
            shown = (await http.get("/v1/me/extend-keys", headers=headers)).json()["items"]
            assert {k["key"]: k["is_user_editable"] for k in shown} == {
                spec["key"]: spec["is_user_editable"] for spec in KEYS if spec["key"] != "size"
            }
            assert (await http.get("/v1/me/extend-keys")).status_code == 401

    async def test_staff_set_any_key_logged_and_a_disabled_key_is_hidden(
        self, app: FastAPI
    ) -> None:
        await declare_keys(app)
        async with client_for(app) as http:
            user_id, headers = await user_headers(app, http)
            await http.patch("/v1/me/extends", json={"size": "M"}, headers=headers)
            assert (await http.get("/v1/me", headers=headers)).json()["extends"] == {"size": "M"}
            staff_id, admin = await make_staff(app, "super_admin")
            staff = await staff_token(http, admin)
            put = await http.put(
                f"/v1/admin/users/{user_id}/extends", json={"level": 3}, headers=staff
            )
            assert put.status_code == 200, put.text
            assert put.json()["extends"] == {"size": "M", "level": 3}
            assert (await http.get("/v1/me", headers=headers)).json()["extends"]["level"] == 3
            bad = await http.put(
                f"/v1/admin/users/{user_id}/extends", json={"level": "high"}, headers=staff
            )
            assert bad.status_code == 422
            assert bad.json()["errors"][0]["field"] == "extends.level"
            # Disabling a key hides its values from the cached view at once.
            await http.patch(
                "/v1/admin/profile/extend-keys/size", json={"status": "disabled"}, headers=staff
            )
            assert (await http.get("/v1/me", headers=headers)).json()["extends"] == {"level": 3}
            read = await http.get(f"/v1/admin/users/{user_id}/extends", headers=staff)
            assert read.json()["extends"] == {"level": 3}
            _, viewer = await make_staff(app, await make_role(app, "user:view"))
            refused = await http.put(
                f"/v1/admin/users/{user_id}/extends",
                json={"level": 4},
                headers=await staff_token(http, viewer),
            )
            assert refused.status_code == 403
        async with state_of(app).database.read_session() as session:
            change = await session.scalar(
                select(ProfileChange).where(
                    ProfileChange.user_id == user_id, ProfileChange.attribute == "extends.level"
                )
            )
            assert change is not None
            assert (change.actor, change.actor_id, change.new_value) == (
                "staff",
                str(staff_id),
                "3",
            )
            logged = await session.scalar(
                select(AdminLog).where(
                    AdminLog.staff_id == staff_id,
                    AdminLog.method == "PUT",
                    AdminLog.target_id == str(user_id),
                    AdminLog.result == "ok",
                )
            )
            assert logged is not None


class TestCachedView:
    async def test_me_is_served_from_the_cache_without_a_query(self, app: FastAPI) -> None:
        await declare_keys(app)
        async with client_for(app) as http:
            _, headers = await user_headers(app, http)
            await http.patch("/v1/me/extends", json={"height": 175}, headers=headers)
            first = await http.get("/v1/me", headers=headers)
            assert first.json()["extends"] == {"height": 175}
            with statements(app) as seen:
                again = await http.get("/v1/me", headers=headers)
            assert again.json()["extends"] == {"height": 175}
            assert seen == []


class TestLimitsAndRaces:
    async def test_too_many_keys_in_one_call_and_nulls_for_required_fields(
        self, app: FastAPI
    ) -> None:
        await declare_keys(app)
        async with client_for(app) as http:
            _, headers = await user_headers(app, http)
            many = {f"k{n}": n for n in range(101)}
            refused = await http.patch("/v1/me/extends", json=many, headers=headers)
            assert refused.status_code == 422
            _, admin = await make_staff(app, "super_admin")
            staff = await staff_token(http, admin)
            # A null for a field that cannot be empty changes nothing (never a 500).
            kept = await http.patch(
                "/v1/admin/profile/extend-keys/height",
                json={"label": None, "status": None, "max_length": 3},
                headers=staff,
            )
            assert kept.status_code == 200, kept.text
            assert (kept.json()["label"], kept.json()["status"]) == ("身高", "active")
            assert kept.json()["max_length"] == 3
            too_long = await http.patch("/v1/me/extends", json={"height": 1800}, headers=headers)
            assert too_long.json()["code"] == "extend_value_invalid"

    async def test_parallel_first_values_of_one_key_all_land_once(self, app: FastAPI) -> None:
        await declare_keys(app)
        async with client_for(app) as http:
            user_id, headers = await user_headers(app, http)
            answers = await asyncio.gather(
                *(
                    http.patch("/v1/me/extends", json={"height": 170 + n}, headers=headers)
                    for n in range(8)
                )
            )
            assert [a.status_code for a in answers] == [200] * 8
            final = (await http.get("/v1/me", headers=headers)).json()["extends"]["height"]
            assert final in range(170, 178)
        async with state_of(app).database.read_session() as session:
            rows = list(
                await session.scalars(select(UserExtend).where(UserExtend.user_id == user_id))
            )
            assert [(r.key, r.value) for r in rows] == [("height", str(final))]
            logged = list(
                await session.scalars(
                    select(ProfileChange)
                    .where(
                        ProfileChange.user_id == user_id,
                        ProfileChange.attribute == "extends.height",
                    )
                    .order_by(ProfileChange.id)
                )
            )
            # Each change starts from the value the one before it left: an unbroken chain.
            assert logged[0].old_value is None
            for before, after in pairwise(logged):
                assert after.old_value == before.new_value
            assert logged[-1].new_value == str(final)
