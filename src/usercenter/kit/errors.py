"""The base of every expected error, and the two that kit itself raises.

A service raises a `UserCenterError` subclass with a stable `code`; `usercenter.errors` renders
it as RFC 9457 problem+json. Kept in kit, the floor every module stands on, so that nothing
below the HTTP layer imports the handler.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from usercenter.kit.i18n import Language, Text


@dataclass(frozen=True, slots=True)
class FieldError:
    """One field at fault: where (`phone`, `address.city`), a stable code and a message."""

    field: str
    code: str
    message: str


class UserCenterError(Exception):
    """Base of every expected error. Subclasses set `code`, `status` and `title`."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    title: ClassVar[Text] = Text("请求有误", "Bad request")
    detail_text: ClassVar[Text | None] = None
    # True: what the transaction wrote before this error stands (see Database.unit_of_work).
    keeps_changes: ClassVar[bool] = False
    # The request field this error is usually about, unless the raiser names another.
    default_field: ClassVar[str | None] = None

    def __init__(
        self,
        *,
        field: str | None = None,
        errors: Sequence[FieldError] = (),
        headers: Mapping[str, str] | None = None,
        **params: object,
    ) -> None:
        self.field = field if field is not None else self.default_field
        self.errors = list(errors)
        self.headers = dict(headers or {})
        self.params = params
        super().__init__(self.detail("en"))

    def detail(self, language: Language) -> str:
        if self.detail_text is not None:
            return self.detail_text.render(language, **self.params)
        return self.title.render(language)

    def field_errors(self, language: Language) -> list[FieldError]:
        if self.errors or self.field is None:
            return self.errors
        return [FieldError(self.field, self.code, self.detail(language))]


class ValidationFailed(UserCenterError):
    code = "validation_failed"
    status = 422
    title = Text("请求参数校验失败", "The request did not pass validation")


class CacheUnavailable(UserCenterError):
    """Redis cannot be reached and the call needs it for safety (a lockout, a send limit, a
    one-time code): refused rather than let through unchecked."""

    code = "cache_unavailable"
    status = 503
    title = Text("缓存服务暂不可用，请稍后重试", "The cache is unavailable; try again shortly")
    retry_after_seconds: ClassVar[int] = 5

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(headers={"Retry-After": str(self.retry_after_seconds)}, **kwargs)
