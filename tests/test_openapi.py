"""The OpenAPI document: security schemes and requirements Swagger's "Authorize" can use,
problem+json for every error a route answers, unique schema names."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from usercenter.errors import PROBLEM_CONTENT_TYPE


@pytest.fixture
async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def operation(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    found: dict[str, Any] = document["paths"][path][method]
    return found


class TestSecurity:
    def test_declares_bearer_and_basic_schemes(self, document: dict[str, Any]) -> None:
        schemes = document["components"]["securitySchemes"]
        kinds = {(s["type"], s["scheme"]) for s in schemes.values()}
        assert ("http", "bearer") in kinds
        assert ("http", "basic") in kinds

    @pytest.mark.parametrize(
        ("method", "path", "scheme"),
        [
            ("get", "/v1/me", "userBearer"),  # Authenticated
            ("patch", "/v1/me", "userBearer"),  # CurrentClaims
            ("get", "/v1/me/wallet", "userBearer"),
            ("get", "/v1/admin/users", "staffBearer"),  # StaffWith(...)
            ("post", "/v1/admin/auth/logout", "staffBearer"),  # CurrentStaff
            ("post", "/v1/wallet/debits", "serviceBasic"),
            ("post", "/v1/authz/check", "serviceBasic"),
            ("post", "/v1/oauth/introspect", "introspectionBasic"),
        ],
    )
    def test_each_route_names_what_it_needs(
        self, document: dict[str, Any], method: str, path: str, scheme: str
    ) -> None:
        op = operation(document, method, path)
        assert op["security"] == [{scheme: []}]
        assert "401" in op["responses"]

    @pytest.mark.parametrize(
        ("method", "path"),
        [("post", "/v1/auth/sms-login"), ("post", "/v1/sms/codes"), ("get", "/healthz")],
    )
    def test_open_routes_need_nothing(
        self, document: dict[str, Any], method: str, path: str
    ) -> None:
        assert "security" not in operation(document, method, path)

    async def test_a_documented_route_refuses_a_call_without_credentials(
        self, client: httpx.AsyncClient, document: dict[str, Any]
    ) -> None:
        for path, operations in document["paths"].items():
            if "{" in path or "get" not in operations or "security" not in operations["get"]:
                continue
            response = await client.get(path)
            assert response.status_code == 401, (path, response.text)


class TestErrors:
    def test_every_error_answer_is_a_problem(self, document: dict[str, Any]) -> None:
        for path, operations in document["paths"].items():
            for method, op in operations.items():
                for status, response in op["responses"].items():
                    if int(status) < 400:
                        continue
                    content = response["content"]
                    assert list(content) == [PROBLEM_CONTENT_TYPE], (method, path, status)
                    schema = content[PROBLEM_CONTENT_TYPE]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Problem"}
        schemas = document["components"]["schemas"]
        assert {"code", "status", "title", "detail"} <= set(schemas["Problem"]["required"])
        assert "HTTPValidationError" not in schemas

    def test_statuses_come_from_dependencies_and_modules(self, document: dict[str, Any]) -> None:
        responses = operation(document, "post", "/v1/auth/sms-login")["responses"]
        assert {"200", "400", "413", "415", "422", "429"} <= set(responses)
        assert "`invalid_json`" in responses["400"]["description"]
        assert "`nul_character`" in responses["422"]["description"]
        staff = operation(document, "get", "/v1/admin/users")["responses"]
        assert {"401", "403"} <= set(staff)
        assert "`permission_denied`" in staff["403"]["description"]
        # A GET has no body: no 415 nor 413.
        assert not {"413", "415"} & set(operation(document, "get", "/v1/me")["responses"])

    def test_optional_bodies_are_not_required(self, document: dict[str, Any]) -> None:
        assert operation(document, "patch", "/v1/me")["requestBody"].get("required") is not True


class TestPaths:
    def test_no_two_templates_differ_only_by_parameter_names(
        self, document: dict[str, Any]
    ) -> None:
        # `/v1/me/identities/{app_type}` (POST) beside `/v1/me/identities/{identity_type}`
        # (DELETE) read as two paths, each missing the other's method.
        shapes: dict[str, list[str]] = {}
        for path in document["paths"]:
            shapes.setdefault(re.sub(r"\{[^}]+\}", "{}", path), []).append(path)
        assert [paths for paths in shapes.values() if len(paths) > 1] == []
        assert {"post", "delete"} <= set(document["paths"]["/v1/me/identities/{kind}"])


class TestSchemaNames:
    def test_no_name_carries_a_module_path(self, document: dict[str, Any]) -> None:
        names = list(document["components"]["schemas"])
        assert [name for name in names if "__" in name] == []
        assert {"WalletGrantIn", "AccessGrantIn"} <= set(names)

    def test_every_reference_resolves(self, document: dict[str, Any]) -> None:
        names = set(document["components"]["schemas"])
        missing: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str) and ref.rsplit("/", 1)[1] not in names:
                    missing.append(ref)
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(document)
        assert missing == []


class TestMethodsMatchAllow:
    async def test_every_fixed_path_documents_exactly_the_methods_its_allow_names(
        self, client: httpx.AsyncClient, document: dict[str, Any]
    ) -> None:
        # `/v1/me/identities/phone` has its own POST, and DELETE /v1/me/identities/{kind}
        # unbinds the phone there: the document lists both, as the 405's Allow does.
        assert set(document["paths"]["/v1/me/identities/phone"]) == {"post", "delete"}
        for path, operations in document["paths"].items():
            if "{" in path or path.startswith("/docs"):
                continue
            response = await client.request("OPTIONS", path)
            assert response.status_code == 405, path
            allowed = {m.strip().lower() for m in response.headers["allow"].split(",")}
            assert allowed == set(operations), path
