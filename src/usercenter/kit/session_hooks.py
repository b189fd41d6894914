"""What a login or a refresh tells the modules above identity and tokens, without importing
them: the client a session was opened or extended from (`ClientRecorder`, the profile's
devices) and the consents a login still lacks (`ConsentGate`, the profile's consents). The
implementations are wired in `app.build_services`; identity and tokens know only these
protocols."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.kit.client import ClientInfo, Device


@dataclass(frozen=True, slots=True)
class RequiredConsent:
    """A policy the user has not accepted in its current version."""

    kind: str
    version: str


class ConsentGate(Protocol):
    async def required_consents(self, session: AsyncSession, user_id: int) -> list[RequiredConsent]:
        """The current policy versions the user has still to accept (in `session`)."""
        ...


class ClientRecorder(Protocol):
    async def record_login_client(
        self, session: AsyncSession, *, user_id: int, platform: str, client: ClientInfo
    ) -> None:
        """Remember the client of a login (one upsert, in the login's `session`)."""
        ...

    async def record_refresh_client(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        platform: str,
        client: ClientInfo,
        opened_with: Device,
    ) -> None:
        """Remember the client of a refresh, unless it says nothing the session was not
        opened with (`opened_with`, the device its row holds): then nothing is written."""
        ...
