"""Client apps through the staff routes: listed without secrets, added and edited by staff,
seen by the next login at once; apps of USERCENTER_CLIENT_APPS rewritten at every start and
read-only in the console, released to it when taken out of the variable."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import log_output
from tests.platform.conftest import (
    AppFactory,
    admin_headers,
    admin_log,
    client_for,
    problem,
    staff_holding,
    state_of,
)
from tests.providers.conftest import stubs
from usercenter.providers.base import AppCredentials, AppType
from usercenter.providers.stubs import ALIPAY_APP_ID, WECHAT_MINIAPP_ID, RunningStubs

__all__ = ["stubs"]

URL = "/v1/admin/client-apps"
SECRET = "console-secret-5f1e0c"
PRIVATE = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"


def setting(app: AppCredentials, **more: Any) -> dict[str, Any]:
    """`app` as an entry of USERCENTER_CLIENT_APPS."""
    return {
        "app_type": app.app_type.value,
        "app_id": app.app_id,
        "secret": app.secret,
        "extra": app.extra,
        **more,
    }


def miniapp(stubs: RunningStubs) -> AppCredentials:
    return stubs.wechat.credentials(WECHAT_MINIAPP_ID, stubs.urls["wechat"])


def alipay(stubs: RunningStubs) -> AppCredentials:
    return stubs.alipay.credentials(ALIPAY_APP_ID, stubs.urls["alipay"])


async def miniapp_login(http: httpx.AsyncClient, stubs: RunningStubs, who: str) -> httpx.Response:
    code = stubs.wechat.code_for(WECHAT_MINIAPP_ID, who)
    return await http.post(
        "/v1/auth/wechat/miniapp", json={"code": code, "app_id": WECHAT_MINIAPP_ID}
    )


@pytest.fixture
async def app(make_app: AppFactory, stubs: RunningStubs) -> FastAPI:
    """The service with the stubs' Alipay app configured (its settings hold a private key)."""
    return await make_app(client_apps=[setting(alipay(stubs))])


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        yield client


@pytest.fixture
async def admin(app: FastAPI, http: httpx.AsyncClient) -> dict[str, str]:
    _, headers = await admin_headers(app, http)
    return headers


async def create(http: httpx.AsyncClient, headers: dict[str, str], **values: Any) -> httpx.Response:
    body = {
        "app_type": "wechat_official",
        "app_id": "wx_console_official",
        "name": "公众号",
        "secret": SECRET,
        "extra": {"scope": "snsapi_userinfo", "mch_key": "mch-key-123", "private_key": PRIVATE},
        **values,
    }
    return await http.post(URL, json=body, headers=headers)


class TestList:
    async def test_shows_apps_without_their_secrets(
        self, http: httpx.AsyncClient, admin: dict[str, str], stubs: RunningStubs
    ) -> None:
        response = await http.get(URL, headers=admin)
        assert response.status_code == 200, response.text
        (app,) = [a for a in response.json() if a["app_id"] == ALIPAY_APP_ID]
        assert app["app_type"] == "alipay"
        assert app["secret_set"] is bool(alipay(stubs).secret)  # Alipay signs with a key
        assert app["managed_by"] == "config"
        configured = alipay(stubs).extra
        assert app["extra"]["private_key"] == "******"
        assert set(app["extra"]) == set(configured)
        assert "secret" not in app
        assert configured["private_key"] not in response.text
        if alipay(stubs).secret:
            assert alipay(stubs).secret not in response.text


