"""Identity input that used to pass and should not: each refused with a 422, the field and a
stable code, and nothing changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from usercenter.kit import clock

from .conftest import bearer, new_phone, register, sms_login


def assert_field_error(response: httpx.Response, field: str, code: str) -> None:
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [(field, code)], errors


class TestRegister:
    async def test_refuses_a_username_of_digits(self, http: httpx.AsyncClient) -> None:
        # A login of digits is read as a phone number: such a username could never log in.
        body = {"username": "13800138000", "password": "correct horse 42", "platform": "WEB"}
        response = await http.post("/v1/auth/register", json=body)
        assert_field_error(response, "username", "username_looks_like_phone")
        login = {"login": "13800138000", "password": "correct horse 42", "platform": "WEB"}
        assert (await http.post("/v1/auth/password-login", json=login)).status_code == 401

    async def test_a_username_with_letters_and_digits_is_fine(
        self, http: httpx.AsyncClient
    ) -> None:
        await register(http, "user13800138000")


class TestUserLoginPlatform:
    async def test_admin_is_refused(self, app: FastAPI, http: httpx.AsyncClient) -> None:
        phone = new_phone()
        sent = await http.post("/v1/sms/codes", json={"phone": phone, "purpose": "login"})
        assert sent.status_code == 202
        body = {"phone": phone, "code": "000000", "platform": "ADMIN"}
        response = await http.post("/v1/auth/sms-login", json=body)
        assert_field_error(response, "platform", "enum")

    async def test_admin_is_refused_on_password_login_too(self, http: httpx.AsyncClient) -> None:
        body = {"login": "someone", "password": "whatever 123", "platform": "ADMIN"}
        response = await http.post("/v1/auth/password-login", json=body)
        assert_field_error(response, "platform", "enum")


class TestProfileUpdate:
    @pytest.fixture
    async def headers(self, app: FastAPI, http: httpx.AsyncClient) -> dict[str, str]:
        return bearer(await sms_login(app, http, new_phone()))

    @pytest.mark.parametrize(
        ("change", "field", "code"),
        [
            ({"birthday": "1800-01-01"}, "birthday", "date_out_of_range"),
            ({"birthday": "2099-01-01"}, "birthday", "date_out_of_range"),
            ({"birthday": 0}, "birthday", "date_type"),
            ({"gender": True}, "gender", "int_type"),
            ({"gender": "1"}, "gender", "int_type"),
            ({"gender": 3}, "gender", "less_than_equal"),
            ({"gender": None}, "gender", "int_type"),
            ({"avatar_url": "http://img.example.com/a.png"}, "avatar_url", "https_url_required"),
            ({"avatar_url": "https://"}, "avatar_url", "https_url_required"),
            ({"avatar_url": "https://a b.com/x"}, "avatar_url", "https_url_required"),
            (
                {"avatar_url": "https://img.example.com/" + "a" * 512},
                "avatar_url",
                "string_too_long",
            ),
        ],
    )
    async def test_refuses(
        self,
        http: httpx.AsyncClient,
        headers: dict[str, str],
        change: dict[str, Any],
        field: str,
        code: str,
    ) -> None:
        response = await http.patch("/v1/me", json=change, headers=headers)
        assert_field_error(response, field, code)
        me = (await http.get("/v1/me", headers=headers)).json()
        assert me[field] in (None, 0)

    async def test_accepts_sane_values(
        self, http: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        change = {
            "birthday": "1990-05-17",
            "gender": 2,
            "avatar_url": "https://img.example.com/a.png?size=64",
        }
        response = await http.patch("/v1/me", json=change, headers=headers)
        assert response.status_code == 200, response.text
        assert {k: response.json()[k] for k in change} == change

    async def test_today_is_the_latest_birthday_by_the_clock(
        self, http: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        frozen = datetime.now(UTC).replace(hour=12, minute=0)
        clock.set_clock(lambda: frozen)
        latest = (frozen + timedelta(hours=14)).date()  # today where the day starts first
        try:
            ok = await http.patch("/v1/me", json={"birthday": str(latest)}, headers=headers)
            late = await http.patch(
                "/v1/me", json={"birthday": str(latest + timedelta(days=1))}, headers=headers
            )
        finally:
            clock.set_clock(None)
        assert ok.status_code == 200, ok.text
        assert_field_error(late, "birthday", "date_out_of_range")
