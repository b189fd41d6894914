"""Pure ASGI middleware: request id, access log, metrics, body cap, safe default headers, and the
last-resort 500."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from usercenter.errors import (
    BodyTooLarge,
    BodyTooLargeSignal,
    InputRefusedSignal,
    InternalError,
    InvalidUnicode,
    NulCharacter,
    problem_response,
)
from usercenter.kit.errors import UserCenterError
from usercenter.kit.i18n import negotiate_language
from usercenter.kit.log import get_logger
from usercenter.logs import access_log
from usercenter.metrics import Metrics
from usercenter.openapi import api_routes

log = get_logger("usercenter.request")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
UNMATCHED_ROUTE = "<unmatched>"
# On every answer: never guess a content type (a JSON error rendered as HTML); and unless the
# route says otherwise, never store it - answers carry tokens, codes and personal data.
NOSNIFF = (b"x-content-type-options", b"nosniff")
NO_STORE = (b"cache-control", b"no-store")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _send_problem(scope: Scope, receive: Receive, send: Send, error: UserCenterError) -> int:
    language = negotiate_language(_header(scope, b"accept-language"))
    request_id = scope.get("state", {}).get("request_id")
    response = problem_response(error, language, request_id)
    await response(scope, receive, send)
    return response.status_code


# --- strings no database can store -----------------------------------------------------------
# A NUL (U+0000) makes PostgreSQL refuse the statement (a 500) and SQLite keep a string that
# other systems cut short; a lone surrogate has no UTF-8 form. Both are refused here, for every
# route, before any route reads them: in the path, the query, the headers and the body. The
# common case costs a few substring tests; the field is worked out only when one matches.


def _unstorable(text: str) -> UserCenterError | None:
    if "\x00" in text:
        return NulCharacter()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return InvalidUnicode()
    return None


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(field, string) for every key and string in a parsed JSON value."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            yield child, str(key)
            yield from _strings(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}.{index}" if path else str(index))


def _refusal(pairs: Iterator[tuple[str, str]]) -> UserCenterError | None:
    for field, text in pairs:
        error = _unstorable(text)
        if error is not None:
            error.field = field.replace("\x00", "") or "body"
            return error
    return None


def _path_refusal(scope: Scope) -> UserCenterError | None:
    path: str = scope["path"]
    if "\x00" not in path:  # servers decode a path as UTF-8 with replacement: no surrogates
        return None
    for route in api_routes(getattr(scope.get("app"), "routes", ())):
        matched = route.path_regex.match(path)
        if matched:
            params = matched.groupdict().items()
            return _refusal(iter(params)) or _refusal(iter([("path", path)]))
    return _refusal(iter([("path", path)]))


def _query_refusal(scope: Scope) -> UserCenterError | None:
    query: bytes = scope.get("query_string", b"")
    if b"%00" not in query and b"\x00" not in query:
        return None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return NulCharacter(field=name.replace("\x00", "") or "query")
    return None


def _header_refusal(scope: Scope) -> UserCenterError | None:
    for name, value in scope.get("headers", ()):
        if b"\x00" in value:
            return NulCharacter(field=name.decode("latin-1"))
    return None


_BODY_SUSPECTS = (b"\\u0000", b"\\ud", b"\\uD", b"%00", b"\x00")


def _body_refusal(scope: Scope, body: bytes) -> UserCenterError | None:
    if not any(suspect in body for suspect in _BODY_SUSPECTS):
        return None
    content_type = (_header(scope, b"content-type") or "").split(";", 1)[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        text = body.decode("latin-1")
        return _refusal(
            pair
            for name, value in parse_qsl(text, keep_blank_values=True)
            for pair in ((name, name), (name, value))
        )
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return None  # not JSON: the route answers invalid_json (or 415) itself
    return _refusal(_strings(parsed, ""))


def _request_refusal(scope: Scope) -> UserCenterError | None:
    return _path_refusal(scope) or _query_refusal(scope) or _header_refusal(scope)


class RequestContextMiddleware:
    """Outermost layer: every response carries X-Request-ID, `X-Content-Type-Options: nosniff`
    and (unless the route set its own) `Cache-Control: no-store`, is logged and counted; an
    exception nobody handled becomes a problem+json 500 with the request id."""

    def __init__(self, app: ASGIApp, metrics: Metrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                headers.append(NOSNIFF)
                if not any(name == b"cache-control" for name, _ in headers):
                    headers.append(NO_STORE)
                message = {**message, "headers": headers}
            await send(message)

        try:
            declared = _header(scope, b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
                status = await _send_problem(
                    scope, receive, send_with_id, BodyTooLarge(limit=self.max_body_bytes)
                )
            elif (refusal := _request_refusal(scope)) is not None:
                status = await _send_problem(scope, receive, send_with_id, refusal)
            else:
                await self.app(scope, self._checked(scope, receive), send_with_id)
        except Exception as exc:
            if response_started:
                log.exception("response_failed_midway")
                raise
            if isinstance(exc, BodyTooLargeSignal):
                error: UserCenterError = BodyTooLarge(limit=self.max_body_bytes)
            else:
                log.exception("unhandled_error", method=scope["method"], path=scope["path"])
                error = InternalError(request_id=request_id)
            status = await _send_problem(scope, receive, send_with_id, error)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or UNMATCHED_ROUTE
            self.metrics.observe(scope["method"], route, status, elapsed)
            access_log(
                method=scope["method"],
                route=route,
                path=scope["path"],
                status=status,
                ms=round(elapsed * 1000, 2),
                request_id=request_id,
            )
            structlog.contextvars.unbind_contextvars("request_id")

    def _checked(self, scope: Scope, receive: Receive) -> Receive:
        """A receive that fails once the body passes the cap (for chunked uploads), or when the
        whole body carries a string no database can store."""
        seen = 0
        limit = self.max_body_bytes
        parts: list[bytes] = []

        async def receive_checked() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                seen += len(chunk)
                if seen > limit:
                    raise BodyTooLargeSignal(limit)
                if message.get("more_body", False):
                    parts.append(chunk)
                else:
                    body = b"".join((*parts, chunk)) if parts else chunk
                    refusal = _body_refusal(scope, body)
                    if refusal is not None:
                        raise InputRefusedSignal(refusal)
            return message

        return receive_checked
