"""Platform tables: the system dictionary (seed 004 §9.1 wdy_sys_dict), configuration entries
(§9.2 wdy_sys_config) and client apps (§9.6 wdy_wechat_config)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from usercenter.kit.models import Base, BigInt, Timestamps


class SysDict(Timestamps, Base):
    """One entry of an enumeration kept as data, e.g. dict_type PROVINCE_CODE, dict_code GD."""

    __tablename__ = "sys_dict"
    __table_args__ = (UniqueConstraint("dict_type", "dict_code"),)

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    dict_type: Mapped[str] = mapped_column(String(50))
    dict_code: Mapped[str] = mapped_column(String(50))
    dict_name: Mapped[str] = mapped_column(String(100))
    dict_value: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(BigInt, index=True)
    extra_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    sort_order: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)
    remark: Mapped[str | None] = mapped_column(String(255))


class ClientApp(Timestamps, Base):
    """One app of ours at a login provider (seed 004 wdy_wechat_config): its id, its secret
    (encrypted), provider-specific settings, and whether logins through it are accepted."""

    __tablename__ = "client_apps"
    __table_args__ = (UniqueConstraint("app_type", "app_id"),)

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    app_type: Mapped[str] = mapped_column(String(32))
    app_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str | None] = mapped_column(String(100))
    secret_encrypted: Mapped[str] = mapped_column(Text)
    extra_encrypted: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(default=True)
    # `config`: listed in USERCENTER_CLIENT_APPS, rewritten from it at every start and read-only
    # in the console; `console`: added or released to staff, never touched by the start-up.
    managed_by: Mapped[str] = mapped_column(String(16), default="console", server_default="console")


class SysConfig(Timestamps, Base):
    """One configuration entry other modules and clients read (seed 004 §9.2 wdy_sys_config):
    its value as text, read back by its `value_type` (string, int, bool or json)."""

    __tablename__ = "sys_config"
    __table_args__ = (UniqueConstraint("config_key"),)

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    config_group: Mapped[str] = mapped_column(String(50))
    config_key: Mapped[str] = mapped_column(String(100))
    config_value: Mapped[str] = mapped_column(Text)
    value_type: Mapped[str] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(String(255))
    # Whether clients may read it without a staff token (a public route may serve these).
    is_public: Mapped[bool] = mapped_column(default=False)
    # False: set by the migration that added it, shown but not changed in the console.
    is_editable: Mapped[bool] = mapped_column(default=True)
    updated_by: Mapped[int | None] = mapped_column(BigInteger)
