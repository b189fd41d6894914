"""What a client of the HTTP service sees: problem+json errors, request ids, health, metrics."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, Field

from usercenter.app import create_app
from usercenter.config import LogFormat
from usercenter.errors import UserCenterError
from usercenter.kit.i18n import Text
from usercenter.logs import ACCESS_LOGGER, build_formatter

from .conftest import make_settings


class Greeting(BaseModel):
    name: str = Field(min_length=2, max_length=10)
    count: int = Field(ge=1)


class TeapotError(UserCenterError):
    code = "teapot"
    status = 418
    title = Text("我是茶壶", "I am a teapot")


probe = APIRouter(prefix="/v1/probe")


@probe.post("/greet")
async def greet(body: Greeting) -> dict[str, str]:
    return {"hello": body.name * body.count}


@probe.get("/teapot")
async def teapot() -> None:
    raise TeapotError(field="kettle")


@probe.get("/boom")
async def boom() -> None:
    raise RuntimeError("secret internals 13812345678")


@pytest.fixture(scope="module")
async def probe_app(database_url: str, migrated: object) -> AsyncIterator[FastAPI]:
    """The real app with a few extra routes that exercise the error machinery."""
    application = create_app(make_settings(database_url, log_level="CRITICAL", max_body_bytes=4096))
    application.include_router(probe)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def http(probe_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=probe_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://usercenter.test") as client:
        yield client


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert isinstance(body["type"], str)
    assert body["title"]
    assert body["detail"]
    return body


class TestProblemDetails:
    async def test_unknown_route_is_a_404_problem_in_chinese_by_default(
        self, client: httpx.AsyncClient
    ) -> None:
        body = assert_problem(await client.get("/v1/no-such-route"), 404, "not_found")
        assert body["title"] == "资源不存在"

    async def test_english_when_the_client_prefers_it(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/nope", headers={"Accept-Language": "en-US,en;q=0.9,zh;q=0.5"})
        body = assert_problem(response, 404, "not_found")
        assert body["title"] == "Not found"
        assert response.headers["content-language"] == "en"

    async def test_wrong_method_is_a_405_problem(self, client: httpx.AsyncClient) -> None:
        assert_problem(await client.post("/healthz"), 405, "method_not_allowed")

    async def test_service_error_keeps_its_code_and_names_the_field(
        self, http: httpx.AsyncClient
    ) -> None:
        body = assert_problem(await http.get("/v1/probe/teapot"), 418, "teapot")
        assert body["errors"] == [{"field": "kettle", "code": "teapot", "message": "我是茶壶"}]

    async def test_field_errors_name_each_field(self, http: httpx.AsyncClient) -> None:
        response = await http.post(
            "/v1/probe/greet", json={"name": "x"}, headers={"Accept-Language": "en"}
        )
        body = assert_problem(response, 422, "validation_failed")
        errors = {item["field"]: item for item in body["errors"]}  # type: ignore[attr-defined]
        assert errors["name"]["code"] == "string_too_short"
        assert errors["count"]["code"] == "missing"

    async def test_field_messages_are_chinese_by_default(self, http: httpx.AsyncClient) -> None:
        body = assert_problem(
            await http.post("/v1/probe/greet", json={"count": 1}), 422, "validation_failed"
        )
        assert body["errors"] == [{"field": "name", "code": "missing", "message": "必填"}]

    async def test_malformed_json_is_a_400(self, http: httpx.AsyncClient) -> None:
        response = await http.post(
            "/v1/probe/greet",
            content=b'{"name": ',
            headers={"Content-Type": "application/json"},
        )
        assert_problem(response, 400, "invalid_json")

    async def test_wrong_content_type_is_a_415(self, http: httpx.AsyncClient) -> None:
        response = await http.post(
            "/v1/probe/greet", content=b"name=ab&count=1", headers={"Content-Type": "text/plain"}
        )
        assert_problem(response, 415, "unsupported_media_type")

    async def test_body_over_the_cap_is_a_413(self, http: httpx.AsyncClient) -> None:
        response = await http.post("/v1/probe/greet", json={"name": "x" * 10_000, "count": 1})
        body = assert_problem(response, 413, "body_too_large")
        assert "4096" in str(body["detail"])
        assert len(response.headers.get_list("x-request-id")) == 1

    async def test_streamed_body_over_the_cap_is_a_413(self, http: httpx.AsyncClient) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"name": "'
            for _ in range(10):
                yield b"x" * 1024
            yield b'", "count": 1}'

        response = await http.post(
            "/v1/probe/greet", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert_problem(response, 413, "body_too_large")

    async def test_good_request_still_works(self, http: httpx.AsyncClient) -> None:
        response = await http.post("/v1/probe/greet", json={"name": "ab", "count": 2})
        assert response.status_code == 200
        assert response.json() == {"hello": "abab"}

    async def test_unexpected_exception_is_a_500_problem_without_internals(
        self, http: httpx.AsyncClient
    ) -> None:
        response = await http.get("/v1/probe/boom", headers={"X-Request-ID": "req-boom-000001"})
        body = assert_problem(response, 500, "internal_error")
        assert body["request_id"] == "req-boom-000001"
        assert "req-boom-000001" in str(body["detail"])
        assert "secret internals" not in response.text
        assert "Traceback" not in response.text

    async def test_unexpected_exception_is_logged_with_traceback_and_masked(
        self, http: httpx.AsyncClient
    ) -> None:
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(build_formatter(LogFormat.JSON))
        root = logging.getLogger()
        level = root.level
        root.addHandler(handler)
        root.setLevel(logging.ERROR)
        try:
            await http.get("/v1/probe/boom", headers={"X-Request-ID": "req-boom-000002"})
        finally:
            root.removeHandler(handler)
            root.setLevel(level)
        records = [json.loads(line) for line in stream.getvalue().splitlines()]
        [record] = [r for r in records if r["event"] == "unhandled_error"]
        assert record["request_id"] == "req-boom-000002"
        assert record["path"] == "/v1/probe/boom"
        assert "RuntimeError: secret internals 138****5678" in record["exception"]
        assert "13812345678" not in stream.getvalue()


class TestRequestId:
    async def test_every_response_carries_one(self, client: httpx.AsyncClient) -> None:
        first = await client.get("/healthz")
        second = await client.get("/healthz")
        assert first.headers["x-request-id"]
        assert first.headers["x-request-id"] != second.headers["x-request-id"]

    async def test_a_sane_incoming_id_is_kept(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz", headers={"X-Request-ID": "gateway-abc-123"})
        assert response.headers["x-request-id"] == "gateway-abc-123"

    async def test_an_unsafe_incoming_id_is_replaced(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
        assert response.headers["x-request-id"] != "bad id\twith spaces"


class TestHealth:
    async def test_healthz(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}

    async def test_readyz_checks_database_and_schema(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/readyz")
        assert response.status_code == 200, response.text
        checks = response.json()["checks"]
        assert checks["database"]["ok"] is True
        assert checks["schema"]["ok"] is True
        assert "cache" not in checks  # in-process: nothing to reach

    async def test_readyz_fails_when_the_database_is_unreachable(self, workdir: object) -> None:
        settings = make_settings("postgresql://nobody@127.0.0.1:1/none", log_level="CRITICAL")
        application = create_app(settings)  # no lifespan: it would refuse to start
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/readyz")
        body = assert_problem(response, 503, "not_ready")
        assert body["checks"]["database"]["ok"] is False  # type: ignore[index]
        await application.state.usercenter.database.dispose()

    async def test_openapi_and_docs_are_published(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/openapi.json")).json()["info"]["title"] == "usercenter"
        assert (await client.get("/docs")).status_code == 200


class TestMetrics:
    async def test_counts_requests_by_route_template_and_status(
        self, http: httpx.AsyncClient
    ) -> None:
        await http.get("/v1/probe/teapot")
        await http.get("/v1/unknown/13800000000")
        text = (await http.get("/metrics")).text
        assert 'route="/v1/probe/teapot",status="418"' in text
        assert 'route="<unmatched>",status="404"' in text
        assert "13800000000" not in text
        assert "usercenter_http_request_duration_seconds_bucket" in text
        assert "usercenter_db_pool_checked_out" in text


class TestAccessLog:
    async def test_one_masked_json_line_per_request(self, http: httpx.AsyncClient) -> None:
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        access = logging.getLogger(ACCESS_LOGGER)
        access.addHandler(handler)
        level = access.level
        access.setLevel(logging.INFO)
        try:
            await http.get("/v1/users/13812345678", headers={"X-Request-ID": "req-access-0001"})
        finally:
            access.removeHandler(handler)
            access.setLevel(level)
        [line] = [json.loads(raw) for raw in stream.getvalue().splitlines()]
        assert line["event"] == "request"
        assert line["path"] == "/v1/users/138****5678"
        assert (line["status"], line["route"]) == (404, "<unmatched>")
        assert line["request_id"] == "req-access-0001"
        assert "13812345678" not in stream.getvalue()
