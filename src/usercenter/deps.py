"""FastAPI dependencies every module's routes use: the unit of work, the caller, the user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Request
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


async def _client_info(
    request: Request,
    device_id: Annotated[str | None, Header(alias="X-Device-Id", max_length=128)] = None,
    device_name: Annotated[str | None, Header(alias="X-Device-Name", max_length=64)] = None,
    vendor: Annotated[str | None, Header(alias="X-Device-Vendor", max_length=64)] = None,
    os_name: Annotated[str | None, Header(alias="X-OS", max_length=32)] = None,
    os_version: Annotated[str | None, Header(alias="X-OS-Version", max_length=32)] = None,
    client_name: Annotated[str | None, Header(alias="X-Client-Name", max_length=64)] = None,
    client_version: Annotated[str | None, Header(alias="X-Client-Version", max_length=32)] = None,
) -> ClientInfo:
    return ClientInfo(
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
        device=Device(
            device_id=device_id,
            device_name=device_name,
            vendor=vendor,
            os_name=os_name,
            os_version=os_version,
            client_name=client_name,
            client_version=client_version,
        ),
    )


Client = Annotated[ClientInfo, Depends(_client_info)]


async def _current_claims(request: Request) -> AccessClaims:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenMissing()
    return await AppState.of(request).tokens.authenticate(token.strip())


CurrentClaims = Annotated[AccessClaims, Depends(_current_claims)]
