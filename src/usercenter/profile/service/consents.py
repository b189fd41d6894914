"""Consents (PIPL, seed 002 §6.2): what the user agreed to — the privacy policy and the terms
by version, precise location, marketing messages, real-name processing — and withdrew.

Every grant and every withdrawal is a record of its own (time, platform, client, masked
address) that is never changed; beside them, the current state per kind, locked while it
changes so it is always the last record's. Logins ask `required_consents` (the `ConsentGate`
of `kit.session_hooks`) which policy versions in force the user has still to accept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.audit import service as audit
from usercenter.config import Settings
from usercenter.kit import clock
from usercenter.kit.client import ClientInfo
from usercenter.kit.events import EventSink
from usercenter.kit.session_hooks import RequiredConsent
from usercenter.profile.errors import ConsentVersionInvalid
from usercenter.profile.events import ConsentGranted, ConsentWithdrawn
from usercenter.profile.models import ConsentRecord, ConsentState
from usercenter.profile.repository import consents as repository
from usercenter.profile.repository import location as location_repository
from usercenter.security.masking import mask_ip


class ConsentKind(StrEnum):
    PRIVACY_POLICY = "privacy_policy"
    TERMS = "terms"
    LOCATION = "location"
    MARKETING = "marketing"
    REAL_NAME = "real_name"


# The kinds given to a version of a document; the others are given or not.
POLICY_KINDS = (ConsentKind.PRIVACY_POLICY, ConsentKind.TERMS)


@dataclass(frozen=True, slots=True)
class ConsentView:
    kind: str
    granted: bool
    version: str | None
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class ConsentsView:
    items: list[ConsentView]
    required: list[RequiredConsent]


@dataclass(frozen=True, slots=True)
class ConsentHistoryEntry:
    kind: str
    granted: bool
    version: str | None
    platform: str | None
    client_name: str | None
    client_version: str | None
    ip_masked: str | None
    created_at: datetime


def versions_from_settings(settings: Settings) -> Callable[[], dict[str, str]]:
    """The policy versions in force, from USERCENTER_PROFILE_PRIVACY_POLICY_VERSION and
    USERCENTER_PROFILE_TERMS_VERSION."""

    def current() -> dict[str, str]:
        return {
            ConsentKind.PRIVACY_POLICY: settings.profile_privacy_policy_version,
            ConsentKind.TERMS: settings.profile_terms_version,
        }

    return current


class ConsentService:
    def __init__(self, *, versions: Callable[[], dict[str, str]], outbox: EventSink) -> None:
        """`versions`: the version in force of each policy kind."""
        self.versions = versions
        self.outbox = outbox

    @staticmethod
    def _required(states: list[ConsentState], versions: dict[str, str]) -> list[RequiredConsent]:
        by_kind = {state.kind: state for state in states}
        required = []
        for kind in POLICY_KINDS:
            state = by_kind.get(kind)
            version = versions[kind]
            if state is None or not state.granted or state.version != version:
                required.append(RequiredConsent(kind=kind.value, version=version))
        return required

    async def required_consents(self, session: AsyncSession, user_id: int) -> list[RequiredConsent]:
        """The policy versions in force the user has not accepted (what a login answers)."""
        return self._required(await repository.states_of(session, user_id), self.versions())

    async def consents(self, session: AsyncSession, user_id: int) -> ConsentsView:
        """The current state of each kind the user ever answered, and what is still needed."""
        states = await repository.states_of(session, user_id)
        return ConsentsView(
            items=[
                ConsentView(
                    kind=state.kind,
                    granted=state.granted,
                    version=state.version,
                    changed_at=state.changed_at,
                )
                for state in states
            ],
            required=self._required(states, self.versions()),
        )

    async def history(
        self, session: AsyncSession, user_id: int, *, limit: int = 100
    ) -> list[ConsentHistoryEntry]:
        """The user's grants and withdrawals, newest first."""
        return [
            ConsentHistoryEntry(
                kind=record.kind,
                granted=record.granted,
                version=record.version,
                platform=record.platform,
                client_name=record.client_name,
                client_version=record.client_version,
                ip_masked=record.ip_masked,
                created_at=record.created_at,
            )
            for record in await repository.records_of(session, user_id, limit)
        ]

    async def is_granted(self, session: AsyncSession, user_id: int, kind: ConsentKind) -> bool:
        """Whether the user's consent of `kind` is given now; when it is, read again under a
        lock, so a withdrawal cannot pass the write that depends on it (a row that exists:
        no gap lock)."""
        states = await repository.states_of(session, user_id)
        if not any(state.kind == kind and state.granted for state in states):
            return False
        state = await repository.state_for_update(session, user_id, kind)
        return state is not None and state.granted

    async def set_consent(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        kind: ConsentKind,
        granted: bool,
        version: str | None,
        platform: str | None,
        client: ClientInfo,
    ) -> ConsentView:
        """Grant or withdraw a consent, recorded with its time and client. A policy is granted
        only in the version in force; it may be withdrawn in any. Withdrawing `location`
        erases the stored precise location. Raises ConsentVersionInvalid."""
        if kind in POLICY_KINDS:
            current = self.versions()[kind]
            if granted and version != current:
                raise ConsentVersionInvalid()
        else:
            version = None
        now = clock.now()
        await repository.ensure_state(session, user_id, kind, now)
        state = await repository.state_for_update(session, user_id, kind)
        assert state is not None  # just ensured
        if kind in POLICY_KINDS and not granted:
            version = version or state.version
        # A row just ensured (never answered) has no record: its "withdrawn" is no answer yet.
        answered = await repository.has_records(session, user_id, kind)
        if answered and state.granted == granted and state.version == version:
            return ConsentView(kind, granted, version, state.changed_at)  # nothing changes
        previous = state.granted if answered else None
        state.granted = granted
        state.version = version
        state.changed_at = now
        device = client.device
        await repository.add_record(
            session,
            ConsentRecord(
                user_id=user_id,
                kind=kind.value,
                version=version,
                granted=granted,
                platform=platform,
                client_name=device.client_name,
                client_version=device.client_version,
                ip_masked=mask_ip(client.ip) if client.ip else None,
                created_at=now,
            ),
        )
        event = ConsentGranted if granted else ConsentWithdrawn
        await self.outbox.add(
            session, event(user_id=user_id, kind=kind.value, version=version, platform=platform)
        )
        await audit.record_profile_change(
            session,
            user_id=user_id,
            action="grant" if granted else "withdraw",
            attribute=f"consent.{kind.value}",
            old_value=None if previous is None else ("granted" if previous else "withdrawn"),
            new_value=("granted" if granted else "withdrawn") + (f" v{version}" if version else ""),
            client=client,
        )
        if (
            kind == ConsentKind.LOCATION
            and not granted
            and await location_repository.erase_coordinates(session, user_id)
        ):
            await audit.record_profile_change(
                session,
                user_id=user_id,
                action="erase",
                attribute="location.coordinates",
                old_value="set",
                client=client,
            )
        return ConsentView(kind.value, granted, version, now)
