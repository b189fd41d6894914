"""Error codes of the profile module. Every message exists whole in zh-CN and in English."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, ClassVar

from usercenter.kit import clock
from usercenter.kit.errors import UserCenterError
from usercenter.kit.i18n import Text, china_time


class ProfileError(UserCenterError):
    code = "profile_error"


# --- addresses ---


class AddressNotFound(ProfileError):
    """No live address of the caller (or of the named user) has that id."""

    code = "address_not_found"
    status = 404
    title = Text("地址不存在", "No such address")
    default_field = "address_id"


class AddressLimitReached(ProfileError):
    code = "address_limit_reached"
    status = 409
    title = Text("收货地址数量已达上限", "Too many addresses")
    detail_text = Text(
        "最多可保存 {limit} 个收货地址，请先删除不用的地址",
        "You can keep at most {limit} addresses: delete one you no longer use first",
    )


class ReceiverPhoneInvalid(ProfileError):
    code = "receiver_phone_invalid"
    status = 422
    title = Text("收货人手机号无效", "The receiver's phone number is not valid")
    detail_text = Text(
        "请填写 11 位中国大陆手机号", "Give an 11-digit mainland China mobile number"
    )
    default_field = "receiver_phone"


class CoordinatesIncomplete(ProfileError):
    code = "coordinates_incomplete"
    status = 422
    title = Text("经纬度须同时填写", "Latitude and longitude go together")
    detail_text = Text(
        "请同时填写纬度和经度，或都不填", "Give both latitude and longitude, or neither"
    )
    default_field = "longitude"


# --- verification ---


class DocumentNumberInvalid(ProfileError):
    """Base of the refusals of a document number; the code says what is wrong with it."""

    status = 422
    default_field = "document_number"


class IdNumberInvalid(DocumentNumberInvalid):
    code = "id_number_invalid"
    title = Text(
        "身份证号码不正确（须为 18 位，校验位正确）",
        "Not a resident ID card number (18 characters with a right check character)",
    )


class IdAreaInvalid(DocumentNumberInvalid):
    code = "id_area_invalid"
    title = Text("身份证号码的地区码不存在", "The ID card number's area code does not exist")


class IdBirthDateInvalid(DocumentNumberInvalid):
    code = "id_birth_date_invalid"
    title = Text(
        "身份证号码中的出生日期不存在（或晚于今天、早于 1900 年）",
        "The ID card number's birth date does not exist (or is in the future, or before 1900)",
    )


class DocumentFormatInvalid(DocumentNumberInvalid):
    code = "document_number_invalid"
    title = Text("证件号码格式不正确", "The document number is not in that document's format")


class RealNameInvalid(ProfileError):
    code = "real_name_invalid"
    status = 422
    default_field = "real_name"
    title = Text(
        "姓名须为 2 到 50 个字符，不含数字和符号",
        "The name must be 2 to 50 characters, without digits or symbols",
    )


class BirthDateNotAllowed(ProfileError):
    code = "birth_date_not_allowed"
    status = 422
    default_field = "birth_date"
    title = Text(
        "身份证的出生日期由号码得出，不能另填",
        "An ID card's birth date comes from its number; it cannot be given",
    )


class IdDocumentTaken(ProfileError):
    """Another user holds this document; which one is never said."""

    code = "id_document_taken"
    status = 409
    default_field = "document_number"
    title = Text("该证件已被其他账号认证", "This document is already verified by another account")


class VerificationPending(ProfileError):
    code = "verification_pending"
    status = 409
    title = Text(
        "实名认证正在审核中，请等待结果", "The verification is under review; wait for the result"
    )


class VerificationApproved(ProfileError):
    code = "verification_already_approved"
    status = 409
    title = Text(
        "实名认证已通过，不能自行修改；如需更正请联系客服",
        "The verification is approved and cannot be changed by you; ask support to correct it",
    )


class VerificationBusy(ProfileError):
    code = "verification_busy"
    status = 409
    title = Text(
        "实名认证正在被另一请求修改，请重试",
        "Another request is changing the verification; try again",
    )


class VerificationNotFound(ProfileError):
    code = "verification_not_found"
    status = 404
    title = Text("实名认证记录不存在", "No such verification")


class VerificationNotPending(ProfileError):
    code = "verification_not_pending"
    status = 409
    title = Text("该实名认证不在待审核状态", "This verification is not waiting for review")


class VerificationVendorUnavailable(ProfileError):
    """The ID check vendor did not answer (down, timed out, an error of ours or theirs):
    nothing was stored, the user's verification is as it was before the call."""

    code = "verification_vendor_unavailable"
    status = 503
    title = Text(
        "身份核验服务暂不可用，请稍后重试（本次提交未保存）",
        "The ID check service is unavailable; try again later (nothing was saved)",
    )
    retry_after_seconds: ClassVar[int] = 30

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(headers={"Retry-After": str(self.retry_after_seconds)}, **kwargs)


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


# --- consents, devices and location ---


class ConsentRequired(ProfileError):
    """The field at fault names what needs the consent (`latitude` for a precise location)."""

    code = "consent_required"
    status = 403
    title = Text(
        "需要先取得您的单独同意（个人信息保护法）",
        "This needs your separate consent first (Personal Information Protection Law)",
    )


class ConsentVersionInvalid(ProfileError):
    code = "consent_version_invalid"
    status = 422
    title = Text("请同意当前版本的协议", "Accept the version of the policy that is in force now")

    default_field = "version"


class CoordinatesInvalid(ProfileError):
    code = "coordinates_invalid"
    status = 422
    title = Text(
        "坐标须同时给出纬度（-90 至 90）和经度（-180 至 180）",
        "Coordinates need both a latitude (-90 to 90) and a longitude (-180 to 180)",
    )

    default_field = "latitude"


class LocationEmpty(ProfileError):
    code = "location_empty"
    status = 422
    title = Text("请给出坐标或行政区划代码", "Send coordinates, a region code or both")

    default_field = "latitude"
