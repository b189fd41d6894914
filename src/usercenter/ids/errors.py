"""Error codes of the ids module."""

from __future__ import annotations

from usercenter.kit.errors import UserCenterError
from usercenter.kit.i18n import Text


class IdsError(UserCenterError):
    code = "ids_error"


class UidSpaceExhausted(IdsError):
    code = "uid_space_exhausted"
    status = 503
    title = Text("用户编号已用尽", "User id space exhausted")
    detail_text = Text(
        "省份 {province} 的用户编号已用尽（上限 {limit}），请扩大编号位数或上限",
        "Province {province} has used up its user ids (limit {limit}); "
        "widen the uid or raise the limit",
    )


class UnknownProvince(IdsError):
    code = "province_unknown"
    status = 422
    title = Text("未知的省份代码", "Unknown province code")
    detail_text = Text("省份代码 {province} 不存在", "There is no province with code {province}")


class UnknownBizType(IdsError):
    code = "biz_type_unknown"
    status = 422
    title = Text("未登记的业务类型", "Unregistered business type")
    detail_text = Text(
        "业务类型 {biz_type} 尚未登记号段", "No id segment is registered for {biz_type}"
    )
