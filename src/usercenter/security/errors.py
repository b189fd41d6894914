"""Error codes of the security module: weak passwords and image captchas."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from usercenter.kit.errors import UserCenterError
from usercenter.kit.i18n import Language, Text

WeakPasswordReason = Literal["too_short", "too_long", "too_common", "same_as_account"]


class SecurityError(UserCenterError):
    code = "security_error"


class PasswordTooWeak(SecurityError):
    """The password fails the policy; `reason` says which rule, and the detail says it too."""

    code = "password_too_weak"
    status = 422
    title = Text("密码强度不足", "The password is too weak")
    reasons: ClassVar[dict[WeakPasswordReason, Text]] = {
        "too_short": Text(
            "密码至少需要 {min_length} 个字符",
            "The password needs at least {min_length} characters",
        ),
        "too_long": Text(
            "密码不能超过 {max_length} 个字符",
            "The password may not exceed {max_length} characters",
        ),
        "too_common": Text(
            "这个密码太常见，很容易被猜中，请换一个",
            "This password is among the most common ones and easy to guess; choose another",
        ),
        "same_as_account": Text(
            "密码不能与用户名、手机号或邮箱相同",
            "The password may not be the same as your username, phone number or e-mail",
        ),
    }

    default_field = "password"

    def __init__(self, reason: WeakPasswordReason, **params: Any) -> None:
        self.reason = reason
        super().__init__(**params)

    def detail(self, language: Language) -> str:
        return self.reasons[self.reason].render(language, **self.params)


class CaptchaRequired(SecurityError):
    """Raised when a request from an address that looks abusive comes without a captcha."""

    code = "captcha_required"
    status = 403
    title = Text("需要图形验证码", "A captcha is required")
    detail_text = Text(
        "请先获取图形验证码，并连同答案一起提交",
        "Fetch an image captcha and send its id and answer with the request",
    )

    default_field = "captcha"


class CaptchaInvalid(SecurityError):
    """The captcha answer is wrong, or the captcha expired or was already used."""

    code = "captcha_invalid"
    status = 400
    title = Text("图形验证码错误", "Wrong captcha")
    detail_text = Text(
        "图形验证码错误或已失效，请获取新的验证码后重试",
        "The captcha answer is wrong or the captcha has expired; fetch a new one and try again",
    )

    default_field = "captcha"


class DecryptionFailed(Exception):
    """A field ciphertext could not be opened: unknown key id, tampered, or the wrong column.

    Never shown to a client: it means the stored data or the key configuration is wrong.
    """
