"""Error codes of the identity module."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from usercenter.errors import UserCenterError
from usercenter.kit import clock
from usercenter.kit.i18n import Text


class IdentityError(UserCenterError):
    code = "identity_error"


class EmailInvalid(IdentityError):
    code = "email_invalid"
    status = 422
    title = Text("邮箱地址无效", "The e-mail address is not valid")

    default_field = "email"


class UsernameInvalid(IdentityError):
    code = "username_invalid"
    status = 422
    title = Text(
        "用户名须为 4–32 位字母、数字或下划线", "A username is 4–32 letters, digits or underscores"
    )

    default_field = "username"


class IdentityTaken(IdentityError):
    code = "identity_taken"
    status = 409
    title = Text("该账号已被其他用户绑定", "This login already belongs to another user")


class InvalidCredentials(IdentityError):
    """Wrong login or password; says nothing about which, nor whether the account exists."""

    code = "invalid_credentials"
    status = 401
    title = Text("账号或密码错误", "Wrong login or password")
    keeps_changes = True  # the failed-login audit row stands


class AccountLocked(IdentityError):
    code = "account_locked"
    status = 423
    title = Text("密码登录已暂时锁定", "Password login is locked for now")
    detail_text = Text(
        "密码错误次数过多，请于 {unlock_at} 后再试，或使用短信验证码登录",
        "Too many wrong passwords; try again after {unlock_at}, or log in with a text code",
    )
    keeps_changes = True

    def __init__(self, until: datetime, **kwargs: Any) -> None:
        self.until = until
        retry = max(1, int((until - clock.now()).total_seconds()))
        super().__init__(
            unlock_at=until.isoformat(timespec="seconds"),
            headers={"Retry-After": str(retry)},
            **kwargs,
        )


class AccountDisabled(IdentityError):
    code = "account_disabled"
    status = 403
    title = Text("账号已被停用", "This account is disabled")


class RegistrationClosed(IdentityError):
    code = "registration_closed"
    status = 403
    title = Text("暂不开放注册", "Registration is closed")


class CodeInvalid(IdentityError):
    """A one-time code that is wrong, used, expired or out of tries (never says which)."""

    code = "code_invalid"
    status = 400
    title = Text("验证码错误或已失效", "The code is wrong or no longer valid")

    default_field = "code"


class CodeRateLimited(IdentityError):
    code = "sms_rate_limited"
    status = 429
    title = Text("验证码发送过于频繁", "Too many codes sent")
    detail_text = Text("请于 {retry_after} 秒后再试", "Try again in {retry_after} seconds")

    def __init__(self, retry_after: int, **kwargs: Any) -> None:
        super().__init__(
            retry_after=retry_after, headers={"Retry-After": str(retry_after)}, **kwargs
        )


class PasswordRequired(IdentityError):
    code = "password_required"
    status = 422
    title = Text(
        "修改密码需要原密码或短信验证码", "Changing the password needs the old one or a text code"
    )

    default_field = "old_password"


class UserNotFound(IdentityError):
    code = "user_not_found"
    status = 404
    title = Text("用户不存在", "No such user")
