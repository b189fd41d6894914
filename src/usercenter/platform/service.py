"""Client apps at login providers: seeded from configuration, secrets encrypted at rest,
read through a short in-process cache.

Transactions (the rule is in `usercenter.db`): seeding is start-up work, not a request's, so
each configured app is written in a unit of work of its own (`run_in_transaction`). A read
that refills the cache uses a read-only session of its own, which commits nothing: login
providers are asked *before* a route's unit of work writes anything, and a read in that unit
of work would begin it (on SQLite, take the write lock) while the provider is still asked.
"""

from __future__ import annotations

import json

from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.config import ClientAppSetting
from usercenter.db import Database
from usercenter.kit import clock
from usercenter.platform import repository
from usercenter.platform.errors import ClientAppNotFound
from usercenter.platform.models import ClientApp
from usercenter.providers.base import AppCredentials, AppType
from usercenter.security.crypto import FieldCipher

SECRET_CONTEXT = "platform.client_app.secret"
EXTRA_CONTEXT = "platform.client_app.extra"
CACHE_SECONDS = 30.0


class ClientApps:
    def __init__(self, database: Database, cipher: FieldCipher) -> None:
        self.database = database
        self.cipher = cipher
        self._apps: list[AppCredentials] = []
        self._loaded_at = 0.0

    async def seed(self, configured: list[ClientAppSetting]) -> None:
        """Insert or update the configured apps (the table stays the source of truth): at
        start-up, each app in a unit of work of its own."""
        for setting in configured:

            async def work(session: AsyncSession, setting: ClientAppSetting = setting) -> None:
                app_type = AppType(setting.app_type)
                row = await repository.find_client_app(session, app_type.value, setting.app_id)
                secret = self.cipher.encrypt(
                    setting.secret.get_secret_value(), context=SECRET_CONTEXT
                )
                extra = self.cipher.encrypt(json.dumps(setting.extra), context=EXTRA_CONTEXT)
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
                            created_at=now,
                            updated_at=now,
                        )
                    )
                else:
                    row.name = setting.name
                    row.secret_encrypted = secret
                    row.extra_encrypted = extra
                    row.is_active = setting.is_active
                    row.updated_at = now

            await self.database.run_in_transaction(work)
        self._loaded_at = 0.0

    async def get(self, app_type: AppType, app_id: str | None = None) -> AppCredentials:
        """The active app of that type (the only one, when `app_id` is not given)."""
        now = clock.now().timestamp()
        if now - self._loaded_at > CACHE_SECONDS:
            async with self.database.read_session() as session:
                rows = await repository.active_client_apps(session)
            self._apps = [self._credentials(row) for row in rows]
            self._loaded_at = now
        matches = [
            app
            for app in self._apps
            if app.app_type == app_type and (app_id is None or app.app_id == app_id)
        ]
        if len(matches) != 1:
            raise ClientAppNotFound(app_type=app_type.value, app_id=app_id or "")
        return matches[0]

    def _credentials(self, row: ClientApp) -> AppCredentials:
        extra = (
            json.loads(self.cipher.decrypt(row.extra_encrypted, context=EXTRA_CONTEXT))
            if row.extra_encrypted
            else {}
        )
        return AppCredentials(
            app_type=AppType(row.app_type),
            app_id=row.app_id,
            secret=self.cipher.decrypt(row.secret_encrypted, context=SECRET_CONTEXT),
            extra=extra,
        )
