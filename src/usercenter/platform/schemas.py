"""API shapes of the platform module: dictionaries, configuration entries and client apps."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from annotated_types import Ge, Le
from pydantic import Field, JsonValue, StrictBool

from usercenter.kit.schemas import Id, Schema
from usercenter.providers.base import AppType

if TYPE_CHECKING:
    from usercenter.platform.models import SysDict
    from usercenter.platform.service.client_apps import ClientAppView
    from usercenter.platform.service.config import ConfigEntry

MAX_INT32 = 2**31 - 1
SortOrder = Annotated[int, Ge(-MAX_INT32), Le(MAX_INT32)]

# PROVINCE_CODE, ORDER_STATUS…: upper-case words joined by underscores.
DICT_TYPE_PATTERN = r"^[A-Z][A-Z0-9_]{0,49}$"
# GD, 110000, wechat.pay, a-b: letters, digits and . _ : - (no spaces), 1 to 50.
DICT_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,49}$"
# wx1234abcd, 2021000123456789, com.example.app: no spaces, 1 to 128.
APP_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"

DictType = Annotated[
    str, Field(pattern=DICT_TYPE_PATTERN, description="Type: PROVINCE_CODE, ORDER_STATUS…")
]
DictCode = Annotated[
    str, Field(pattern=DICT_CODE_PATTERN, description="Code, unique within the type: GD…")
]
Extra = dict[str, JsonValue]


# --- dictionaries ---------------------------------------------------------------------------


class DictCreateIn(Schema):
    dict_type: DictType
    dict_code: DictCode
    dict_name: str = Field(min_length=1, max_length=100, description="Shown name: 广东省")
    dict_value: str | None = Field(default=None, max_length=10_000, description="A value")
    parent_id: Id | None = Field(default=None, description="The parent entry, for a tree")
    extra_data: Extra | None = Field(default=None, description="More attributes, as JSON")
    sort_order: SortOrder = Field(default=0, description="Order within the type")
    is_active: StrictBool = Field(default=True, description="Whether clients are offered it")
    remark: str | None = Field(default=None, max_length=255, description="A note for staff")


class DictUpdateIn(Schema):
    """Every field optional; the type and code never change (other services store them)."""

    dict_name: str | None = Field(default=None, min_length=1, max_length=100)
    dict_value: str | None = Field(default=None, max_length=10_000)
    parent_id: Id | None = Field(default=None, description="null: a top-level entry")
    extra_data: Extra | None = None
    sort_order: SortOrder | None = None
    is_active: StrictBool | None = None
    remark: str | None = Field(default=None, max_length=255)


class DictOut(Schema):
    id: str = Field(description="Entry id")
    dict_type: str = Field(description="Type")
    dict_code: str = Field(description="Code, unique within the type")
    dict_name: str = Field(description="Shown name")
    dict_value: str | None = Field(description="Value")
    parent_id: str | None = Field(description="Parent entry")
    extra_data: dict[str, Any] | None = Field(description="More attributes")
    sort_order: int = Field(description="Order within the type")
    is_active: bool = Field(description="Whether clients are offered it")
    remark: str | None = Field(description="Note for staff")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: SysDict) -> DictOut:
        return cls(
            id=str(row.id),
            dict_type=row.dict_type,
            dict_code=row.dict_code,
            dict_name=row.dict_name,
            dict_value=row.dict_value,
            parent_id=str(row.parent_id) if row.parent_id is not None else None,
            extra_data=row.extra_data,
            sort_order=row.sort_order,
            is_active=row.is_active,
            remark=row.remark,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class DictPage(Schema):
    items: list[DictOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page")


class DictTypeOut(Schema):
    dict_type: str = Field(description="Type")
    entries: int = Field(description="How many entries it has")
    active_entries: int = Field(description="How many of them are active")


# --- configuration --------------------------------------------------------------------------


class ConfigOut(Schema):
    key: str = Field(description="Entry key: site_name…")
    group: str = Field(description="Group: BASIC, REGISTER…")
    value: JsonValue = Field(description="The value, as its type says")
    value_type: Literal["string", "int", "bool", "json"] = Field(description="Value type")
    description: str | None = Field(description="What it is for")
    is_public: bool = Field(description="Clients may read it without a staff token")
    is_editable: bool = Field(description="false: read-only, shown for information")
    updated_by: str | None = Field(description="The staff member who changed it last")
    updated_at: datetime

    @classmethod
    def of(cls, entry: ConfigEntry) -> ConfigOut:
        return cls(
            key=entry.key,
            group=entry.group,
            value=entry.value,
            value_type=entry.value_type,
            description=entry.description,
            is_public=entry.is_public,
            is_editable=entry.is_editable,
            updated_by=str(entry.updated_by) if entry.updated_by is not None else None,
            updated_at=entry.updated_at,
        )


class ConfigPutIn(Schema):
    value: JsonValue = Field(
        description="The new value: a string, an integer, true/false or any JSON, as the "
        "entry's value_type says"
    )


# --- client apps ----------------------------------------------------------------------------


class ClientAppOut(Schema):
    id: str = Field(description="App row id")
    app_type: AppType = Field(description="Provider and kind of app")
    app_id: str = Field(description="The app's id at the provider (AppID)")
    name: str | None = Field(description="Shown name")
    is_active: bool = Field(description="Whether logins through it are accepted")
    secret_set: bool = Field(description="Whether a secret is stored (it is never shown)")
    extra: dict[str, Any] = Field(
        description="Provider settings; secret-looking values (private keys…) shown as ******"
    )
    managed_by: Literal["config", "console"] = Field(
        description="config: listed in USERCENTER_CLIENT_APPS, rewritten at every start and "
        "read-only here; console: managed by staff"
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: ClientAppView) -> ClientAppOut:
        return cls(
            id=str(view.id),
            app_type=AppType(view.app_type),
            app_id=view.app_id,
            name=view.name,
            is_active=view.is_active,
            secret_set=view.secret_set,
            extra=view.extra,
            managed_by=view.managed_by,
            created_at=view.created_at,
            updated_at=view.updated_at,
        )


class ClientAppCreateIn(Schema):
    app_type: AppType = Field(description="Provider and kind of app")
    app_id: str = Field(pattern=APP_ID_PATTERN, description="The app's id at the provider")
    name: str | None = Field(default=None, max_length=100, description="Shown name")
    secret: str = Field(
        default="", max_length=4096, description="AppSecret (write-only; empty: none)"
    )
    extra: Extra = Field(
        default_factory=dict, max_length=50, description="Provider settings (JSON object)"
    )
    is_active: bool = Field(default=True, description="Accept logins through it")


class ClientAppUpdateIn(Schema):
    name: str | None = Field(default=None, max_length=100, description="Shown name")
    is_active: bool | None = Field(default=None, description="Accept logins through it")
    secret: str | None = Field(
        default=None, min_length=1, max_length=4096, description="A new secret (write-only)"
    )
    extra: Extra | None = Field(
        default=None,
        max_length=50,
        description="Merged key by key: a value replaces, null removes, ****** keeps",
    )


# --- regions ----------------------------------------------------------------------------------


class RegionOut(Schema):
    code: str = Field(description="GB/T 2260 six-digit code, e.g. 440106")
    name: str = Field(description="Name in Chinese, e.g. 天河区")


class RegionPage(Schema):
    items: list[RegionOut] = Field(
        description="The provinces (no parent), a province's cities or a city's districts"
    )
