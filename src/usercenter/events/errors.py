"""Error codes of the events module."""

from __future__ import annotations

from usercenter.kit.errors import UserCenterError
from usercenter.kit.i18n import Text


class EventCursorExpired(UserCenterError):
    """The feed no longer keeps the events after this cursor: retention deleted them."""

    code = "event_cursor_expired"
    status = 410
    title = Text("事件游标已过期", "This event cursor has expired")
    detail_text = Text(
        "游标 {after} 之后的部分事件已按保留期删除；最早还保留的位置在 {oldest} 之后。"
        "请从 after={oldest} 重新读取，并按需通过接口补齐缺失的数据",
        "Some events after cursor {after} were deleted by retention; what is kept starts "
        "after position {oldest}. Read again from after={oldest} and fetch what you missed "
        "from the API",
    )
    default_field = "after"


class UnknownEventType(UserCenterError):
    code = "event_type_unknown"
    status = 422
    title = Text("没有这种事件类型", "No such event type")
    detail_text = Text("事件类型 {event_type} 不存在", "There is no event type {event_type}")
    default_field = "types"
