"""Error codes of the access module."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from usercenter.kit import clock
from usercenter.kit.errors import UserCenterError
from usercenter.kit.i18n import Text, china_time


class AccessError(UserCenterError):
    code = "access_error"


class PermissionDenied(AccessError):
    code = "permission_denied"
    status = 403
    title = Text("没有该操作的权限", "You do not hold the permission this needs")
    detail_text = Text("需要权限 {permission}", "This needs the permission {permission}")


class StaffLoginFailed(AccessError):
    """Wrong username, password or second factor; says nothing about which."""

    code = "invalid_credentials"
    status = 401
    title = Text("账号、密码或动态码错误", "Wrong username, password or one-time code")
    keeps_changes = True  # the failed-login log row stands


class SecondFactorRequired(AccessError):
    code = "totp_required"
    status = 401
    title = Text("需要动态验证码", "A one-time code from the authenticator app is required")
    default_field = "totp_code"
    keeps_changes = True


class StaffLocked(AccessError):
    code = "account_locked"
    status = 423
    title = Text("登录已暂时锁定", "Login is locked for now")
    detail_text = Text("请于{unlock_at}后再试", "Try again after {unlock_at}")
    keeps_changes = True

    def __init__(self, until: datetime, **kwargs: Any) -> None:
        retry = max(1, int((until - clock.now()).total_seconds()))
        super().__init__(
            unlock_at=china_time(until),
            headers={"Retry-After": str(retry)},
            **kwargs,
        )


class TotpAlreadyEnabled(AccessError):
    code = "totp_already_enabled"
    status = 409
    title = Text("动态验证码已启用", "The authenticator is already set up; ask for a reset")


class TotpNotStarted(AccessError):
    code = "totp_not_started"
    status = 409
    title = Text("请先开始绑定动态验证码", "Start the authenticator set-up first")


class TotpCodeInvalid(AccessError):
    code = "totp_code_invalid"
    status = 422
    title = Text("动态验证码错误或已使用", "The one-time code is wrong or was already used")
    default_field = "code"


class StaffNotFound(AccessError):
    code = "staff_not_found"
    status = 404
    title = Text("后台账号不存在", "No such staff account")


class StaffUsernameTaken(AccessError):
    code = "staff_username_taken"
    status = 409
    title = Text("用户名已被使用", "This username is taken")
    default_field = "username"


class RoleNotFound(AccessError):
    code = "role_not_found"
    status = 404
    title = Text("角色不存在", "No such role")


class RoleCodeTaken(AccessError):
    code = "role_code_taken"
    status = 409
    title = Text("角色编码已存在", "A role with this code exists")
    default_field = "code"


class PermissionNotFound(AccessError):
    code = "permission_not_found"
    status = 404
    title = Text("权限不存在", "No such permission")


class PermissionCodeTaken(AccessError):
    code = "permission_code_taken"
    status = 409
    title = Text("权限编码已存在", "A permission with this code exists")
    default_field = "code"


class GrantNotFound(AccessError):
    code = "grant_not_found"
    status = 404
    title = Text("授权不存在", "No such grant")


class GrantExists(AccessError):
    code = "grant_exists"
    status = 409
    title = Text("已有相同授权", "This subject already holds this role in this scope")


class ScopeInvalid(AccessError):
    code = "scope_invalid"
    status = 422
    title = Text("范围须同时给出类型与编号", "A scope needs both its type and its id")
    default_field = "scope_type"


class PrivilegeExceeded(AccessError):
    """A staff member may grant, create, change or remove only what they hold themselves."""

    code = "privilege_exceeded"
    status = 403
    title = Text(
        "不能授予或管理超出自身权限的角色或账号",
        "You may grant or manage only roles and accounts within your own permissions",
    )
    detail_text = Text("你没有以下权限：{missing}", "You do not hold: {missing}")


class RoleAudienceMismatch(AccessError):
    code = "role_audience_mismatch"
    status = 422
    title = Text(
        "后台角色不能授予用户，用户角色也不能授予后台账号",
        "A staff role cannot go to a user, nor a user role to a staff account",
    )
    default_field = "role"


class TotpEnrolmentRequired(AccessError):
    code = "totp_enrolment_required"
    status = 403
    title = Text(
        "请先绑定动态验证码，再重新登录",
        "Set up the authenticator first, then log in again with its code",
    )
    detail_text = Text(
        "本次登录只验证了密码：只能绑定动态验证码、查看本人信息或退出",
        "This session proved only the password: it may set up the authenticator, see its own "
        "account or log out",
    )
