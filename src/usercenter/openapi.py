"""The OpenAPI document as clients need it: who may call each route, and every error it answers.

FastAPI's own document knows neither: the routes authenticate through plain dependencies, and
errors are `UserCenterError`s rendered as problem+json by one handler. This module adds both,
derived rather than listed route by route:

- a dependency that authenticates declares its security scheme and its errors once, with
  `@documents(...)` (deps.py); every route that depends on it, however deep, inherits them;
- a route answers the errors of its own module and of the modules that module calls (each
  module's error classes know their status), and the input errors every route shares
  (validation, a broken or oversized body);
- every error answer is `application/problem+json` with the `Problem` schema;
- schema names are unique without their module path (`WalletGrantIn`, not
  `usercenter__wallet__schemas__GrantIn`).
"""

from __future__ import annotations

import copy
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from usercenter.errors import (
    PROBLEM_CONTENT_TYPE,
    BodyTooLarge,
    InvalidJson,
    InvalidUnicode,
    NulCharacter,
    UnsupportedMediaType,
)
from usercenter.kit.errors import UserCenterError, ValidationFailed

SECURITY_SCHEMES: dict[str, dict[str, str]] = {
    "userBearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A user's access token, from a login (`/v1/auth/…`)",
    },
    "staffBearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A staff member's access token, from `POST /v1/admin/auth/login`",
    },
    "serviceBasic": {
        "type": "http",
        "scheme": "basic",
        "description": "A service of the business: a client of USERCENTER_SERVICE_CLIENTS",
    },
    "introspectionBasic": {
        "type": "http",
        "scheme": "basic",
        "description": "A gateway: a client of USERCENTER_INTROSPECTION_CLIENTS",
    },
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details, with a stable machine `code`",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "description": "A URI naming the kind of problem"},
        "title": {"type": "string", "description": "In the caller's language"},
        "status": {"type": "integer", "description": "The HTTP status"},
        "detail": {"type": "string", "description": "In the caller's language"},
        "code": {"type": "string", "description": "Stable, e.g. `identity_taken`"},
        "request_id": {"type": "string", "description": "Quote it when asking for help"},
        "errors": {
            "type": "array",
            "description": "The fields at fault",
            "items": {"$ref": "#/components/schemas/FieldProblem"},
        },
    },
}

FIELD_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "FieldProblem",
    "type": "object",
    "required": ["field", "code", "message"],
    "properties": {
        "field": {"type": "string", "description": "e.g. `phone`, `items.0.amount`"},
        "code": {"type": "string", "description": "Stable, e.g. `string_too_long`"},
        "message": {"type": "string", "description": "In the caller's language"},
    },
}

# Every route may be sent a NUL or a malformed parameter; a route with a body, a broken one.
_EVERY_ROUTE: tuple[type[UserCenterError], ...] = (ValidationFailed, NulCharacter)
_WITH_BODY: tuple[type[UserCenterError], ...] = (
    InvalidJson,
    InvalidUnicode,
    BodyTooLarge,
    UnsupportedMediaType,
)

# Raised for any route by the middleware or the handlers, not by a module: documented where
# they apply (_EVERY_ROUTE, _WITH_BODY, the dependencies), never from a module's imports.
_SHARED: frozenset[type[UserCenterError]] = frozenset(
    value
    for value in vars(sys.modules[UserCenterError.__module__]).values()
    if isinstance(value, type) and issubclass(value, UserCenterError)
)

_ATTRIBUTE = "__usercenter_openapi__"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Documented:
    """What a dependency adds to every route that uses it."""

    errors: tuple[type[UserCenterError], ...]
    security: str | None


def documents(*errors: type[UserCenterError], security: str | None = None) -> Callable[[T], T]:
    """Mark a dependency (a function, or a class whose instances are dependencies) with the
    security scheme it checks and the errors it raises."""

    def mark(target: T) -> T:
        setattr(target, _ATTRIBUTE, Documented(errors, security))
        return target

    return mark


