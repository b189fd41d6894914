"""Devices and clients (seed 001 user_extra): the latest client per user and platform, from
the device headers at login and refresh, and from the client for its push token."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from tests.conftest import MovableClock
from tests.factories.access import make_role, make_staff, staff_token
from tests.identity.conftest import bearer, new_phone, sms_login
from usercenter.db import Database
from usercenter.profile.models import UserDevice

PHONE_HEADERS = {
    "X-Device-Id": "device-0001-abcdef",
    "X-Device-Vendor": "huawei",
    "X-Device-Name": "Mate 60",
    "X-OS": "android",
    "X-OS-Version": "14",
    "X-Client-Name": "shop-app",
    "X-Client-Version": "7.0.1",
    "X-Client-Channel": "huawei_appgallery",
}


async def devices_of(db: Database, user_id: int) -> list[UserDevice]:
    async with db.read_session() as session:
        return list(await session.scalars(select(UserDevice).where(UserDevice.user_id == user_id)))


async def refresh(
    http: httpx.AsyncClient, tokens: dict[str, Any], headers: dict[str, str]
) -> dict[str, Any]:
    response = await http.post(
        "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}, headers=headers
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


class TestFromHeaders:
    async def test_a_login_records_the_client_it_came_from(
        self, app: FastAPI, http: httpx.AsyncClient, db: Database
    ) -> None:
        http.headers.update(PHONE_HEADERS)
        tokens = await sms_login(app, http, new_phone())
        listed = await http.get("/v1/me/devices", headers=bearer(tokens))
        assert listed.status_code == 200
        [device] = listed.json()["items"]
        assert device == {
            **device,
            "platform": "APP",
            "device_id": "device-0001-abcdef",
            "vendor": "huawei",
            "model": "Mate 60",
            "os_name": "android",
            "os_version": "14",
            "client_name": "shop-app",
            "client_version": "7.0.1",
            "channel": "huawei_appgallery",
            "push_token": None,
        }

    async def test_a_refresh_writes_only_what_changed_since_the_login(
        self, app: FastAPI, http: httpx.AsyncClient, db: Database, moved_clock: MovableClock
    ) -> None:
        other = int((await sms_login(app, http, new_phone()))["user"]["id"])
        http.headers.update(PHONE_HEADERS)
        mine = await sms_login(app, http, new_phone())
        me = int(mine["user"]["id"])
        [at_login] = await devices_of(db, me)
        moved_clock.advance(60)
        same = await refresh(http, mine, PHONE_HEADERS)
        [after_same] = await devices_of(db, me)
        moved_clock.advance(60)
        upgraded = await refresh(http, same, {**PHONE_HEADERS, "X-Client-Version": "7.1.0"})
        [after_upgrade] = await devices_of(db, me)
        await refresh(http, upgraded, {})  # no headers: nothing is forgotten
        [after_bare] = await devices_of(db, me)
        assert after_same.updated_at == at_login.updated_at
        assert after_upgrade.client_version == "7.1.0"
        assert after_upgrade.updated_at > at_login.updated_at
        assert after_bare.client_version == "7.1.0"
        assert after_bare.vendor == "huawei"
        [others] = await devices_of(db, other)  # another user's row, left alone
        assert others.vendor is None

    async def test_each_platform_keeps_its_own_latest_client(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        phone = new_phone()
        await sms_login(app, http, phone, platform="MINIAPP")
        tokens = await sms_login(app, http, phone, platform="APP")
        http.headers.update({"X-Client-Version": "8.0.0"})
        tokens = await sms_login(app, http, phone, platform="APP")
        listed = (await http.get("/v1/me/devices", headers=bearer(tokens))).json()["items"]
        assert sorted(d["platform"] for d in listed) == ["APP", "MINIAPP"]
        assert next(d for d in listed if d["platform"] == "APP")["client_version"] == "8.0.0"


class TestPushToken:
    async def test_the_client_sets_and_forgets_its_push_token(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        tokens = await sms_login(app, http, new_phone())
        put = await http.put(
            "/v1/me/device",
            json={"platform": "APP", "push_token": "ExponentPushToken[abc123xyz]"},
            headers={**bearer(tokens), "X-Client-Version": "7.2.0"},
        )
        assert put.status_code == 200, put.text
        assert put.json()["push_token"] == "ExponentPushToken[abc123xyz]"
        assert put.json()["client_version"] == "7.2.0"
        kept = await http.put(
            "/v1/me/device", json={"platform": "APP", "vendor": "xiaomi"}, headers=bearer(tokens)
        )
        forgot = await http.put(
            "/v1/me/device", json={"platform": "APP", "push_token": None}, headers=bearer(tokens)
        )
        bad = await http.put(
            "/v1/me/device", json={"platform": "ADMIN", "push_token": "x"}, headers=bearer(tokens)
        )
        assert kept.json()["push_token"] == "ExponentPushToken[abc123xyz]"
        assert kept.json()["vendor"] == "xiaomi"
        assert forgot.json()["push_token"] is None
        assert forgot.json()["vendor"] == "xiaomi"
        assert bad.status_code == 422


class TestStaffView:
    async def test_staff_see_a_users_devices_with_identifiers_masked(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        http.headers.update(PHONE_HEADERS)
        tokens = await sms_login(app, http, new_phone())
        await http.put(
            "/v1/me/device",
            json={"platform": "APP", "push_token": "push-token-0123456789"},
            headers=bearer(tokens),
        )
        _, username = await make_staff(app, await make_role(app, "user:view"))
        headers = await staff_token(http, username)
        listed = await http.get(f"/v1/admin/users/{tokens['user']['id']}/devices", headers=headers)
        refused = await http.get(
            f"/v1/admin/users/{tokens['user']['id']}/devices", headers=bearer(tokens)
        )
        assert listed.status_code == 200, listed.text
        [device] = listed.json()["items"]
        assert device["vendor"] == "huawei"
        assert device["device_id"] != PHONE_HEADERS["X-Device-Id"]
        assert device["push_token"] != "push-token-0123456789"
        assert refused.status_code in (401, 403)