class TestCreate:
    async def test_adds_an_app_a_login_uses_at_once(
        self,
        app: FastAPI,
        http: httpx.AsyncClient,
        admin: dict[str, str],
        stubs: RunningStubs,
    ) -> None:
        # Asked once before: the app is not there, and the answer would be cached.
        refused = await miniapp_login(http, stubs, "p-before")
        problem(refused, 404, "client_app_not_found")
        credentials = miniapp(stubs)
        response = await http.post(
            URL,
            json={
                "app_type": "wechat_miniapp",
                "app_id": credentials.app_id,
                "name": "小程序",
                "secret": credentials.secret,
                "extra": credentials.extra,
            },
            headers=admin,
        )
        assert response.status_code == 201, response.text
        created = response.json()
        assert (created["secret_set"], created["managed_by"]) == (True, "console")
        assert credentials.secret not in response.text
        login = await miniapp_login(http, stubs, "p-after")
        assert login.status_code == 200, login.text
        rows = await admin_log(app, target_type="client_app", target_id=created["id"])
        assert [(r.action, r.result) for r in rows] == [("client_app.create_client_app", "ok")]

    async def test_secrets_never_reach_an_answer_the_log_or_the_admin_log(
        self, app: FastAPI, http: httpx.AsyncClient, admin: dict[str, str]
    ) -> None:
        with log_output(level=logging.DEBUG, json_lines=True) as logged:
            created = await create(http, admin)
            taken = await create(http, admin)
            row_id = created.json()["id"]
            patched = await http.patch(
                f"{URL}/{row_id}",
                json={"secret": SECRET + "-new", "extra": {"api_key": "api-key-777"}},
                headers=admin,
            )
            listed = await http.get(URL, headers=admin)
        assert created.status_code == 201, created.text
        problem(taken, 409, "client_app_taken", "app_id")
        assert patched.status_code == 200, patched.text
        assert patched.json()["extra"] == {
            "scope": "snsapi_userinfo",
            "mch_key": "******",
            "private_key": "******",
            "api_key": "******",
        }
        secrets = [SECRET, "mch-key-123", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "api-key-777"]
        rows = await admin_log(app, module="client_app")
        assert [r.result for r in rows] == ["ok", "client_app_taken", "ok", "ok"]
        logs = [row.request or "" for row in rows]
        for text in [created.text, taken.text, patched.text, listed.text, logged.getvalue(), *logs]:
            for secret in secrets:
                assert secret not in text

    @pytest.mark.parametrize(
        ("values", "field"),
        [
            ({"app_type": "wechat_pay"}, "app_type"),
            ({"app_id": "has space"}, "app_id"),
            ({"app_id": ""}, "app_id"),
            ({"name": "n" * 101}, "name"),
            ({"extra": ["not", "an", "object"]}, "extra"),
            ({"is_active": "maybe"}, "is_active"),
        ],
    )
    async def test_names_the_field_at_fault(
        self, http: httpx.AsyncClient, admin: dict[str, str], values: dict[str, Any], field: str
    ) -> None:
        response = await create(http, admin, **values)
        assert response.status_code == 422, response.text
        assert field in [e["field"] for e in response.json()["errors"]]
        assert SECRET not in response.text


class TestUpdate:
    async def test_a_new_secret_and_switching_off_reach_the_next_login(
        self,
        app: FastAPI,
        http: httpx.AsyncClient,
        admin: dict[str, str],
        stubs: RunningStubs,
    ) -> None:
        credentials = miniapp(stubs)
        response = await create(
            http,
            admin,
            app_type="wechat_miniapp",
            app_id=credentials.app_id,
            secret=credentials.secret,
            extra=credentials.extra,
        )
        row_id = response.json()["id"]
        assert (await miniapp_login(http, stubs, "p-1")).status_code == 200
        wrong = await http.patch(f"{URL}/{row_id}", json={"secret": "wrong"}, headers=admin)
        assert wrong.status_code == 200, wrong.text
        assert (await miniapp_login(http, stubs, "p-2")).status_code != 200
        await http.patch(f"{URL}/{row_id}", json={"secret": credentials.secret}, headers=admin)
        assert (await miniapp_login(http, stubs, "p-3")).status_code == 200
        off = await http.patch(f"{URL}/{row_id}", json={"is_active": False}, headers=admin)
        assert off.json()["is_active"] is False
        problem(await miniapp_login(http, stubs, "p-4"), 404, "client_app_not_found")
        rows = await admin_log(app, action="client_app.update_client_app", target_id=row_id)
        assert [r.result for r in rows] == ["ok", "ok", "ok"]

    async def test_extra_is_merged_key_by_key_and_the_mask_keeps_a_value(
        self, app: FastAPI, http: httpx.AsyncClient, admin: dict[str, str]
    ) -> None:
        row_id = (await create(http, admin)).json()["id"]
        shown = (await http.get(URL, headers=admin)).json()
        (before,) = [a for a in shown if a["id"] == row_id]
        # The console sends back what it showed, with one value changed and one removed.
        extra = {**before["extra"], "scope": "snsapi_base", "mch_key": None}
        response = await http.patch(
            f"{URL}/{row_id}", json={"extra": extra, "name": "新名字"}, headers=admin
        )
        assert response.status_code == 200, response.text
        assert response.json()["extra"] == {"scope": "snsapi_base", "private_key": "******"}
        assert response.json()["name"] == "新名字"
        stored = await state_of(app).client_apps.get(AppType.WECHAT_OFFICIAL, "wx_console_official")
        assert stored.extra == {"scope": "snsapi_base", "private_key": PRIVATE}
        assert stored.secret == SECRET

    async def test_unknown_app_is_404(self, http: httpx.AsyncClient, admin: dict[str, str]) -> None:
        response = await http.patch(f"{URL}/987654", json={"name": "x"}, headers=admin)
        problem(response, 404, "client_app_not_found")

    async def test_an_empty_secret_is_refused(
        self, http: httpx.AsyncClient, admin: dict[str, str]
    ) -> None:
        row_id = (await create(http, admin)).json()["id"]
        response = await http.patch(f"{URL}/{row_id}", json={"secret": ""}, headers=admin)
        assert response.status_code == 422
        assert "secret" in [e["field"] for e in response.json()["errors"]]