def api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    """The API routes of an app, through included routers."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif (router := getattr(route, "original_router", None)) is not None:
            yield from api_routes(router.routes)


def _calls(dependant: Dependant) -> Iterator[Any]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _package(module_name: str) -> str:
    """`usercenter.identity` for `usercenter.identity.api`; a top-level module is its own."""
    parts = module_name.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 else module_name


def _modules_of(package: str) -> list[ModuleType]:
    return [
        module
        for name, module in list(sys.modules.items())
        if module is not None and (name == package or name.startswith(package + "."))
    ]


def _errors_in(module: ModuleType) -> set[type[UserCenterError]]:
    return {
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, UserCenterError)
    }


def _module_errors(endpoint: Callable[..., Any]) -> set[type[UserCenterError]]:
    """The errors of the route's module, and of the modules whose services it calls (their
    `errors` modules). Shared errors (usercenter.errors) are added by what causes them."""
    own = _package(endpoint.__module__)
    if own.count(".") != 1:  # a top-level module (health): only what it imports itself
        module = sys.modules.get(own)
        return _errors_in(module) - _SHARED if module is not None else set()
    errors: set[type[UserCenterError]] = set()
    called: set[str] = set()
    for module in _modules_of(own):
        errors |= _errors_in(module)
        for value in vars(module).values():
            origin = getattr(value, "__module__", None)
            if isinstance(origin, str) and origin.startswith("usercenter."):
                package = _package(origin)
                if package.count(".") == 1 and package != own:
                    called.add(package)
    for package in called:
        if (module := sys.modules.get(package + ".errors")) is not None:
            errors |= _errors_in(module)
    return errors - _SHARED


@dataclass(slots=True)
class _RouteFacts:
    security: list[dict[str, list[str]]]
    errors: set[type[UserCenterError]]


def _facts(route: APIRoute) -> _RouteFacts:
    errors = set(_EVERY_ROUTE) | _module_errors(route.endpoint)
    schemes: list[str] = []
    for call in _calls(route.dependant):
        documented = getattr(call, _ATTRIBUTE, None)
        if isinstance(documented, Documented):
            errors |= set(documented.errors)
            if documented.security and documented.security not in schemes:
                schemes.append(documented.security)
    endpoint_documented = getattr(route.endpoint, _ATTRIBUTE, None)
    if isinstance(endpoint_documented, Documented):
        errors |= set(endpoint_documented.errors)
        if endpoint_documented.security:
            schemes.append(endpoint_documented.security)
    if route.body_field is not None:
        errors |= set(_WITH_BODY)
    # A route checks one kind of caller (the dependency nearest the route names it).
    security: list[dict[str, list[str]]] = [{scheme: []} for scheme in schemes[:1]]
    return _RouteFacts(security, errors)


def _error_responses(errors: set[type[UserCenterError]]) -> dict[str, Any]:
    by_status: dict[int, set[str]] = {}
    for error in errors:
        status = int(error.status)
        if 400 <= status < 600:
            by_status.setdefault(status, set()).add(error.code)
    return {
        str(status): {
            "description": "Problem: " + ", ".join(f"`{code}`" for code in sorted(codes)),
            "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status, codes in sorted(by_status.items())
    }


_MODULE_PATH = re.compile(r"^usercenter__(\w+?)__\w+?__(\w+?)(-Input|-Output)?$")


def _short_names(document: dict[str, Any]) -> None:
    """`usercenter__wallet__schemas__GrantIn` -> `WalletGrantIn`, references included."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    renames: dict[str, str] = {}
    for name in list(schemas):
        match = _MODULE_PATH.match(name)
        if match:
            module, model, suffix = match.groups()
            renames[name] = module.capitalize() + model + (suffix or "")
    if not renames:
        return
    for old, new in renames.items():
        assert new not in schemas, f"schema name {new} is taken twice"
        schemas[new] = schemas.pop(old)
        schemas[new]["title"] = new

    def rewrite(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                target = ref.rsplit("/", 1)[1]
                if target in renames:
                    node["$ref"] = "#/components/schemas/" + renames[target]
            for value in node.values():
                rewrite(value)
        elif isinstance(node, list):
            for value in node:
                rewrite(value)

    rewrite(document)


INPUT_RULES = (
    "Errors are `application/problem+json` (the `Problem` schema) with a stable `code`, texts "
    "in zh-CN or English by `Accept-Language`, and the fields at fault in `errors`. No string "
    "anywhere (path, query, headers, body) may contain U+0000 or a lone surrogate: such a "
    "request is refused with 422 `nul_character` or `invalid_unicode`."
)


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document with security, problem+json errors and short schema names."""
    document = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description="\n\n".join(filter(None, [app.description, INPUT_RULES])),
        routes=app.routes,
    )
    paths: dict[str, Any] = document.get("paths", {})
    for route in api_routes(app.routes):
        if not route.include_in_schema or route.path_format not in paths:
            continue
        facts = _facts(route)
        for method in route.methods or ():
            operation = paths[route.path_format].get(method.lower())
            if operation is None:
                continue
            responses: dict[str, Any] = operation.setdefault("responses", {})
            responses.pop("422", None)  # FastAPI's HTTPValidationError: we answer problem+json
            for status, response in _error_responses(facts.errors).items():
                responses.setdefault(status, response)
            if facts.security:
                operation["security"] = facts.security
    _document_shared_paths(paths, app)
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["FieldProblem"] = FIELD_PROBLEM_SCHEMA
    components["securitySchemes"] = SECURITY_SCHEMES
    _short_names(document)
    return document


def _document_shared_paths(paths: dict[str, Any], app: FastAPI) -> None:
    """A fixed path that a template also matches (`/v1/me/identities/phone` has its own POST,
    and `DELETE /v1/me/identities/{kind}` unbinds the phone there) lists the template's other
    methods too, so the document names every method the path answers, as `Allow` does."""
    for fixed, operations in paths.items():
        if "{" in fixed:
            continue
        for route in api_routes(app.routes):
            if route.path_format == fixed or not route.include_in_schema:
                continue
            if route.path_format not in paths or not route.path_regex.match(fixed):
                continue
            for method in sorted(route.methods or ()):
                template = paths[route.path_format].get(method.lower())
                if template is None or method.lower() in operations:
                    continue
                operation = copy.deepcopy(template)
                operation["parameters"] = [
                    p for p in operation.get("parameters", []) if p.get("in") != "path"
                ]
                suffix = re.sub(r"\W+", "_", fixed.rsplit("/", 1)[-1])
                operation["operationId"] = f"{template.get('operationId', method)}_{suffix}"
                operations[method.lower()] = operation


def install_openapi(app: FastAPI) -> None:
    """Serve `build_openapi`'s document at /openapi.json (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
