"""Errors as values with stable codes, and the one place that renders them as RFC 9457.

A service raises a `UserCenterError` subclass; `install_error_handlers` turns it — and FastAPI's
own validation errors, 404s and 405s — into `application/problem+json` with a machine `code`,
a `title` and `detail` in the caller's language, and `errors: [{field, code, message}]` for
fields at fault.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from usercenter.kit.errors import FieldError, UserCenterError, ValidationFailed
from usercenter.kit.i18n import Language, Text, negotiate_language
from usercenter.kit.validation_messages import validation_message

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://usercenter.dev/problems/"


class ServiceUnauthorized(UserCenterError):
    code = "service_unauthorized"
    status = 401
    title = Text("调用方服务认证失败", "This route needs a service's credentials")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(headers={"WWW-Authenticate": 'Basic realm="usercenter"'}, **kwargs)


class InvalidJson(UserCenterError):
    code = "invalid_json"
    status = 400
    title = Text("请求体不是合法的 JSON", "The request body is not valid JSON")
    detail_text = Text(
        "请求体第 {position} 个字符处 JSON 解析失败", "JSON parsing failed at character {position}"
    )


class JsonTooDeep(InvalidJson):
    detail_text = Text("请求体 JSON 嵌套过深", "The JSON body is nested too deeply")


class JsonNotUtf8(InvalidJson):
    detail_text = Text("请求体须为 UTF-8 编码的 JSON", "The JSON body must be encoded as UTF-8")


class UnsupportedMediaType(UserCenterError):
    code = "unsupported_media_type"
    status = 415
    title = Text("不支持的请求内容类型", "Unsupported content type")
    detail_text = Text(
        "请求体须为 application/json，收到的是 {received}",
        "The request body must be application/json, got {received}",
    )


class BodyTooLarge(UserCenterError):
    code = "body_too_large"
    status = 413
    title = Text("请求体过大", "The request body is too large")
    detail_text = Text(
        "请求体不能超过 {limit} 字节", "The request body may not exceed {limit} bytes"
    )


class BodyTooLargeSignal(StarletteHTTPException):
    """Raised while reading a body past the cap; FastAPI lets HTTPExceptions through."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413)
        self.limit = limit


class NotFound(UserCenterError):
    code = "not_found"
    status = 404
    title = Text("资源不存在", "Not found")


class MethodNotAllowed(UserCenterError):
    code = "method_not_allowed"
    status = 405
    title = Text("不支持该请求方法", "Method not allowed")


class NulCharacter(ValidationFailed):
    """A string with U+0000 in it: no database stores it as text (PostgreSQL refuses it)."""

    code = "nul_character"
    title = Text("不能包含空字符（U+0000）", "May not contain a NUL character (U+0000)")


class InvalidUnicode(ValidationFailed):
    """A string with a lone surrogate (`\\ud800`): not text, it has no UTF-8 form to store."""

    code = "invalid_unicode"
    title = Text("包含无效的 Unicode 字符", "Contains an invalid Unicode character")


class InputRefusedSignal(StarletteHTTPException):
    """Raised while reading a body that carries a string no database can store (NUL, lone
    surrogates); FastAPI lets HTTPExceptions through to the handler, which answers 422."""

    def __init__(self, error: UserCenterError) -> None:
        super().__init__(status_code=error.status)
        self.error = error


class HttpError(UserCenterError):
    """A Starlette HTTPException with no more specific class; carries its own status."""

    code = "http_error"
    title = Text("请求无法处理", "The request could not be handled")

    def __init__(self, status: int, **kwargs: Any) -> None:
        self.status_code = status
        super().__init__(**kwargs)


class InternalError(UserCenterError):
    code = "internal_error"
    status = 500
    title = Text("服务器内部错误", "Internal server error")
    detail_text = Text(
        "服务器出错了，请稍后重试；如需帮助请提供请求编号 {request_id}",
        "Something went wrong on our side; quote request id {request_id} if you need help",
    )


class ServiceUnavailable(UserCenterError):
    code = "service_unavailable"
    status = 503
    title = Text("服务暂不可用", "Service unavailable")


