"""Bad input any route may be sent: NUL and lone surrogates, broken JSON, empty bodies, ids past
a BIGINT. A clear 4xx naming the field on every database, never a 500 nor a stored row."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import func, select

from tests.factories.identity import bearer, new_phone, sms_login
from tests.identity.conftest import client_for
from usercenter.db import Database
from usercenter.identity.models import Identity
from usercenter.kit.pagination import encode_cursor
from usercenter.openapi import api_routes


@pytest.fixture
async def client(app: FastAPI, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """A client from an address of its own: the per-address limits of the shared app stay
    out of the way."""
    async with client_for(app) as http:
        yield http


def assert_refused(response: httpx.Response, status: int, code: str, field: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert [error["field"] for error in body["errors"]] == [field], body


async def identity_count(db: Database) -> int:
    async with db.read_session() as session:
        return int((await session.execute(select(func.count()).select_from(Identity))).scalar())


async def login(app: FastAPI, client: httpx.AsyncClient) -> dict[str, str]:
    return bearer(await sms_login(app, client, new_phone()))


class TestNulCharacters:
    async def test_a_body_string_is_refused_and_nothing_stored(
        self, client: httpx.AsyncClient, db: Database
    ) -> None:
        before = await identity_count(db)
        body = {"username": "ab\u0000cd", "password": "correct horse 42"}
        response = await client.post("/v1/auth/register", json=body)
        assert_refused(response, 422, "nul_character", "username")
        assert await identity_count(db) == before

    async def test_a_nested_body_string_is_named_by_its_path(
        self, client: httpx.AsyncClient
    ) -> None:
        body = {"items": [{"subject": "user:1", "permission": "wallet:\u0000view"}]}
        response = await client.post("/v1/authz/check", json=body)
        assert_refused(response, 422, "nul_character", "items.0.permission")

    async def test_a_query_parameter(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/me/login-history?cursor=ab%00cd")
        assert_refused(response, 422, "nul_character", "cursor")

    async def test_a_path_parameter(self, client: httpx.AsyncClient) -> None:
        response = await client.delete("/v1/me/identities/ab%00cd")
        assert_refused(response, 422, "nul_character", "kind")

    async def test_a_header_that_is_stored(self, client: httpx.AsyncClient) -> None:
        phone = new_phone()
        response = await client.post(
            "/v1/sms/codes",
            json={"phone": phone, "purpose": "login"},
            headers={"X-Device-Id": "dev\x00ice"},
        )
        assert_refused(response, 422, "nul_character", "x-device-id")

    async def test_a_form_field(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/oauth/introspect", data={"token": "a\x00b"})
        assert_refused(response, 422, "nul_character", "token")

    async def test_an_escaped_backslash_is_just_text(self, client: httpx.AsyncClient) -> None:
        # `\\u0000` in JSON is a backslash and five characters, not a NUL.
        body = {"username": "ab\\u0000cd", "password": "correct horse 42"}
        response = await client.post("/v1/auth/register", json=body)
        assert response.json()["code"] != "nul_character"

    async def test_a_lone_surrogate_is_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/v1/sms/codes",
            content=b'{"phone": "\\ud800", "purpose": "login"}',
            headers={"Content-Type": "application/json"},
        )
        assert_refused(response, 422, "invalid_unicode", "phone")


class TestBrokenJson:
    async def test_nested_too_deeply_is_invalid_json(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/v1/sms/codes",
            content=b"[" * 100_000 + b"]" * 100_000,
            headers={"Content-Type": "application/json"},
        )
        assert_refused(response, 400, "invalid_json", "body")

    async def test_not_utf8_is_invalid_json(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/v1/sms/codes",
            content=b'{"phone": "\xff\xfe", "purpose": "login"}',
            headers={"Content-Type": "application/json"},
        )
        assert_refused(response, 400, "invalid_json", "body")


class TestOptionalBodies:
    async def test_an_empty_body_reads_as_an_empty_object(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        headers = await login(app, client)
        response = await client.patch("/v1/me", headers=headers)  # no body, no Content-Type
        assert response.status_code == 200, response.text
        response = await client.patch(
            "/v1/me", headers={**headers, "Content-Type": "application/json"}
        )
        assert response.status_code == 200, response.text

    async def test_every_route_whose_fields_are_all_optional_accepts_no_body(
        self, app: FastAPI
    ) -> None:
        refusing = []
        for route in api_routes(app.routes):
            field = route.body_field
            model = field.field_info.annotation if field is not None else None
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                continue
            all_optional = not any(f.is_required() for f in model.model_fields.values())
            if field is not None and all_optional and field.field_info.is_required():
                refusing.append(f"{route.methods} {route.path}")
        assert refusing == []


class TestIdsPastBigint:
    @pytest.mark.parametrize("last_id", [2**63, 2**64, 0])
    async def test_a_cursor_naming_one_is_refused(
        self, app: FastAPI, client: httpx.AsyncClient, last_id: int
    ) -> None:
        headers = await login(app, client)
        response = await client.get(
            "/v1/me/login-history", params={"cursor": encode_cursor(last_id)}, headers=headers
        )
        assert_refused(response, 422, "validation_failed", "cursor")
