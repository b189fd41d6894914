"""Pure ASGI middleware: request id, access log, metrics, body cap, safe default headers, and the
last-resort 500."""

from __future__ import annotations

import re
import time
import uuid

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from usercenter.errors import (
    BodyTooLarge,
    BodyTooLargeSignal,
    InternalError,
    UserCenterError,
    problem_response,
)
from usercenter.kit.i18n import negotiate_language
from usercenter.logs import access_log, get_logger
from usercenter.metrics import Metrics

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
            else:
                await self.app(scope, self._capped(receive), send_with_id)
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

    def _capped(self, receive: Receive) -> Receive:
        """A receive that fails once the body passes the cap (for chunked uploads)."""
        seen = 0
        limit = self.max_body_bytes

        async def receive_capped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLargeSignal(limit)
            return message

        return receive_capped
