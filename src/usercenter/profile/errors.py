"""Error codes of the profile module. Every message exists whole in zh-CN and in English."""

from __future__ import annotations

from usercenter.kit.errors import UserCenterError


class ProfileError(UserCenterError):
    code = "profile_error"
