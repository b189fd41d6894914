"""Error codes of the profile module. Every message exists whole in zh-CN and in English."""

from __future__ import annotations

from usercenter.kit.errors import UserCenterError
from usercenter.kit.i18n import Text


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
