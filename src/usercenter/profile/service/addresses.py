"""Delivery addresses (seed 000 §1.6): saved, changed, deleted (softly) and chosen as the
default by their owner; read whole by their owner and by the business's services (an order
snapshots one), masked by staff unless revealed.

Every change first locks the user's row (`UserAccounts.lock_user_or_raise`): one user's
creates, deletes and set-defaults run one after the other on every engine, so the limit holds
and there is exactly one default whenever there are addresses. The unique index on
`default_owner` backs the single default in the database itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.access.errors import PermissionDenied
from usercenter.access.service.permissions import Effective
from usercenter.audit import service as audit
from usercenter.audit.service import AuditDraft
from usercenter.identity.service.accounts import UserAccounts
from usercenter.ids.service import IdService
from usercenter.kit import clock
from usercenter.kit.client import ClientInfo
from usercenter.kit.events import EventSink
from usercenter.kit.regions import ResolvedRegion
from usercenter.platform.service.regions import Regions
from usercenter.profile.errors import (
    AddressLimitReached,
    AddressNotFound,
    CoordinatesIncomplete,
    ReceiverPhoneInvalid,
)
from usercenter.profile.events import (
    AddressAdded,
    AddressChanged,
    AddressDefaultChanged,
    AddressRemoved,
)
from usercenter.profile.models import UserAddress
from usercenter.profile.repository import addresses as repository
from usercenter.security.crypto import FieldCipher
from usercenter.security.masking import mask_address, mask_name, mask_phone

ADDRESS_ID_SEGMENT = "ADDRESS"
PII_PERMISSION = "user:pii:view"
TABLE = "user_addresses"
# Columns kept only as ciphertext (context `user_addresses.<column>`), by API field.
ENCRYPTED = {
    "receiver_name": "receiver_name_encrypted",
    "receiver_phone": "receiver_phone_encrypted",
    "street": "street_encrypted",
    "detail": "detail_encrypted",
}
PLAIN = ("region_code", "postcode", "latitude", "longitude", "tag")
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")


def normalize_receiver_phone(value: str) -> str:
    """`139 1234 5678`, `+86 139-1234-5678` -> `13912345678`. Raises ReceiverPhoneInvalid."""
    digits = re.sub(r"[\s-]", "", value)
    digits = digits.removeprefix("+86") if digits.startswith("+86") else digits
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if not _MOBILE.match(digits):
        raise ReceiverPhoneInvalid()
    return digits


@dataclass(frozen=True, slots=True)
class AddressView:
    """An address as one reader sees it: whole (the owner, a service, a revealing staff
    member) or masked (`masked()`)."""

    id: int
    user_id: int
    receiver_name: str
    receiver_phone: str
    region: ResolvedRegion
    street: str | None
    detail: str
    postcode: str | None
    latitude: Decimal | None
    longitude: Decimal | None
    tag: str | None
    is_default: bool
    created_at: datetime
    updated_at: datetime

    @property
    def region_code(self) -> str:
        return self.region.code

    def masked(self) -> AddressView:
        return replace(
            self,
            receiver_name=mask_name(self.receiver_name),
            receiver_phone=mask_phone(self.receiver_phone),
            street=mask_address(self.street) if self.street else self.street,
            detail=mask_address(self.detail),
            latitude=None,
            longitude=None,
        )


def _masked_value(field: str, value: Any) -> str | None:
    """How the change log shows one field's value: personal data masked."""
    if value is None:
        return None
    if field == "receiver_name":
        return mask_name(str(value))
    if field == "receiver_phone":
        return mask_phone(str(value))
    if field in {"street", "detail"}:
        return mask_address(str(value))
    if field in {"latitude", "longitude"}:
        return "changed"
    return str(value)[:255]


