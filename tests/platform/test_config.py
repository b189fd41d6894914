"""Configuration entries through the staff routes: every entry listed with its group and type,
a value set only as its type allows, read-only entries kept, other modules reading the new
value at once (`SystemConfig.get`), every change in the admin log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import insert

from tests.platform.conftest import (
    AppFactory,
    admin_headers,
    admin_log,
    client_for,
    problem,
    staff_holding,
    state_of,
)
from usercenter.kit import clock
from usercenter.platform.models import SysConfig

URL = "/v1/admin/config"


@pytest.fixture
async def app(make_app: AppFactory) -> FastAPI:
    return await make_app()


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        yield client


async def add_entry(app: FastAPI, key: str, value: str, value_type: str, **more: Any) -> None:
    """An entry as a migration would add it."""
    async with state_of(app).database.unit_of_work() as session:
        await session.execute(
            insert(SysConfig).values(
                config_group="TEST",
                config_key=key,
                config_value=value,
                value_type=value_type,
                description=None,
                is_public=False,
                is_editable=more.get("is_editable", True),
                created_at=clock.now(),
                updated_at=clock.now(),
            )
        )


class TestList:
    async def test_lists_the_seeded_entries_with_group_and_type(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        _, admin = await admin_headers(app, http)
        response = await http.get(URL, headers=admin)
        assert response.status_code == 200, response.text
        entries = {e["key"]: e for e in response.json()}
        assert entries["site_name"]["group"] == "BASIC"
        assert entries["site_name"]["value"] == "用户中心"
        assert entries["site_name"]["value_type"] == "string"
        assert entries["registration_notice"]["is_public"] is True
        assert all(e["is_editable"] for e in entries.values())


class TestSet:
    async def test_sets_a_string_seen_by_other_modules_and_logged(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        staff_id, admin = await admin_headers(app, http)
        config = state_of(app).system_config
        assert await config.get("registration_notice") == ""  # read once: now cached
        response = await http.put(
            f"{URL}/registration_notice", json={"value": "注册即同意用户协议"}, headers=admin
        )
        assert response.status_code == 200, response.text
        assert response.json()["value"] == "注册即同意用户协议"
        assert response.json()["updated_by"] == str(staff_id)
        assert await config.get("registration_notice") == "注册即同意用户协议"
        assert await config.get("no_such_key", "fallback") == "fallback"
        rows = await admin_log(app, target_type="config", target_id="registration_notice")
        assert [(r.action, r.result, r.staff_id) for r in rows] == [
            ("config.set_config", "ok", staff_id)
        ]

    @pytest.mark.parametrize(
        ("value_type", "stored", "good", "bad"),
        [
            ("int", "5", 12, ["12", 1.5, True, 2**63]),
            ("bool", "false", True, ["true", 1, None]),
            ("json", "{}", {"a": [1, "二", None]}, []),
            ("string", "", "文字", [3, None, {"a": 1}]),
        ],
    )
    async def test_a_value_must_match_the_type(
        self,
        app: FastAPI,
        http: httpx.AsyncClient,
        value_type: str,
        stored: str,
        good: Any,
        bad: list[Any],
    ) -> None:
        _, admin = await admin_headers(app, http)
        key = f"sample_{value_type}"
        await add_entry(app, key, stored, value_type)
        for value in bad:
            response = await http.put(f"{URL}/{key}", json={"value": value}, headers=admin)
            problem(response, 422, "config_value_invalid", "value")
        response = await http.put(f"{URL}/{key}", json={"value": good}, headers=admin)
        assert response.status_code == 200, response.text
        assert response.json()["value"] == good
        assert await state_of(app).system_config.get(key) == good
        listed = {e["key"]: e["value"] for e in (await http.get(URL, headers=admin)).json()}
        assert listed[key] == good

    async def test_refuses_a_value_too_long_for_the_column(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        _, admin = await admin_headers(app, http)
        response = await http.put(f"{URL}/site_name", json={"value": "长" * 20_001}, headers=admin)
        problem(response, 422, "config_value_too_long", "value")

    async def test_a_missing_value_names_the_field(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        _, admin = await admin_headers(app, http)
        response = await http.put(f"{URL}/site_name", json={}, headers=admin)
        assert response.status_code == 422
        assert "value" in [e["field"] for e in response.json()["errors"]]

    async def test_unknown_key_is_404(self, app: FastAPI, http: httpx.AsyncClient) -> None:
        _, admin = await admin_headers(app, http)
        response = await http.put(f"{URL}/no_such_key", json={"value": "x"}, headers=admin)
        problem(response, 404, "config_not_found", "key")
        rows = await admin_log(app, target_id="no_such_key")
        assert [r.result for r in rows] == ["config_not_found"]

    async def test_a_read_only_entry_keeps_its_value(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        _, admin = await admin_headers(app, http)
        await add_entry(app, "fixed", "1", "int", is_editable=False)
        response = await http.put(f"{URL}/fixed", json={"value": 2}, headers=admin)
        problem(response, 409, "config_read_only", "key")
        assert await state_of(app).system_config.get("fixed") == 1


class TestPermission:
    async def test_both_routes_need_config_manage(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        other = await staff_holding(app, http, "dict:manage", "client_app:manage")
        for method, body in [("GET", None), ("PUT", {"value": "x"})]:
            url = URL if method == "GET" else f"{URL}/site_name"
            response = await http.request(method, url, json=body, headers=other)
            problem(response, 403, "permission_denied")
        allowed = await staff_holding(app, http, "config:manage")
        assert (await http.get(URL, headers=allowed)).status_code == 200
        assert await state_of(app).system_config.get("site_name") == "用户中心"