class MetricsUnauthorized(UserCenterError):
    code = "metrics_unauthorized"
    status = 401
    title = Text("需要监控令牌", "This route needs the metrics token")

    def __init__(self, **kwargs: Any) -> None:
        challenge = 'Bearer realm="usercenter-metrics"'
        super().__init__(headers={"WWW-Authenticate": challenge}, **kwargs)


_LOCATION_ROOTS = {"body", "query", "path", "header", "cookie"}


def _field_name(loc: Sequence[Any]) -> str:
    parts = list(loc)
    if parts and parts[0] in _LOCATION_ROOTS and len(parts) > 1:
        parts = parts[1:]
    return ".".join(str(part) for part in parts) or "body"


def error_from_validation(exc: RequestValidationError, language: Language) -> UserCenterError:
    """FastAPI's validation error as a ValidationFailed (or InvalidJson for a broken body)."""
    raw = list(exc.errors())
    for error in raw:
        if error.get("type") == "json_invalid":
            loc = error.get("loc") or ()
            position = loc[-1] if loc and isinstance(loc[-1], int) else 0
            return InvalidJson(field="body", position=position)
    errors = [
        FieldError(
            _field_name(error.get("loc", ())),
            str(error.get("type")),
            validation_message(error, language),
        )
        for error in raw
    ]
    return ValidationFailed(errors=errors)


def _is_json_media_type(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _unsupported_media_type(
    request: Request, exc: RequestValidationError
) -> UserCenterError | None:
    """A body sent as something other than JSON to a JSON route is a 415, not a field error."""
    content_type = request.headers.get("content-type", "")
    if _is_json_media_type(content_type):
        return None
    if any(tuple(error.get("loc", ())) == ("body",) for error in exc.errors()):
        return UnsupportedMediaType(field="body", received=content_type or "(none)")
    return None


def problem_response(
    error: UserCenterError, language: Language, request_id: str | None = None
) -> Response:
    status = getattr(error, "status_code", error.status)
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + error.code.replace("_", "-"),
        "title": error.title.render(language),
        "status": status,
        "detail": error.detail(language),
        "code": error.code,
    }
    if request_id:
        body["request_id"] = request_id
    field_errors = error.field_errors(language)
    if field_errors:
        body["errors"] = [
            {"field": item.field, "code": item.code, "message": item.message}
            for item in field_errors
        ]
    headers = {"Content-Language": language, **error.headers}
    return Response(
        content=json.dumps(body, ensure_ascii=False),
        status_code=status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers=headers,
    )


def request_language(request: Request) -> Language:
    return negotiate_language(request.headers.get("accept-language"))


def _request_id(request: Request) -> str | None:
    value = request.scope.get("state", {}).get("request_id")
    return str(value) if value else None


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> str:
    """Every method some route answers at this path: Starlette's 405 names only the methods of
    the first route whose path matched (`PUT /v1/me` got `Allow: GET`, not PATCH)."""
    routes = request.app.router.routes

    def answers(method: str) -> bool:
        probe = {**request.scope, "method": method}
        return any(route.matches(probe)[0] is Match.FULL for route in routes)

    return ", ".join(method for method in _METHODS if answers(method))


def install_error_handlers(app: FastAPI) -> None:
    """Route every expected error through `problem_response`."""

    async def on_usercenter_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, UserCenterError)
        return problem_response(exc, request_language(request), _request_id(request))

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        language = request_language(request)
        error = _unsupported_media_type(request, exc) or error_from_validation(exc, language)
        return problem_response(error, language, _request_id(request))

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        error: UserCenterError
        if isinstance(exc, BodyTooLargeSignal):
            error = BodyTooLarge(limit=exc.limit)
        elif isinstance(exc, InputRefusedSignal):
            error = exc.error
        elif exc.status_code == 400 and isinstance(exc.__cause__, RecursionError):
            error = JsonTooDeep(field="body")  # FastAPI's "error parsing the body"
        elif exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
            error = JsonNotUtf8(field="body")
        elif exc.status_code == 404:
            error = NotFound()
        elif exc.status_code == 405:
            headers = dict(exc.headers or {})
            headers["Allow"] = allowed_methods(request) or headers.get("Allow", "")
            error = MethodNotAllowed(headers=headers)
        else:
            error = HttpError(exc.status_code, headers=exc.headers)
        return problem_response(error, request_language(request), _request_id(request))

    app.add_exception_handler(UserCenterError, on_usercenter_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