class AddressService:
    def __init__(
        self,
        *,
        identity: UserAccounts,
        ids: IdService,
        regions: Regions,
        cipher: FieldCipher,
        outbox: EventSink,
        limit: int,
    ) -> None:
        self.identity = identity
        self.ids = ids
        self.regions = regions
        self.cipher = cipher
        self.outbox = outbox
        self.limit = limit

    # --- reading --------------------------------------------------------------------------

    async def list_addresses(self, session: AsyncSession, user_id: int) -> list[AddressView]:
        """The user's live addresses, whole: the default first, then the latest changed."""
        return [self._view(row) for row in await repository.live_addresses(session, user_id)]

    async def address_for_service(
        self, session: AsyncSession, user_id: int, address_id: int | None
    ) -> AddressView:
        """One live address whole (None: the default), for a service that delivers to it.
        Raises UserNotFound, AddressNotFound."""
        await self.identity.get_user_or_raise(session, user_id)
        row = (
            await repository.default_address(session, user_id)
            if address_id is None
            else await repository.live_address(session, user_id, address_id)
        )
        if row is None:
            raise AddressNotFound()
        return self._view(row)

    async def addresses_for_staff(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        effective: Effective,
        audit_draft: AuditDraft,
        reveal: bool,
    ) -> list[AddressView]:
        """A user's live addresses, masked; whole only for a holder of `user:pii:view` who
        asks, and then the admin-log entry says so. Raises PermissionDenied, UserNotFound."""
        if reveal and not effective.allows(PII_PERMISSION):
            raise PermissionDenied(permission=PII_PERMISSION)
        await self.identity.get_user_or_raise(session, user_id)
        views = await self.list_addresses(session, user_id)
        if reveal:
            audit_draft.notes["pii_revealed"] = True
            audit_draft.action = audit.PERSONAL_DATA_VIEWED
            return views
        return [view.masked() for view in views]

    # --- changing -------------------------------------------------------------------------

    async def add_address(
        self, session: AsyncSession, user_id: int, values: dict[str, Any], client: ClientInfo
    ) -> AddressView:
        """Save a new address; the user's first (or one given `is_default`) becomes the
        default. Raises UserNotFound, RegionInvalid, ReceiverPhoneInvalid,
        CoordinatesIncomplete, AddressLimitReached."""
        values = self._checked(values, required=True)
        await self.identity.lock_user_or_raise(session, user_id)
        rows = await repository.live_addresses(session, user_id)
        if len(rows) >= self.limit:
            raise AddressLimitReached(limit=self.limit)
        previous = next((r for r in rows if r.is_default), None)
        make_default = previous is None or bool(values.get("is_default"))
        if previous is not None and make_default:
            previous.is_default = False
            await session.flush()
        now = clock.now()
        row = UserAddress(
            id=await self.ids.next_id(ADDRESS_ID_SEGMENT, session=session),
            user_id=user_id,
            is_default=make_default,
            created_at=now,
            updated_at=now,
        )
        self._apply(row, values)
        await repository.add_address(session, row)
        view = self._view(row)
        await self.outbox.add(session, AddressAdded(**self._snapshot(view)))
        if previous is not None and make_default:
            await self.outbox.add(
                session,
                AddressDefaultChanged(
                    user_id=user_id, address_id=row.id, previous_default_id=previous.id
                ),
            )
        await audit.record_profile_change(
            session,
            user_id=user_id,
            action="add",
            attribute=f"address:{row.id}",
            new_value=self._summary(view),
            client=client,
        )
        return view

    async def update_address(
        self,
        session: AsyncSession,
        user_id: int,
        address_id: int,
        changes: dict[str, Any],
        client: ClientInfo,
    ) -> AddressView:
        """Change the fields given (None clears an optional one). Raises UserNotFound,
        AddressNotFound, RegionInvalid, ReceiverPhoneInvalid, CoordinatesIncomplete."""
        changes = self._checked(changes, required=False)
        await self.identity.lock_user_or_raise(session, user_id)
        row = await self._live_or_raise(session, user_id, address_id)
        before = self._view(row)
        # The pair as it will be: given values over the stored ones; both or neither.
        latitude = changes.get("latitude", before.latitude)
        longitude = changes.get("longitude", before.longitude)
        if (latitude is None) != (longitude is None):
            raise CoordinatesIncomplete(field="latitude" if latitude is None else "longitude")
        changed = sorted(name for name, value in changes.items() if getattr(before, name) != value)
        if not changed:
            return before
        self._apply(row, {name: changes[name] for name in changed})
        row.updated_at = clock.now()
        await session.flush()
        view = self._view(row)
        await self.outbox.add(session, AddressChanged(**self._snapshot(view), fields=changed))
        for name in changed:
            old = getattr(before, name)
            await audit.record_profile_change(
                session,
                user_id=user_id,
                action="update",
                attribute=f"address:{row.id}.{name}"[:64],
                old_value=_masked_value(name, old),
                new_value=_masked_value(name, changes[name]),
                client=client,
            )
        return view

    async def remove_address(
        self, session: AsyncSession, user_id: int, address_id: int, client: ClientInfo
    ) -> None:
        """Delete an address (its row stays, marked deleted). When it was the default, the
        most recently changed of the others becomes the default. Raises UserNotFound,
        AddressNotFound."""
        await self.identity.lock_user_or_raise(session, user_id)
        rows = await repository.live_addresses(session, user_id)
        row = next((r for r in rows if r.id == address_id), None)
        if row is None:
            raise AddressNotFound()
        was_default = row.is_default
        summary = self._summary(self._view(row))
        now = clock.now()
        row.deleted_at = now
        row.is_default = False
        await session.flush()
        promoted = None
        others = [r for r in rows if r.id != address_id]
        if was_default and others:
            promoted = max(others, key=lambda r: (r.updated_at, r.id))
            promoted.is_default = True
            await session.flush()
        await self.outbox.add(
            session,
            AddressRemoved(
                user_id=user_id,
                address_id=address_id,
                was_default=was_default,
                new_default_id=promoted.id if promoted else None,
            ),
        )
        await audit.record_profile_change(
            session,
            user_id=user_id,
            action="remove",
            attribute=f"address:{address_id}",
            old_value=summary,
            client=client,
        )
        if promoted is not None:
            await self._default_changed(session, user_id, promoted.id, address_id, client)

    async def set_default(
        self, session: AsyncSession, user_id: int, address_id: int, client: ClientInfo
    ) -> AddressView:
        """Make an address the default (already the default: nothing changes). Raises
        UserNotFound, AddressNotFound."""
        await self.identity.lock_user_or_raise(session, user_id)
        rows = await repository.live_addresses(session, user_id)
        row = next((r for r in rows if r.id == address_id), None)
        if row is None:
            raise AddressNotFound()
        if row.is_default:
            return self._view(row)
        previous = next((r for r in rows if r.is_default), None)
        if previous is not None:
            # Cleared first, in a statement of its own: the unique index on `default_owner`
            # never sees two defaults, whatever order the engine applies the rows in.
            previous.is_default = False
            await session.flush()
        row.is_default = True
        await session.flush()
        await self._default_changed(
            session, user_id, row.id, previous.id if previous else None, client
        )
        return self._view(row)

    # --- helpers --------------------------------------------------------------------------

    async def _default_changed(
        self,
        session: AsyncSession,
        user_id: int,
        address_id: int,
        previous_id: int | None,
        client: ClientInfo,
    ) -> None:
        await self.outbox.add(
            session,
            AddressDefaultChanged(
                user_id=user_id, address_id=address_id, previous_default_id=previous_id
            ),
        )
        await audit.record_profile_change(
            session,
            user_id=user_id,
            action="default",
            attribute="address:default",
            old_value=str(previous_id) if previous_id else None,
            new_value=str(address_id),
            client=client,
        )

    async def _live_or_raise(
        self, session: AsyncSession, user_id: int, address_id: int
    ) -> UserAddress:
        row = await repository.live_address(session, user_id, address_id)
        if row is None:
            raise AddressNotFound()
        return row

    def _checked(self, values: dict[str, Any], *, required: bool) -> dict[str, Any]:
        """The values normalised and checked beyond their shape: the region resolves to a
        district, the phone is a mainland mobile, coordinates come in pairs."""
        values = dict(values)
        if "region_code" in values:
            self.regions.resolve(values["region_code"], field="region_code")
        if "receiver_phone" in values:
            values["receiver_phone"] = normalize_receiver_phone(values["receiver_phone"])
        if required and (values.get("latitude") is None) != (values.get("longitude") is None):
            missing = "latitude" if values.get("latitude") is None else "longitude"
            raise CoordinatesIncomplete(field=missing)
        return values

    def _apply(self, row: UserAddress, values: dict[str, Any]) -> None:
        for name, column in ENCRYPTED.items():
            if name in values:
                value = values[name]
                setattr(
                    row,
                    column,
                    None
                    if value is None
                    else self.cipher.encrypt(value, context=f"{TABLE}.{name}"),
                )
        for name in PLAIN:
            if name in values:
                setattr(row, name, values[name])

    def _decrypt(self, row: UserAddress, name: str) -> str | None:
        token = getattr(row, ENCRYPTED[name])
        return None if token is None else self.cipher.decrypt(token, context=f"{TABLE}.{name}")

    def _view(self, row: UserAddress) -> AddressView:
        # A code dropped from a newer edition of the data is shown as stored, without names.
        region = self.regions.find(row.region_code) or self.regions.unnamed(row.region_code)
        return AddressView(
            id=row.id,
            user_id=row.user_id,
            receiver_name=self._decrypt(row, "receiver_name") or "",
            receiver_phone=self._decrypt(row, "receiver_phone") or "",
            region=region,
            street=self._decrypt(row, "street"),
            detail=self._decrypt(row, "detail") or "",
            postcode=row.postcode,
            latitude=row.latitude,
            longitude=row.longitude,
            tag=row.tag,
            is_default=bool(row.is_default),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @staticmethod
    def _snapshot(view: AddressView) -> dict[str, Any]:
        """An address as its events carry it: ids, region codes, the receiver masked."""
        return {
            "user_id": view.user_id,
            "address_id": view.id,
            "province_code": view.region.province.code,
            "city_code": view.region.city.code,
            "district_code": view.region.district.code,
            "receiver_name_masked": mask_name(view.receiver_name),
            "receiver_phone_masked": mask_phone(view.receiver_phone),
            "tag": view.tag,
            "is_default": view.is_default,
        }

    @staticmethod
    def _summary(view: AddressView) -> str:
        """An address as the change log shows it, masked: `张* 139****1234 440106 天河路***`."""
        parts = [
            mask_name(view.receiver_name),
            mask_phone(view.receiver_phone),
            view.region.code,
            mask_address(view.detail),
        ]
        return " ".join(parts)[:255]
