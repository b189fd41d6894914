"""Error codes of the profile module. Every message exists whole in zh-CN and in English."""

from __future__ import annotations

from usercenter.kit.errors import UserCenterError
from usercenter.kit.i18n import Text


class ProfileError(UserCenterError):
    code = "profile_error"


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


class RegionInvalid(ProfileError):
    code = "region_invalid"
    status = 422
    title = Text("行政区划代码无效", "The region code is not valid")

    default_field = "region_code"


class LocationEmpty(ProfileError):
    code = "location_empty"
    status = 422
    title = Text("请给出坐标或行政区划代码", "Send coordinates, a region code or both")

    default_field = "latitude"
