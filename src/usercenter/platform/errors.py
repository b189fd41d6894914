"""Error codes of the platform module."""

from __future__ import annotations

from usercenter.kit.errors import UserCenterError
from usercenter.kit.i18n import Text


class ClientAppNotFound(UserCenterError):
    code = "client_app_not_found"
    status = 404
    title = Text("未配置该应用", "No such app is set up")
    detail_text = Text(
        "没有启用的 {app_type} 应用 {app_id}", "There is no active {app_type} app {app_id}"
    )
    default_field = "app_id"
