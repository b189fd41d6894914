"""What one running app holds: settings, database, cache, keys, services, metrics."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from usercenter.access.service import AccessService
from usercenter.config import Settings
from usercenter.db import Database
from usercenter.identity.linking import LinkingService
from usercenter.identity.service import IdentityService
from usercenter.ids.service import IdService
from usercenter.kit.broker import BrokerLink
from usercenter.kit.cache import Cache, Counters
from usercenter.metrics import Metrics
from usercenter.platform.service import ClientApps
from usercenter.providers.registry import ProviderRegistry
from usercenter.security.captcha import CaptchaService
from usercenter.tokens.keys import SigningKeys
from usercenter.tokens.service import TokenService
from usercenter.wallet.service import WalletService


@dataclass(slots=True)
class AppState:
    settings: Settings
    database: Database
    cache: Cache
    counters: Counters
    broker: BrokerLink | None
    ids: IdService
    metrics: Metrics
    signing_keys: SigningKeys
    tokens: TokenService
    captcha: CaptchaService
    identity: IdentityService
    client_apps: ClientApps
    providers: ProviderRegistry
    linking: LinkingService
    wallet: WalletService
    access: AccessService

    @staticmethod
    def of(connection: HTTPConnection) -> AppState:
        state: AppState = connection.app.state.usercenter
        return state
