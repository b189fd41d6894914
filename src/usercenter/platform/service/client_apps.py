"""Client apps at login providers: seeded from configuration, edited by staff, secrets
encrypted at rest and never shown, read by logins through a short in-process cache.

Who owns an app (`managed_by`): an app listed in USERCENTER_CLIENT_APPS is `config`: every
start rewrites it from the variable, and the staff routes refuse to change it (409
`client_app_managed_by_config`), so an edit in the console is never silently reverted. Every
other app is `console`: added or edited by staff, never touched by the start-up. An app taken
out of the variable is released to the console at the next start (it keeps its last values).

Transactions (the rule is in `usercenter.db`): seeding is start-up work, not a request's, so
each configured app is written in a unit of work of its own (`run_in_transaction`). A staff
edit writes in the route's unit of work; once it commits, this process drops its cache and
tells the others (Redis pub/sub, when configured) to drop theirs; a process that misses the
message reloads within `CACHE_SECONDS` anyway. A read that refills the cache uses a read-only
session of its own, which commits nothing: login providers are asked *before* a route's unit
of work writes anything, and a read in that unit of work would begin it (on SQLite, take the
write lock) while the provider is still asked.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.audit.service import AuditDraft
from usercenter.config import ClientAppSetting
from usercenter.db import Database
from usercenter.kit import clock
from usercenter.kit.broadcast import Broadcast
from usercenter.kit.log import get_logger
from usercenter.platform import repository
from usercenter.platform.errors import (
    ClientAppManagedByConfig,
    ClientAppMissing,
    ClientAppTaken,
)
from usercenter.platform.models import ClientApp
from usercenter.providers.base import AppCredentials, AppType
from usercenter.providers.errors import ClientAppNotFound
from usercenter.security.crypto import FieldCipher

log = get_logger("usercenter.platform")

SECRET_CONTEXT = "platform.client_app.secret"
EXTRA_CONTEXT = "platform.client_app.extra"
CACHE_SECONDS = 30.0
CHANGES_CHANNEL = "platform:client_apps:changed"

MANAGED_BY_CONFIG = "config"
MANAGED_BY_CONSOLE = "console"

# What a secret-looking value of `extra` is shown as; sent back unchanged in an update, it
# keeps the stored value.
MASK = "******"
_SECRET_WORDS = ("secret", "private", "password", "passphrase", "token", "credential")


def is_secret_key(key: str) -> bool:
    """Whether a setting named `key` holds a secret: `app_secret`, `private_key`, `api_key`,
    `mch_key`, `access_token`… (a `…public_key` is not one)."""
    lowered = key.lower()
    if any(word in lowered for word in _SECRET_WORDS):
        return True
    return lowered.endswith("key") and "public" not in lowered


def _looks_secret(value: object) -> bool:
    return isinstance(value, str) and "PRIVATE KEY" in value


def masked_extra(value: Any, key: str = "") -> Any:
    """`extra` as staff see it and the admin log keeps it: secret-looking values masked."""
    if isinstance(value, Mapping):
        return {str(k): masked_extra(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [masked_extra(item, key) for item in value]
    if value is not None and (is_secret_key(key) or _looks_secret(value)):
        return MASK
    return value


def merged_extra(current: dict[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """`current` with `patch` applied key by key (JSON merge patch, one level): a value
    replaces, null removes, the mask keeps what is stored."""
    merged = dict(current)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif value == MASK and key in current:
            continue
        else:
            merged[key] = value
    return merged


def redact_request(audit: AuditDraft) -> None:
    """Mask `extra` in the admin log's copy of the request (its generic masking knows
    `secret`, not `private_key`)."""
    body = audit.request.get("body")
    if isinstance(body, dict) and "extra" in body:
        audit.request["body"] = {**body, "extra": masked_extra(body["extra"])}


@dataclass(frozen=True, slots=True)
class ClientAppView:
    """An app as staff see it: no secret, only whether one is set; `extra` masked."""

    id: int
    app_type: str
    app_id: str
    name: str | None
    is_active: bool
    secret_set: bool
    extra: dict[str, Any]
    managed_by: str
    created_at: datetime
    updated_at: datetime


class ClientApps:
    def __init__(
        self, database: Database, cipher: FieldCipher, broadcast: Broadcast | None = None
    ) -> None:
        self.database = database
        self.cipher = cipher
        self.broadcast = broadcast
        self._apps: list[AppCredentials] = []
        self._loaded_at = 0.0
        self._loaded = False

    # --- start-up and the cache ---------------------------------------------------------------

    async def seed(self, configured: list[ClientAppSetting]) -> None:
        """Write the configured apps as the variable says (they are `config`-managed), each in
        a unit of work of its own; then release to the console the apps no longer listed."""
        listed: set[tuple[str, str]] = set()
        for setting in configured:
            app_type = AppType(setting.app_type)
            listed.add((app_type.value, setting.app_id))

            async def work(session: AsyncSession, setting: ClientAppSetting = setting) -> None:
                app_type = AppType(setting.app_type)
                row = await repository.find_client_app(session, app_type.value, setting.app_id)
                secret = self._encrypt_secret(setting.secret.get_secret_value())
                extra = self._encrypt_extra(setting.extra)
                now = clock.now()
                if row is None:
                    session.add(
                        ClientApp(
                            app_type=app_type.value,
                            app_id=setting.app_id,
                            name=setting.name,
                            secret_encrypted=secret,
                            extra_encrypted=extra,
                            is_active=setting.is_active,
                            managed_by=MANAGED_BY_CONFIG,
                            created_at=now,
                            updated_at=now,
                        )
                    )
                else:
                    row.name = setting.name
                    row.secret_encrypted = secret
                    row.extra_encrypted = extra
                    row.is_active = setting.is_active
                    row.managed_by = MANAGED_BY_CONFIG
                    row.updated_at = now

            await self.database.run_in_transaction(work)

        async def release(session: AsyncSession) -> None:
            for row in await repository.config_managed_client_apps(session):
                if (row.app_type, row.app_id) not in listed:
                    row.managed_by = MANAGED_BY_CONSOLE
                    log.info("client_app_released", app_type=row.app_type, app_id=row.app_id)

        await self.database.run_in_transaction(release)
        self.invalidate()

    def start(self) -> None:
        """Listen for other processes' edits (with Redis): each drops this process's cache."""
        if self.broadcast is not None:
            self.broadcast.listen(lambda _message: self.invalidate())

    async def close(self) -> None:
        if self.broadcast is not None:
            await self.broadcast.close()

    def invalidate(self) -> None:
        """Read the apps again at the next login."""
        self._loaded = False

    async def get(self, app_type: AppType, app_id: str | None = None) -> AppCredentials:
        """The active app of that type (the only one, when `app_id` is not given)."""
        now = clock.monotonic()
        if not self._loaded or now - self._loaded_at > CACHE_SECONDS:
            async with self.database.read_session() as session:
                rows = await repository.active_client_apps(session)
            self._apps = [self._credentials(row) for row in rows]
            self._loaded_at = now
            self._loaded = True
        matches = [
            app
            for app in self._apps
            if app.app_type == app_type and (app_id is None or app.app_id == app_id)
        ]
        if len(matches) != 1:
            raise ClientAppNotFound(app_type=app_type.value, app_id=app_id or "")
        return matches[0]

    # --- staff ------------------------------------------------------------------------------

    async def list_apps(self, session: AsyncSession) -> list[ClientAppView]:
        return [self._view(row) for row in await repository.all_client_apps(session)]

    async def create_app(
        self,
        session: AsyncSession,
        *,
        app_type: AppType,
        app_id: str,
        name: str | None,
        secret: str,
        extra: dict[str, Any],
        is_active: bool,
        audit: AuditDraft,
    ) -> ClientAppView:
        """Add an app staff manage. Raises ClientAppTaken when that (type, app id) exists."""
        redact_request(audit)
        if await repository.find_client_app(session, app_type.value, app_id) is not None:
            raise ClientAppTaken(app_type=app_type.value, app_id=app_id)
        now = clock.now()
        row = ClientApp(
            app_type=app_type.value,
            app_id=app_id,
            name=name,
            secret_encrypted=self._encrypt_secret(secret),
            extra_encrypted=self._encrypt_extra(extra),
            is_active=is_active,
            managed_by=MANAGED_BY_CONSOLE,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        try:
            await session.flush()
        except IntegrityError:  # added by another call since the check
            raise ClientAppTaken(app_type=app_type.value, app_id=app_id) from None
        audit.target("client_app", row.id)
        self._invalidate_after_commit(session)
        return self._view(row)

    async def update_app(
        self, session: AsyncSession, row_id: int, changes: dict[str, Any], audit: AuditDraft
    ) -> ClientAppView:
        """Change `name`, `is_active`, `secret` (write-only) or `extra` (merged key by key).
        Raises ClientAppMissing, ClientAppManagedByConfig."""
        redact_request(audit)
        row = await repository.client_app_by_id(session, row_id)
        if row is None:
            raise ClientAppMissing(app_ref=row_id)
        if row.managed_by == MANAGED_BY_CONFIG:
            raise ClientAppManagedByConfig(app_id=row.app_id)
        if "name" in changes:
            row.name = changes["name"]
        if changes.get("is_active") is not None:
            row.is_active = changes["is_active"]
        if changes.get("secret") is not None:
            row.secret_encrypted = self._encrypt_secret(changes["secret"])
        if changes.get("extra") is not None:
            row.extra_encrypted = self._encrypt_extra(
                merged_extra(self._extra(row), changes["extra"])
            )
        row.updated_at = clock.now()
        await session.flush()
        self._invalidate_after_commit(session)
        return self._view(row)

    def _invalidate_after_commit(self, session: AsyncSession) -> None:
        """Once the staff edit commits: this process reads the apps again, the others are
        told to (a lost message costs them at most CACHE_SECONDS)."""

        def committed(_session: object) -> None:
            self.invalidate()
            if self.broadcast is not None:
                self.broadcast.publish_soon("changed")

        event.listen(session.sync_session, "after_commit", committed, once=True)

    # --- encryption -------------------------------------------------------------------------

    def _encrypt_secret(self, secret: str) -> str:
        return self.cipher.encrypt(secret, context=SECRET_CONTEXT)

    def _encrypt_extra(self, extra: Mapping[str, Any]) -> str:
        return self.cipher.encrypt(json.dumps(extra, ensure_ascii=False), context=EXTRA_CONTEXT)

    def _extra(self, row: ClientApp) -> dict[str, Any]:
        if not row.extra_encrypted:
            return {}
        value = json.loads(self.cipher.decrypt(row.extra_encrypted, context=EXTRA_CONTEXT))
        return value if isinstance(value, dict) else {}

    def _view(self, row: ClientApp) -> ClientAppView:
        return ClientAppView(
            id=row.id,
            app_type=row.app_type,
            app_id=row.app_id,
            name=row.name,
            is_active=row.is_active,
            secret_set=bool(self.cipher.decrypt(row.secret_encrypted, context=SECRET_CONTEXT)),
            extra=masked_extra(self._extra(row)),
            managed_by=row.managed_by,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def _credentials(self, row: ClientApp) -> AppCredentials:
        return AppCredentials(
            app_type=AppType(row.app_type),
            app_id=row.app_id,
            secret=self.cipher.decrypt(row.secret_encrypted, context=SECRET_CONTEXT),
            extra=self._extra(row),
        )
