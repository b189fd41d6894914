"""Fixtures for access tests: apps on each database (in-process cache and Redis), and the
credentials of a business service. Staff accounts, roles, grants and users are made by the
factories (tests.factories.access, tests.factories.identity); the names are also importable
from here."""

from __future__ import annotations

from typing import Any

from tests.factories.access import (
    AUTHENTICATORS,
    PASSWORD,
    Authenticator,
    enrol_totp,
    grant,
    make_role,
    make_staff,
    staff_login,
    staff_subject,
    staff_token,
)
from tests.factories.identity import make_user
from tests.factories.platform import basic_auth
from tests.identity.conftest import DEFAULTS, AppFactory, client_for, make_app, state_of

__all__ = [
    "AUTHENTICATORS",
    "DEFAULTS",
    "PASSWORD",
    "AppFactory",
    "Authenticator",
    "client_for",
    "enrol_totp",
    "grant",
    "make_app",
    "make_role",
    "make_staff",
    "make_user",
    "staff_login",
    "staff_subject",
    "staff_token",
    "state_of",
]

SERVICE = basic_auth("orders:orders-secret")
ACCESS_DEFAULTS: dict[str, Any] = {"service_clients": "orders:orders-secret"}
