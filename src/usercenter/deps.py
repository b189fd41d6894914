"""FastAPI dependencies every module's routes use: the unit of work, the caller, the user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.kit.client import ClientInfo, Device
from usercenter.state import AppState
from usercenter.tokens.errors import TokenMissing
from usercenter.tokens.service import AccessClaims


# Dependencies are `async def` even where they do not await: FastAPI runs plain functions in
# a thread pool, which costs more than the work itself on every request.
async def app_state(request: Request) -> AppState:
    return AppState.of(request)


State = Annotated[AppState, Depends(app_state)]


async def _write_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work, committed before the response is sent."""
    async with AppState.of(request).database.unit_of_work() as session:
        yield session


async def _read_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with AppState.of(request).database.read_session() as session:
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
}


async def _client_info(request: Request) -> ClientInfo:
    """The caller: address, user agent and the device headers (X-Device-Id, X-Device-Name,
    X-Device-Vendor, X-OS, X-OS-Version, X-Client-Name, X-Client-Version)."""
    headers = request.headers
    device = {
        field: (value[:limit] if (value := headers.get(name)) else None)
        for field, (name, limit) in _DEVICE_HEADERS.items()
    }
    return ClientInfo(
        ip=request.client.host if request.client else None,
        user_agent=headers.get("user-agent"),
        device=Device(**device),
    )


Client = Annotated[ClientInfo, Depends(_client_info)]


async def _current_claims(request: Request) -> AccessClaims:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenMissing()
    return await AppState.of(request).tokens.authenticate(token.strip())


CurrentClaims = Annotated[AccessClaims, Depends(_current_claims)]


@dataclass(frozen=True, slots=True)
class Caller:
    """The caller's claims and the app's state, from one dependency."""

    claims: AccessClaims
    state: AppState


async def _caller(request: Request) -> Caller:
    return Caller(claims=await _current_claims(request), state=AppState.of(request))


# For the busiest routes: each dependency FastAPI solves costs about a fifth of a cached
# GET /v1/me, so `Authenticated` does the work of `CurrentClaims` and `State` in one.
Authenticated = Annotated[Caller, Depends(_caller)]
