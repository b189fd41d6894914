"""The system dictionary through the staff routes: list by type in pages, types with counts,
add, change, delete; codes unique per type; every write in the admin log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.platform.conftest import (
    AppFactory,
    admin_headers,
    admin_log,
    client_for,
    problem,
    staff_holding,
)

URL = "/v1/admin/dictionaries"


@pytest.fixture
async def app(make_app: AppFactory) -> FastAPI:
    return await make_app()


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        yield client


@pytest.fixture
async def admin(app: FastAPI, http: httpx.AsyncClient) -> dict[str, str]:
    _, headers = await admin_headers(app, http)
    return headers


async def add(http: httpx.AsyncClient, headers: dict[str, str], **values: Any) -> dict[str, Any]:
    body = {"dict_type": "FAULT_TYPE", "dict_code": "GD", "dict_name": "广东省", **values}
    response = await http.post(URL, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


class TestCreate:
    async def test_adds_an_entry_and_logs_it(
        self, app: FastAPI, http: httpx.AsyncClient, admin: dict[str, str]
    ) -> None:
        entry = await add(
            http, admin, extra_data={"region": "华南", "pinyin": "guangdong"}, sort_order=3
        )
        assert entry["dict_code"] == "GD"
        assert entry["extra_data"] == {"region": "华南", "pinyin": "guangdong"}
        assert entry["is_active"] is True
        rows = await admin_log(app, target_type="dict", target_id=entry["id"])
        assert [(r.action, r.result) for r in rows] == [("dict.create_dictionary", "ok")]

    async def test_refuses_a_code_the_type_has(
        self, app: FastAPI, http: httpx.AsyncClient, admin: dict[str, str]
    ) -> None:
        await add(http, admin)
        again = await http.post(
            URL,
            json={"dict_type": "FAULT_TYPE", "dict_code": "GD", "dict_name": "又一个"},
            headers=admin,
        )
        problem(again, 409, "dict_code_taken", "dict_code")
        # The same code in another type is another entry.
        await add(http, admin, dict_type="BANK_LIST")
        refused = await admin_log(app, action="dict.create_dictionary", result="dict_code_taken")
        assert len(refused) == 1

    @pytest.mark.parametrize(
        ("values", "field"),
        [
            ({"dict_type": "province code"}, "dict_type"),
            ({"dict_code": "G D"}, "dict_code"),
            ({"dict_code": ""}, "dict_code"),
            ({"dict_name": ""}, "dict_name"),
            ({"sort_order": 2**31}, "sort_order"),
            ({"parent_id": 0}, "parent_id"),
        ],
    )
    async def test_names_the_field_at_fault(
        self, http: httpx.AsyncClient, admin: dict[str, str], values: dict[str, Any], field: str
    ) -> None:
        body = {"dict_type": "FAULT_TYPE", "dict_code": "GD", "dict_name": "广东省", **values}
        response = await http.post(URL, json=body, headers=admin)
        assert response.status_code == 422, response.text
        assert field in [e["field"] for e in response.json()["errors"]]

    async def test_refuses_a_parent_that_does_not_exist(
        self, http: httpx.AsyncClient, admin: dict[str, str]
    ) -> None:
        response = await http.post(
            URL,
            json={"dict_type": "CITY", "dict_code": "GZ", "dict_name": "广州", "parent_id": 999999},
            headers=admin,
        )
        problem(response, 422, "dict_parent_not_found", "parent_id")


class TestList:
    async def test_pages_through_one_type_newest_first(
        self, http: httpx.AsyncClient, admin: dict[str, str]
    ) -> None:
        codes = ["GD", "GX", "HN", "BJ", "SH"]
        for code in codes:
            await add(http, admin, dict_code=code)
        await add(http, admin, dict_type="BANK_LIST", dict_code="ICBC", dict_name="工商银行")
        seen: list[str] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"dict_type": "FAULT_TYPE", "limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = (await http.get(URL, params=params, headers=admin)).json()
            seen += [item["dict_code"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == list(reversed(codes))

    async def test_counts_entries_per_type(
        self, http: httpx.AsyncClient, admin: dict[str, str]
    ) -> None:
        await add(http, admin, dict_code="GD")
        await add(http, admin, dict_code="GX", is_active=False)
        await add(http, admin, dict_type="BANK_LIST", dict_code="ICBC", dict_name="工商银行")
        response = await http.get(f"{URL}/types", headers=admin)
        assert response.status_code == 200, response.text
        counts = {t["dict_type"]: (t["entries"], t["active_entries"]) for t in response.json()}
        assert counts["FAULT_TYPE"] == (2, 1)
        assert counts["BANK_LIST"] == (1, 1)
        # The provinces seeded by the first migration (the display uid's prefixes) are there.
        assert counts["PROVINCE_CODE"][0] >= 31

    async def test_refuses_a_bad_cursor_and_type(
        self, http: httpx.AsyncClient, admin: dict[str, str]
    ) -> None:
        bad_cursor = await http.get(URL, params={"cursor": "nonsense"}, headers=admin)
        problem(bad_cursor, 422, "validation_failed", "cursor")
        bad_type = await http.get(URL, params={"dict_type": "lower"}, headers=admin)
        assert bad_type.status_code == 422
        assert "dict_type" in [e["field"] for e in bad_type.json()["errors"]]


class TestUpdate:
    async def test_changes_what_is_sent_and_logs_it(
        self, app: FastAPI, http: httpx.AsyncClient, admin: dict[str, str]
    ) -> None:
        entry = await add(http, admin, remark="keep")
        response = await http.patch(
            f"{URL}/{entry['id']}", json={"dict_name": "广东", "is_active": False}, headers=admin
        )
        assert response.status_code == 200, response.text
        changed = response.json()
        assert (changed["dict_name"], changed["is_active"], changed["remark"]) == (
            "广东",
            False,
            "keep",
        )
        rows = await admin_log(app, action="dict.update_dictionary", target_id=entry["id"])
        assert [r.result for r in rows] == ["ok"]

    async def test_never_changes_the_type_or_code(
        self, http: httpx.AsyncClient, admin: dict[str, str]
    ) -> None:
        entry = await add(http, admin)
        response = await http.patch(f"{URL}/{entry['id']}", json={"dict_code": "X"}, headers=admin)
        assert response.status_code == 422
        assert "dict_code" in [e["field"] for e in response.json()["errors"]]

    async def test_refuses_to_clear_a_required_field(
        self, http: httpx.AsyncClient, admin: dict[str, str]
    ) -> None:
        entry = await add(http, admin)
        response = await http.patch(f"{URL}/{entry['id']}", json={"dict_name": None}, headers=admin)
        problem(response, 422, "validation_failed", "dict_name")

    async def test_refuses_a_parent_below_the_entry(
        self, http: httpx.AsyncClient, admin: dict[str, str]
    ) -> None:
        top = await add(http, admin, dict_type="REGION", dict_code="SOUTH", dict_name="华南")
        child = await add(http, admin, dict_code="GD", parent_id=int(top["id"]))
        response = await http.patch(
            f"{URL}/{top['id']}", json={"parent_id": int(child["id"])}, headers=admin
        )
        problem(response, 422, "dict_parent_cycle", "parent_id")
        itself = await http.patch(
            f"{URL}/{top['id']}", json={"parent_id": int(top["id"])}, headers=admin
        )
        problem(itself, 422, "dict_parent_cycle", "parent_id")

    async def test_unknown_entry_is_404(
        self, http: httpx.AsyncClient, admin: dict[str, str]
    ) -> None:
        response = await http.patch(f"{URL}/987654", json={"dict_name": "x"}, headers=admin)
        problem(response, 404, "dict_not_found")


class TestDelete:
    async def test_deletes_a_leaf_and_logs_it(
        self, app: FastAPI, http: httpx.AsyncClient, admin: dict[str, str]
    ) -> None:
        entry = await add(http, admin)
        response = await http.delete(f"{URL}/{entry['id']}", headers=admin)
        assert response.status_code == 204, response.text
        listed = (await http.get(URL, headers=admin)).json()["items"]
        assert entry["id"] not in [item["id"] for item in listed]
        rows = await admin_log(app, action="dict.delete_dictionary", target_id=entry["id"])
        assert [r.result for r in rows] == ["ok"]
        again = await http.delete(f"{URL}/{entry['id']}", headers=admin)
        problem(again, 404, "dict_not_found")

    async def test_refuses_an_entry_with_children(
        self, http: httpx.AsyncClient, admin: dict[str, str]
    ) -> None:
        top = await add(http, admin, dict_type="REGION", dict_code="SOUTH", dict_name="华南")
        await add(http, admin, dict_code="GD", parent_id=int(top["id"]))
        response = await http.delete(f"{URL}/{top['id']}", headers=admin)
        problem(response, 409, "dict_has_children")


class TestPermission:
    async def test_every_route_needs_dict_manage(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        _, admin = await admin_headers(app, http)
        entry = await add(http, admin)
        other = await staff_holding(app, http, "config:manage", "client_app:manage")
        calls = [
            ("GET", URL, None),
            ("GET", f"{URL}/types", None),
            ("POST", URL, {"dict_type": "A", "dict_code": "B", "dict_name": "C"}),
            ("PATCH", f"{URL}/{entry['id']}", {"dict_name": "x"}),
            ("DELETE", f"{URL}/{entry['id']}", None),
        ]
        for method, url, body in calls:
            response = await http.request(method, url, json=body, headers=other)
            problem(response, 403, "permission_denied")
        assert len(await admin_log(app, module="dict", result="denied")) == len(calls)
        allowed = await staff_holding(app, http, "dict:manage")
        assert (await http.get(URL, headers=allowed)).status_code == 200
