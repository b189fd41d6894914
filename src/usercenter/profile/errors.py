"""Error codes of the profile module. Every message exists whole in zh-CN and in English."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from usercenter.kit import clock
from usercenter.kit.errors import UserCenterError
from usercenter.kit.i18n import Text, china_time


class ProfileError(UserCenterError):
    code = "profile_error"


# --- payment password ---


class PaymentPasswordInvalid(ProfileError):
    """Not six digits."""

    code = "payment_password_invalid"
    status = 422
    title = Text("支付密码须为 6 位数字", "The payment password must be six digits")
    default_field = "password"


class PaymentPasswordTooSimple(ProfileError):
    """Six digits anyone would guess: one digit repeated, a run, the user's birth date."""

    code = "payment_password_too_simple"
    status = 422
    title = Text("支付密码过于简单", "This payment password is too easy to guess")
    detail_text = Text(
        "支付密码不能是同一数字、连续数字或出生日期",
        "A payment password may not be one digit repeated, a run of digits or a birth date",
    )
    default_field = "password"


class PaymentPasswordNotSet(ProfileError):
    code = "payment_password_not_set"
    status = 409
    title = Text("尚未设置支付密码", "No payment password is set")


class PaymentPasswordAlreadySet(ProfileError):
    code = "payment_password_already_set"
    status = 409
    title = Text(
        "已设置支付密码，请用原密码修改或用短信验证码重置",
        "A payment password is already set: change it with the old one or reset it by SMS",
    )
    default_field = "old_password"


class PaymentPasswordWrong(ProfileError):
    code = "payment_password_wrong"
    status = 403
    title = Text("支付密码错误", "Wrong payment password")
    detail_text = Text(
        "支付密码错误，还可尝试 {remaining} 次",
        "Wrong payment password; {remaining} tries left",
    )
    default_field = "password"
    keeps_changes = True  # the wrong try stays counted

    def __init__(self, remaining: int, **kwargs: Any) -> None:
        self.remaining = remaining
        super().__init__(remaining=remaining, **kwargs)


class PaymentPasswordLocked(ProfileError):
    code = "payment_password_locked"
    status = 423
    title = Text("支付密码已锁定", "The payment password is locked")
    detail_text = Text(
        "支付密码错误次数过多，请于{unlock_at}后再试，或用短信验证码重置",
        "Too many wrong payment passwords; try again after {unlock_at}, or reset it by SMS",
    )
    keeps_changes = True  # the try that locked it stays counted

    def __init__(self, until: datetime, **kwargs: Any) -> None:
        self.until = until
        retry = max(1, math.ceil((until - clock.now()).total_seconds()))
        super().__init__(
            unlock_at=china_time(until),
            headers={"Retry-After": str(retry), "X-Locked-Until": until.isoformat()},
            **kwargs,
        )


class IdNumberMismatch(ProfileError):
    """A reset of a verified user's payment password without the right last six digits of
    the ID number."""

    code = "id_number_mismatch"
    status = 403
    title = Text("身份证号后六位不符", "The last six digits of the ID number do not match")
    default_field = "id_number_last_six"


class PaymentTicketRequired(ProfileError):
    code = "payment_ticket_required"
    status = 403
    title = Text(
        "此操作需先验证支付密码",
        "Verify the payment password first (X-Payment-Ticket header)",
    )
    default_field = "X-Payment-Ticket"


class PaymentTicketInvalid(ProfileError):
    """A ticket that is unknown, another user's, for another action or amount, spent or
    expired (the answer does not say which)."""

    code = "payment_ticket_invalid"
    status = 403
    title = Text(
        "支付凭证无效、已使用或已过期",
        "The payment ticket is not valid for this call, already spent or expired",
    )
    default_field = "X-Payment-Ticket"


class PaymentActionInvalid(ProfileError):
    code = "payment_action_invalid"
    status = 422
    title = Text("不支持的支付操作", "No such payment action")
    default_field = "action"


class PaymentAmountInvalid(ProfileError):
    code = "amount_invalid"
    status = 422
    title = Text("金额无效", "The amount is not valid")
    default_field = "amount"


class PaymentAmountRequired(ProfileError):
    code = "amount_required"
    status = 422
    title = Text("该操作须指定金额", "This action needs the amount it will move")
    default_field = "amount"
