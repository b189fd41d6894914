"""Platform tables: the system dictionary (seed 004 §9.1 wdy_sys_dict)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, String, Text, UniqueConstraint
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
