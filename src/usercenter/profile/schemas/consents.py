"""API shapes of consents."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, StrictBool

from usercenter.kit.schemas import Schema
from usercenter.kit.session_hooks import RequiredConsent
from usercenter.profile.service.consents import (
    ConsentHistoryEntry,
    ConsentKind,
    ConsentsView,
    ConsentView,
)


class ConsentRequiredOut(Schema):
    kind: str = Field(description="privacy_policy or terms")
    version: str = Field(description="The version in force, to accept")

    @classmethod
    def of(cls, required: RequiredConsent) -> ConsentRequiredOut:
        return cls(kind=required.kind, version=required.version)


class ConsentOut(Schema):
    kind: str = Field(description="privacy_policy, terms, location, marketing or real_name")
    granted: bool = Field(description="Given now (false: withdrawn)")
    version: str | None = Field(description="The policy's version (policies only)")
    changed_at: datetime

    @classmethod
    def of(cls, view: ConsentView) -> ConsentOut:
        return cls(
            kind=view.kind, granted=view.granted, version=view.version, changed_at=view.changed_at
        )


class ConsentsOut(Schema):
    items: list[ConsentOut] = Field(description="The current state of each kind answered")
    required: list[ConsentRequiredOut] = Field(
        description="Policy versions in force not accepted yet"
    )

    @classmethod
    def of(cls, view: ConsentsView) -> ConsentsOut:
        return cls(
            items=[ConsentOut.of(item) for item in view.items],
            required=[ConsentRequiredOut.of(item) for item in view.required],
        )


class ConsentChange(Schema):
    kind: ConsentKind
    version: str | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        description="Policies: the version in force (required to grant)",
    )
    granted: StrictBool = Field(description="true: give the consent; false: withdraw it")


class ConsentHistoryOut(Schema):
    kind: str
    granted: bool
    version: str | None
    platform: str | None
    client_name: str | None
    client_version: str | None
    ip_masked: str | None = Field(description="The address it came from, masked (10.1.*.*)")
    created_at: datetime

    @classmethod
    def of(cls, entry: ConsentHistoryEntry) -> ConsentHistoryOut:
        return cls(
            kind=entry.kind,
            granted=entry.granted,
            version=entry.version,
            platform=entry.platform,
            client_name=entry.client_name,
            client_version=entry.client_version,
            ip_masked=entry.ip_masked,
            created_at=entry.created_at,
        )


class ConsentHistoryPage(Schema):
    items: list[ConsentHistoryOut]


class StaffConsentsOut(ConsentsOut):
    history: list[ConsentHistoryOut] = Field(description="Grants and withdrawals, newest first")
