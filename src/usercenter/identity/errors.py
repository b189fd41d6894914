"""Error codes of the identity module."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, ClassVar

from usercenter.kit import clock
from usercenter.kit.errors import UserCenterError
from usercenter.kit.i18n import Language, Text, china_time


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


class UsernameLooksLikePhone(IdentityError):
    code = "username_looks_like_phone"
    status = 422
    title = Text(
        "用户名不能全是数字：登录时会被当作手机号，用它将无法登录",
        "A username may not be all digits: a login of digits is read as a phone number, so it "
        "could never be used to log in",
    )

    default_field = "username"


class IdentityTaken(IdentityError):
    """Says which kind of login is taken (the field), never by whom."""

    code = "identity_taken"
    status = 409
    title = Text("该账号已被其他用户绑定", "This login already belongs to another user")
    _details: ClassVar[dict[str, Text]] = {
        "phone": Text(
            "该手机号已存在，无法绑定", "This phone number already belongs to another account"
        ),
        "email": Text("该邮箱已存在，无法绑定", "This e-mail already belongs to another account"),
        "username": Text("该用户名已被使用", "This username is taken"),
    }

    def detail(self, language: Language) -> str:
        text = self._details.get(
            self.field or "",
            Text("此账号已存在绑定", "This account is already bound to another user"),
        )
        return text.render(language)


class AlreadyBound(IdentityError):
    """The user already has a login of this kind: replacing it is a rebind, with fresh proof."""

    code = "already_bound"
    status = 409
    title = Text(
        "已绑定该类型的账号，请走换绑流程", "A login of this kind is bound already; rebind it"
    )


class LastLoginMethod(IdentityError):
    code = "last_login_method"
    status = 409
    title = Text("不能解绑最后一种登录方式", "The last way to log in cannot be unbound")


class FreshProofRequired(IdentityError):
    code = "fresh_proof_required"
    status = 403
    title = Text("换绑需要验证当前绑定的账号", "Rebinding needs fresh proof of the login bound now")


class NotBound(IdentityError):
    code = "not_bound"
    status = 404
    title = Text("未绑定该登录方式", "No login of this kind is bound")


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
        "密码错误次数过多，请于{unlock_at}后再试，或使用短信验证码登录",
        "Too many wrong passwords; try again after {unlock_at}, or log in with a text code",
    )
    keeps_changes = True

    def __init__(self, until: datetime, **kwargs: Any) -> None:
        self.until = until
        retry = max(1, math.ceil((until - clock.now()).total_seconds()))
        super().__init__(
            unlock_at=china_time(until),
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


class StateInvalid(IdentityError):
    code = "state_invalid"
    status = 400
    title = Text(
        "登录状态已失效，请重新发起登录", "The login state is invalid or used; start again"
    )
    default_field = "state"


# --- extension fields ---


class ExtendKeyUnknown(IdentityError):
    """No such extension key, or a disabled one (the field names it: `extends.<key>`)."""

    code = "extend_key_unknown"
    status = 422
    title = Text("没有这个扩展字段", "There is no such extension field")


class ExtendKeyNotEditable(IdentityError):
    code = "extend_key_not_editable"
    status = 403
    title = Text("该扩展字段不允许用户修改", "This extension field cannot be changed by the user")


class ExtendValueInvalid(IdentityError):
    code = "extend_value_invalid"
    status = 422
    title = Text(
        "扩展字段的值不符合其类型或长度", "The value does not fit the field's type or length"
    )
    detail_text = Text(
        "扩展字段的值不符合要求（类型 {type}，最长 {max_length}）",
        "The value does not fit the field (type {type}, at most {max_length} characters)",
    )


class ExtendKeyTaken(IdentityError):
    code = "extend_key_taken"
    status = 409
    title = Text("该扩展字段已存在", "An extension field with this key exists")
    default_field = "key"


class ExtendKeyNotFound(IdentityError):
    code = "extend_key_not_found"
    status = 404
    title = Text("扩展字段不存在", "No such extension field")
    default_field = "key"


class ExtendOptionsInvalid(IdentityError):
    """An `enum` key without options, options on another type, or options that drop a value
    users hold."""

    code = "extend_options_invalid"
    status = 422
    title = Text(
        "枚举类型须列出选项，其他类型不能有选项",
        "An enum field lists its options; other types have none",
    )
    default_field = "options"
