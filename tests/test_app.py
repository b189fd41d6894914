"""What a client of the HTTP service sees: problem+json errors, request ids, health, metrics."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from typing import ClassVar

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, Field

from tests.conftest import log_output, make_settings
from usercenter.app import create_app
from usercenter.kit.errors import UserCenterError
from usercenter.kit.i18n import Text
from usercenter.logs import ACCESS_LOGGER


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


H5_ORIGIN = "https://h5.example.com"
METRICS_TOKEN = {"Authorization": "Bearer metrics-token-0123456789"}
WRONG_TOKEN = {"Authorization": "Bearer metrics-token-9876543210"}


@pytest.fixture(scope="module")
async def guarded_app(database_url: str, migrated: object) -> AsyncIterator[FastAPI]:
    """The real app with a metrics token and one H5 origin allowed."""
    application = create_app(
        make_settings(
            database_url,
            log_level="CRITICAL",
            metrics_token=METRICS_TOKEN["Authorization"].removeprefix("Bearer "),
            cors_origins=f"{H5_ORIGIN}, http://localhost:5173",
        )
    )
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def guarded(guarded_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=guarded_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://usercenter.test") as client:
        yield client


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
        with log_output(level=logging.ERROR, json_lines=True) as stream:
            await http.get("/v1/probe/boom", headers={"X-Request-ID": "req-boom-000002"})
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

    async def test_readyz_tells_anonymous_callers_only_whether_it_is_ready(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/readyz")
        assert response.status_code == 200, response.text
        assert response.json() == {"status": "ready"}
        assert "SQLite" not in response.text  # no versions for strangers

    async def test_readyz_shows_its_checks_to_the_metrics_token(
        self, guarded: httpx.AsyncClient
    ) -> None:
        assert "checks" not in (await guarded.get("/readyz", headers=WRONG_TOKEN)).json()
        response = await guarded.get("/readyz", headers=METRICS_TOKEN)
        assert response.status_code == 200, response.text
        checks = response.json()["checks"]
        assert checks["database"]["ok"] is True
        assert checks["schema"]["ok"] is True
        assert "cache" not in checks  # in-process: nothing to reach

    async def test_readyz_fails_when_the_database_is_unreachable(self, workdir: object) -> None:
        settings = make_settings(
            "postgresql://nobody@127.0.0.1:1/none",
            log_level="CRITICAL",
            metrics_token=METRICS_TOKEN["Authorization"].removeprefix("Bearer "),
        )
        application = create_app(settings)  # no lifespan: it would refuse to start
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            anonymous = await client.get("/readyz")
            operator = await client.get("/readyz", headers=METRICS_TOKEN)
        body = assert_problem(anonymous, 503, "not_ready")
        assert "checks" not in body
        assert "127.0.0.1" not in anonymous.text
        body = assert_problem(operator, 503, "not_ready")
        assert body["checks"]["database"]["ok"] is False  # type: ignore[index]
        await application.state.services.database.dispose()

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

    async def test_docs_and_their_assets_are_counted_by_their_route(
        self, http: httpx.AsyncClient
    ) -> None:
        for path in ("/docs", "/openapi.json", "/redoc", "/docs/assets/swagger-ui.css"):
            assert (await http.get(path)).status_code == 200, path
        text = (await http.get("/metrics")).text
        for route in ("/docs", "/openapi.json", "/redoc", "/docs/assets/{name}"):
            assert f'route="{route}",status="200"' in text, route

    async def test_open_without_a_token_setting(self, http: httpx.AsyncClient) -> None:
        assert (await http.get("/metrics")).status_code == 200

    async def test_needs_the_token_once_it_is_set(self, guarded: httpx.AsyncClient) -> None:
        body = assert_problem(await guarded.get("/metrics"), 401, "metrics_unauthorized")
        assert body["title"] == "需要监控令牌"
        refused = await guarded.get("/metrics", headers=WRONG_TOKEN)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")
        allowed = await guarded.get("/metrics", headers=METRICS_TOKEN)
        assert allowed.status_code == 200
        assert "usercenter_http_requests_total" in allowed.text


class TestHttpHygiene:
    async def test_every_answer_says_nosniff(self, client: httpx.AsyncClient) -> None:
        for response in (
            await client.get("/healthz"),
            await client.get("/v1/no-such-route"),
            await client.put("/v1/me"),
            await client.get("/docs/assets/swagger-ui-bundle.js"),
        ):
            assert response.headers["x-content-type-options"] == "nosniff", response.url

    async def test_answers_are_not_stored_unless_the_route_says_so(
        self, client: httpx.AsyncClient
    ) -> None:
        assert (await client.get("/healthz")).headers["cache-control"] == "no-store"
        assert (await client.get("/v1/me")).headers["cache-control"] == "no-store"
        asset = await client.get("/docs/assets/swagger-ui.css")
        assert asset.headers["cache-control"] == "public, max-age=86400"

    async def test_put_on_me_lists_patch_in_allow(self, client: httpx.AsyncClient) -> None:
        response = await client.put("/v1/me", json={"nickname": "x"})
        assert_problem(response, 405, "method_not_allowed")
        assert set(response.headers["allow"].split(", ")) == {"GET", "PATCH"}

    @pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
    async def test_revoke_others_is_not_taken_for_a_session_id(
        self, client: httpx.AsyncClient, method: str
    ) -> None:
        response = await client.request(method, "/v1/me/sessions/revoke-others")
        assert_problem(response, 405, "method_not_allowed")
        assert response.headers["allow"] == "POST"


class TestDocs:
    @pytest.mark.parametrize("page", ["/docs", "/redoc"])
    async def test_pages_load_every_asset_from_this_service(
        self, client: httpx.AsyncClient, page: str
    ) -> None:
        response = await client.get(page)
        assert response.status_code == 200
        references = re.findall(r'(?:src|href)="([^"]+)"', response.text)
        assert references, response.text
        for reference in references:
            assert reference.startswith("/"), f"{page} loads {reference} from another host"
            asset = await client.get(reference)
            assert asset.status_code == 200, reference
            assert asset.content, reference
        assert "://" not in " ".join(re.findall(r"url\s*:\s*'[^']*'", response.text))

    async def test_swagger_ui_script_and_styles_are_the_real_ones(
        self, client: httpx.AsyncClient
    ) -> None:
        script = await client.get("/docs/assets/swagger-ui-bundle.js")
        assert script.headers["content-type"].startswith("text/javascript")
        assert b"SwaggerUIBundle" in script.content
        styles = await client.get("/docs/assets/swagger-ui.css")
        assert styles.headers["content-type"].startswith("text/css")

    @pytest.mark.parametrize("name", ["secret.txt", "..%2F..%2Fcore.py", "__init__.py"])
    async def test_nothing_else_is_served_from_the_package(
        self, client: httpx.AsyncClient, name: str
    ) -> None:
        assert_problem(await client.get(f"/docs/assets/{name}"), 404, "not_found")


class TestCors:
    PREFLIGHT: ClassVar[dict[str, str]] = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,authorization,x-device-id",
    }

    async def test_an_allowed_origin_gets_its_preflight_answered(
        self, guarded: httpx.AsyncClient
    ) -> None:
        response = await guarded.options(
            "/v1/auth/sms-login", headers={"Origin": H5_ORIGIN, **self.PREFLIGHT}
        )
        assert response.status_code == 200, response.text
        assert response.headers["access-control-allow-origin"] == H5_ORIGIN
        assert "POST" in response.headers["access-control-allow-methods"]
        allowed = response.headers["access-control-allow-headers"].lower()
        assert {"authorization", "content-type", "x-device-id"} <= set(allowed.split(", "))
        simple = await guarded.get("/healthz", headers={"Origin": H5_ORIGIN})
        assert simple.headers["access-control-allow-origin"] == H5_ORIGIN
        assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()

    async def test_another_origin_gets_no_cors_headers(self, guarded: httpx.AsyncClient) -> None:
        origin = "https://evil.example.net"
        response = await guarded.options(
            "/v1/auth/sms-login", headers={"Origin": origin, **self.PREFLIGHT}
        )
        assert response.status_code == 400
        assert "access-control-allow-origin" not in response.headers
        simple = await guarded.get("/healthz", headers={"Origin": origin})
        assert "access-control-allow-origin" not in simple.headers

    async def test_no_origin_is_allowed_by_default(self, client: httpx.AsyncClient) -> None:
        response = await client.options(
            "/v1/auth/sms-login", headers={"Origin": H5_ORIGIN, **self.PREFLIGHT}
        )
        assert response.status_code == 405
        assert "access-control-allow-origin" not in response.headers


class TestAccessLog:
    async def test_one_masked_json_line_per_request(self, http: httpx.AsyncClient) -> None:
        with log_output(ACCESS_LOGGER, level=logging.INFO) as stream:
            await http.get("/v1/users/13812345678", headers={"X-Request-ID": "req-access-0001"})
        [line] = [json.loads(raw) for raw in stream.getvalue().splitlines()]
        assert line["event"] == "request"
        assert line["path"] == "/v1/users/138****5678"
        assert (line["status"], line["route"]) == (404, "<unmatched>")
        assert line["request_id"] == "req-access-0001"
        assert "13812345678" not in stream.getvalue()
