"""FastAPI dependencies every module's routes share: the app's services, the unit of work,
the caller's client and device, and a business service's Basic credentials. Nothing here
knows a domain module: each module declares its own typed service dependency with `provided`
(`Wallet = Annotated[WalletService, Depends(provided(WalletService))]`) and its
authenticators in its `auth.py`."""

from __future__ import annotations

import base64
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Annotated, Any, TypeVar, cast

from fastapi import Depends, Request
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.config import Settings
from usercenter.db import Database
from usercenter.errors import ServiceUnauthorized
from usercenter.kit.client import ClientInfo, Device, client_address
from usercenter.openapi import documents

T = TypeVar("T")


def install_services(app: Any, services: Mapping[type, object]) -> None:
    """Make `services` (one instance per type, built by `build_services`) what `provided`
    hands the routes of `app`."""
    app.state.provided = dict(services)


def provided_from(app: Any, kind: type[T]) -> T:
    """The app's one instance of `kind`, outside a request (the lifespan, tests)."""
    return cast(T, app.state.provided[kind])


def provided(kind: type[T]) -> Callable[[Request], Awaitable[T]]:
    """A dependency handing a route the app's one instance of `kind`."""

    # Dependencies are `async def` even where they do not await: FastAPI runs plain
    # functions in a thread pool, which costs more than the work itself on every request.
    async def dependency(request: Request) -> T:
        return cast(T, request.app.state.provided[kind])

    dependency.__name__ = f"provided_{kind.__name__}"
    return dependency


SettingsDep = Annotated[Settings, Depends(provided(Settings))]
DatabaseDep = Annotated[Database, Depends(provided(Database))]


async def _write_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work, committed before the response is sent."""
    async with provided_from(request.app, Database).unit_of_work() as session:
        yield session


async def _read_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with provided_from(request.app, Database).read_session() as session:
        yield session


WriteSession = Annotated[AsyncSession, Depends(_write_session, scope="function")]
ReadSession = Annotated[AsyncSession, Depends(_read_session, scope="function")]


# Device headers and the lengths they are kept to (longer values are cut, not refused).
_DEVICE_HEADERS = {
    "device_id": ("x-device-id", 128),
    "device_name": ("x-device-name", 64),
    "vendor": ("x-device-vendor", 64),
    "os_name": ("x-os", 32),
    "os_version": ("x-os-version", 32),
    "client_name": ("x-client-name", 64),
    "client_version": ("x-client-version", 32),
    "channel": ("x-client-channel", 32),
}


async def _client_info(request: Request) -> ClientInfo:
    """The caller: address (X-Forwarded-For only from USERCENTER_TRUSTED_PROXIES), user agent
    and the device headers (X-Device-Id, X-Device-Name, X-Device-Vendor, X-OS, X-OS-Version,
    X-Client-Name, X-Client-Version, X-Client-Channel)."""
    headers = request.headers
    device = {
        field: (value[:limit] if (value := headers.get(name)) else None)
        for field, (name, limit) in _DEVICE_HEADERS.items()
    }
    return ClientInfo(
        ip=client_address(
            request.client.host if request.client else None,
            headers.getlist("x-forwarded-for"),
            provided_from(request.app, Settings).trusted_proxies,
        ),
        user_agent=headers.get("user-agent"),
        device=Device(**device),
    )


Client = Annotated[ClientInfo, Depends(_client_info)]


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer …` header, None when there is none."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def basic_client(authorization: str | None, clients: Mapping[str, SecretStr]) -> str | None:
    """The client id of an HTTP Basic `Authorization` header whose secret matches the one
    configured for it (compared in constant time); None otherwise."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    expected = clients.get(client_id)
    if expected is None or not hmac.compare_digest(
        expected.get_secret_value().encode(), secret.encode()
    ):
        return None
    return client_id


@documents(ServiceUnauthorized, security="serviceBasic")
async def _service_caller(request: Request) -> str:
    """A service of the business (orders, payments, the admin console until staff accounts
    exist), by its Basic credentials from USERCENTER_SERVICE_CLIENTS."""
    clients = provided_from(request.app, Settings).service_clients
    client_id = basic_client(request.headers.get("authorization"), clients)
    if client_id is None:
        raise ServiceUnauthorized()
    return client_id


ServiceCaller = Annotated[str, Depends(_service_caller)]
