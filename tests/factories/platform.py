"""Client apps: the vendor apps (WeChat, QQ, Weibo, Alipay, Apple) an app is configured with,
and the Basic credentials a business service calls with."""

from __future__ import annotations

import base64
from typing import Any

from usercenter.providers.stubs import RunningStubs


def client_apps_of(stubs: RunningStubs) -> list[dict[str, Any]]:
    """Every app of the running vendor stubs, as entries of the `client_apps` setting."""
    return [
        {
            "app_type": app.app_type.value,
            "app_id": app.app_id,
            "secret": app.secret,
            "extra": app.extra,
        }
        for app in stubs.apps()
    ]


def basic_auth(credentials: str) -> dict[str, str]:
    """The headers of a service client calling with `name:secret` (as `service_clients`
    lists it)."""
    return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}
