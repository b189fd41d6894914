"""Error codes of the platform module."""

from __future__ import annotations

from usercenter.kit.errors import UserCenterError
from usercenter.kit.i18n import Text


class ClientAppMissing(UserCenterError):
    """No client app row has that id (the staff routes name apps by id)."""

    code = "client_app_not_found"
    status = 404
    title = Text("应用不存在", "No such app")
    detail_text = Text("没有编号为 {app_ref} 的应用", "There is no app with id {app_ref}")


class ClientAppTaken(UserCenterError):
    code = "client_app_taken"
    status = 409
    title = Text("该应用已存在", "This app exists already")
    detail_text = Text(
        "{app_type} 应用 {app_id} 已经配置过了", "The {app_type} app {app_id} is set up already"
    )
    default_field = "app_id"


class ClientAppManagedByConfig(UserCenterError):
    code = "client_app_managed_by_config"
    status = 409
    title = Text("该应用由配置文件管理，不能在后台修改", "This app is managed by configuration")
    detail_text = Text(
        "应用 {app_id} 列在 USERCENTER_CLIENT_APPS 中，每次启动都按它重写；请修改该环境变量，"
        "或将其从变量中移除后再在后台编辑",
        "The app {app_id} is listed in USERCENTER_CLIENT_APPS and rewritten from it at every "
        "start: change the variable, or remove the app from it to edit it here",
    )


class DictEntryNotFound(UserCenterError):
    code = "dict_not_found"
    status = 404
    title = Text("字典项不存在", "No such dictionary entry")


class DictCodeTaken(UserCenterError):
    code = "dict_code_taken"
    status = 409
    title = Text("字典编码已存在", "This dictionary code exists already")
    detail_text = Text(
        "字典类型 {dict_type} 中已有编码 {dict_code}",
        "The dictionary type {dict_type} already has the code {dict_code}",
    )
    default_field = "dict_code"


class DictParentNotFound(UserCenterError):
    code = "dict_parent_not_found"
    status = 422
    title = Text("父级字典项不存在", "The parent dictionary entry does not exist")
    default_field = "parent_id"


class DictParentCycle(UserCenterError):
    code = "dict_parent_cycle"
    status = 422
    title = Text(
        "父级不能是该字典项自身或其下级", "The parent may not be the entry itself or below it"
    )
    default_field = "parent_id"


class DictHasChildren(UserCenterError):
    code = "dict_has_children"
    status = 409
    title = Text(
        "该字典项下还有子项，请先删除或移走子项",
        "This entry still has child entries: delete or move them first",
    )


class ConfigNotFound(UserCenterError):
    code = "config_not_found"
    status = 404
    title = Text("配置项不存在", "No such configuration entry")
    detail_text = Text("没有名为 {key} 的配置项", "There is no configuration entry {key}")
    default_field = "key"


class ConfigReadOnly(UserCenterError):
    code = "config_read_only"
    status = 409
    title = Text("该配置项只读，不能在后台修改", "This configuration entry is read-only")
    default_field = "key"


class ConfigValueInvalid(UserCenterError):
    code = "config_value_invalid"
    status = 422
    title = Text("配置值与其类型不符", "The value does not match the entry's type")
    detail_text = Text("{key} 的值须为{expected}", "The value of {key} must be {expected}")
    default_field = "value"


class ConfigValueTooLong(UserCenterError):
    code = "config_value_too_long"
    status = 422
    title = Text("配置值过长", "The value is too long")
    detail_text = Text(
        "配置值不能超过 {limit} 字节（UTF-8）", "The value may not exceed {limit} bytes (UTF-8)"
    )
    default_field = "value"


class RegionInvalid(UserCenterError):
    """A region code that is not a GB/T 2260 county-level division the service knows."""

    code = "region_invalid"
    status = 422
    title = Text("地区编码无效", "The region code is not valid")
    detail_text = Text(
        "{region_code} 不是有效的区县编码（GB/T 2260 六位代码）",
        "{region_code} is not a valid district code (six-digit GB/T 2260 code)",
    )
    default_field = "region_code"


class RegionNotFound(UserCenterError):
    code = "region_not_found"
    status = 404
    title = Text("地区不存在", "No such region")
    detail_text = Text("没有编码为 {region_code} 的地区", "There is no region {region_code}")
    default_field = "parent"