class TestConfiguredApps:
    async def test_configuration_wins_and_the_console_edit_is_never_reverted(
        self, make_app: AppFactory, stubs: RunningStubs
    ) -> None:
        configured = setting(alipay(stubs), name="来自配置")
        first = await make_app(client_apps=[configured])
        async with client_for(first) as http:
            _, admin = await admin_headers(first, http)
            apps = {a["app_id"]: a for a in (await http.get(URL, headers=admin)).json()}
            refused = await http.patch(
                f"{URL}/{apps[ALIPAY_APP_ID]['id']}", json={"name": "后台改名"}, headers=admin
            )
            problem(refused, 409, "client_app_managed_by_config")
            console_id = (await create(http, admin)).json()["id"]
            await http.patch(f"{URL}/{console_id}", json={"name": "后台改名"}, headers=admin)

        # Another start with the app renamed in the variable: it wins for its app; the
        # console's app keeps the console's edit.
        second = await make_app(client_apps=[{**configured, "name": "配置改名"}])
        async with client_for(second) as http:
            _, admin = await admin_headers(second, http)
            apps = {a["app_id"]: a for a in (await http.get(URL, headers=admin)).json()}
            assert apps[ALIPAY_APP_ID]["name"] == "配置改名"
            assert apps["wx_console_official"]["name"] == "后台改名"
            assert apps["wx_console_official"]["managed_by"] == "console"

        # Taken out of the variable, the app is the console's, with its last values.
        third = await make_app(client_apps=[])
        async with client_for(third) as http:
            _, admin = await admin_headers(third, http)
            apps = {a["app_id"]: a for a in (await http.get(URL, headers=admin)).json()}
            released = apps[ALIPAY_APP_ID]
            assert (released["managed_by"], released["name"]) == ("console", "配置改名")
            renamed = await http.patch(
                f"{URL}/{released['id']}", json={"name": "后台接管"}, headers=admin
            )
            assert renamed.status_code == 200, renamed.text
            assert renamed.json()["extra"]["private_key"] == "******"


class TestTwoProcesses:
    async def test_an_edit_in_one_process_reaches_the_other(
        self, make_app: AppFactory, app: FastAPI, http: httpx.AsyncClient, admin: dict[str, str]
    ) -> None:
        if state_of(app).settings.redis_url is None:
            pytest.skip("without Redis another process sees the change within 30 s (its cache)")
        other = await make_app(client_apps=[])
        row_id = (await create(http, admin)).json()["id"]
        seen = await state_of(other).client_apps.get(AppType.WECHAT_OFFICIAL, "wx_console_official")
        assert seen.secret == SECRET
        await http.patch(f"{URL}/{row_id}", json={"secret": "rotated"}, headers=admin)
        for _ in range(200):  # the message arrives in milliseconds
            fresh = await state_of(other).client_apps.get(
                AppType.WECHAT_OFFICIAL, "wx_console_official"
            )
            if fresh.secret == "rotated":
                break
            await asyncio.sleep(0.01)
        assert fresh.secret == "rotated"


class TestPermission:
    async def test_every_route_needs_client_app_manage(
        self, app: FastAPI, http: httpx.AsyncClient, admin: dict[str, str]
    ) -> None:
        row_id = (await create(http, admin)).json()["id"]
        other = await staff_holding(app, http, "dict:manage", "config:manage")
        calls = [
            ("GET", URL, None),
            ("POST", URL, {"app_type": "qq", "app_id": "1", "secret": SECRET}),
            ("PATCH", f"{URL}/{row_id}", {"secret": SECRET}),
        ]
        for method, url, body in calls:
            response = await http.request(method, url, json=body, headers=other)
            problem(response, 403, "permission_denied")
        denied = await admin_log(app, module="client_app", result="denied")
        assert len(denied) == len(calls)
        assert all(SECRET not in (row.request or "") for row in denied)
        allowed = await staff_holding(app, http, "client_app:manage")
        assert (await http.get(URL, headers=allowed)).status_code == 200
