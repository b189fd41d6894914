"""Error codes of the notify module: a code could not be delivered by SMS or e-mail."""

from __future__ import annotations

from typing import Any

from usercenter.kit.errors import UserCenterError
from usercenter.kit.i18n import Text


class NotifyError(UserCenterError):
    """A delivery failed. `provider` and `vendor_code` are for logs, never shown to callers."""

    code = "notify_error"
    status = 503

    def __init__(
        self, *, provider: str | None = None, vendor_code: str | None = None, **kwargs: Any
    ) -> None:
        self.provider = provider
        self.vendor_code = vendor_code
        super().__init__(**kwargs)


class SmsRateLimited(NotifyError):
    code = "sms_rate_limited"
    status = 429
    title = Text("短信发送过于频繁", "Too many text messages")
    detail_text = Text(
        "该号码接收短信过于频繁，请稍后再试",
        "Too many messages were sent to this number; try again later",
    )


class PhoneInvalid(NotifyError):
    code = "phone_invalid"
    status = 422
    title = Text("手机号码无效", "The phone number is not valid")
    detail_text = Text(
        "该手机号码无法接收短信，请检查后重新输入",
        "This number cannot receive text messages; check it and try again",
    )

    default_field = "phone"


class SmsUnavailable(NotifyError):
    code = "sms_unavailable"
    status = 503
    title = Text("短信服务暂不可用", "Text messages are unavailable")
    detail_text = Text(
        "短信暂时无法发送，请稍后重试",
        "The text message could not be sent right now; try again later",
    )


class MailUnavailable(NotifyError):
    code = "mail_unavailable"
    status = 503
    title = Text("邮件服务暂不可用", "E-mail is unavailable")
    detail_text = Text(
        "邮件暂时无法发送，请稍后重试",
        "The e-mail could not be sent right now; try again later",
    )
