"""The FastAPI application: routers, middleware, error handlers and the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from datetime import timedelta

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from usercenter import __version__, admin_ui, docs, health, schema
from usercenter.access import api as access_api
from usercenter.access import events as access_events
from usercenter.access.service.permissions import CHANGES_CHANNEL, PermissionService
from usercenter.access.service.rbac import RbacService
from usercenter.access.service.staff import StaffService
from usercenter.access.service.staff_auth import StaffAuthService
from usercenter.access.service.staff_users import StaffUserService
from usercenter.audit import api as audit_api
from usercenter.config import Settings
from usercenter.db import Database
from usercenter.deps import install_services
from usercenter.errors import install_error_handlers
from usercenter.events import api as events_api
from usercenter.events.metrics import RelayCollector
from usercenter.events.service import Feed, Outbox, Relay
from usercenter.events.service.publisher import AmqpPublisher
from usercenter.events.service.relay import RelayOptions
from usercenter.identity import api as identity_api
from usercenter.identity import events as identity_events
from usercenter.identity.service.accounts import UserAccounts
from usercenter.identity.service.bindings import BindingService
from usercenter.identity.service.codes import CodeService
from usercenter.identity.service.context import IdentityContext
from usercenter.identity.service.extends import ExtendService
from usercenter.identity.service.links import IdentityLinks
from usercenter.identity.service.login import LoginService
from usercenter.identity.service.passwords import PasswordService
from usercenter.identity.service.profile import ProfileService
from usercenter.identity.service.provider_login import ProviderLoginService
from usercenter.identity.service.provider_proofs import ProviderProofs
from usercenter.identity.service.registration import RegistrationService
from usercenter.identity.service.sessions import SessionService
from usercenter.identity.service.user_views import UserViews
from usercenter.ids.service import IdService
from usercenter.kit.broadcast import Broadcast
from usercenter.kit.cache import Cache, Counters, cache_namespace, make_stores
from usercenter.kit.log import get_logger
from usercenter.logs import configure_logging
from usercenter.metrics import Metrics
from usercenter.middleware import RequestContextMiddleware
from usercenter.notify.courier import Courier
from usercenter.notify.factory import make_mail_sender, make_sms_sender, warn_of_console_senders
from usercenter.openapi import install_openapi
from usercenter.platform import api as platform_api
from usercenter.platform.service import ClientApps, Dictionaries, Regions, SystemConfig
from usercenter.platform.service.client_apps import CHANGES_CHANNEL as CLIENT_APPS_CHANNEL
from usercenter.profile import api as profile_api
from usercenter.profile import events as profile_events
from usercenter.profile.service.addresses import AddressService
from usercenter.profile.service.consents import ConsentService, versions_from_settings
from usercenter.profile.service.devices import DeviceService
from usercenter.profile.service.location import LocationService
from usercenter.profile.service.payment_password import PaymentPasswordService
from usercenter.profile.service.payment_tickets import PaymentTickets
from usercenter.profile.service.verification import VerificationService
from usercenter.profile.verification_vendor import IdCardVerifier, TencentIdCardVerifier
from usercenter.providers.registry import ProviderRegistry
from usercenter.security.captcha import CaptchaService
from usercenter.security.keys import load_keyring
from usercenter.security.passwords import PasswordHasher, PasswordPolicy
from usercenter.stats import api as stats_api
from usercenter.stats.service import StatsService
from usercenter.tokens import api as tokens_api
from usercenter.tokens import events as tokens_events
from usercenter.tokens.keys import SigningKeys
from usercenter.tokens.service import TokenService
from usercenter.wallet import api as wallet_api
from usercenter.wallet import events as wallet_events
from usercenter.wallet.ledger import Ledger
from usercenter.wallet.service import (
    AdjustmentService,
    HoldService,
    PayoutService,
    PostingService,
    SponsorService,
    StatementService,
    VipService,
    WalletService,
    WithdrawalService,
)

log = get_logger("usercenter")

CORS_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
# What a browser front end sends: credentials, language, idempotency and the device headers.
CORS_HEADERS = [
    "Authorization",
    "Content-Type",
    "Accept-Language",
    "Idempotency-Key",
    "X-Request-ID",
    "X-Device-Id",
    "X-Device-Name",
    "X-Device-Vendor",
    "X-OS",
    "X-OS-Version",
    "X-Client-Name",
    "X-Client-Version",
    "X-Client-Channel",
]


# Every module's event types, registered when imported: what /asyncapi.json and the feed's
# type filter know. A module that declares events adds its `events` here.
EVENT_MODULES = (identity_events, tokens_events, access_events, wallet_events, profile_events)


def describe_backends(settings: Settings) -> dict[str, str]:
    """Where the service keeps things, passwords hidden: for the first log line and `check`."""
    return {
        "database": settings.database.render_as_string(hide_password=True),
        "cache": "redis" if settings.redis_url else "in-process",
        "broker": "amqp" if settings.broker_url else "none",
    }


@dataclass(slots=True)
class Services:
    """Every long-lived object of one process. Routes receive them one by one as typed
    dependencies (`deps.provided`); the lifespan, the CLI, tests and benches hold them here."""

    settings: Settings
    database: Database
    cache: Cache
    counters: Counters
    outbox: Outbox
    relay: Relay
    feed: Feed
    ids: IdService
    metrics: Metrics
    signing_keys: SigningKeys
    tokens: TokenService
    captcha: CaptchaService
    courier: Courier
    # Identity's users as other modules see them (views): the wallet, access, the CLI, tests.
    identity: UserAccounts
    identity_sessions: SessionService
    codes: CodeService
    registration: RegistrationService
    logins: LoginService
    passwords: PasswordService
    profiles: ProfileService
    # --- extension fields (the values are identity's: GET /v1/me's view shows them) ---
    extends: ExtendService
    client_apps: ClientApps
    dictionaries: Dictionaries
    system_config: SystemConfig
    regions: Regions
    providers: ProviderRegistry
    provider_proofs: ProviderProofs
    provider_logins: ProviderLoginService
    bindings: BindingService
    wallet: WalletService
    wallet_postings: PostingService
    wallet_holds: HoldService
    wallet_sponsors: SponsorService
    wallet_vip: VipService
    wallet_payouts: PayoutService
    wallet_withdrawals: WithdrawalService
    wallet_adjustments: AdjustmentService
    wallet_statements: StatementService
    access: PermissionService
    rbac: RbacService
    staff: StaffService
    staff_auth: StaffAuthService
    staff_users: StaffUserService
    stats: StatsService
    addresses: AddressService
    verifications: VerificationService
    payment_passwords: PaymentPasswordService
    payment_tickets: PaymentTickets
    consents: ConsentService
    devices: DeviceService
    locations: LocationService

    def by_type(self) -> dict[type, object]:
        """Each service under its class, and the stores under their protocols: what
        `deps.provided(Kind)` looks up."""
        values = (getattr(self, f.name) for f in fields(self))
        found: dict[type, object] = {type(value): value for value in values if value is not None}
        found.update({Cache: self.cache, Counters: self.counters})
        return found

    async def start(self) -> None:
        """What a serving process runs beside its requests: the signing keys loaded, the
        configured client apps seeded, the hold sweeper, the access-change listener, the
        statistics rollup and (unless USERCENTER_EVENTS_RELAY=false) the events relay."""
        await self.signing_keys.load()
        await self.client_apps.seed(self.settings.client_apps)
        self.client_apps.start()
        self.wallet.start_hold_sweeper(self.settings.wallet_hold_sweep_seconds)
        self.access.start()
        self.stats.start_rollups()
        if self.settings.events_relay:
            self.relay.start()

    async def close(self) -> None:
        """Stop the background work and close every connection, the database's last."""
        await self.relay.close()
        await self.stats.close()
        await self.access.close()
        await self.client_apps.close()
        await self.courier.close()
        await self.wallet.close()
        await self.providers.close()
        await self.ids.close()
        await self.cache.close()
        await self.counters.close()
        await self.database.dispose()


def relay_options(settings: Settings) -> RelayOptions:
    return RelayOptions(
        source=settings.events_source,
        lease_seconds=settings.events_relay_lease_seconds,
        poll_seconds=settings.events_relay_poll_seconds,
        batch=settings.events_relay_batch,
        retention=timedelta(days=settings.events_retention_days),
        retention_sweep_seconds=settings.events_retention_sweep_seconds,
    )


def make_id_card_verifier(settings: Settings) -> IdCardVerifier | None:
    """The ID two-factor check vendor (Tencent Cloud FaceID) when its credentials are set."""
    if not settings.tencent_secret_id or settings.tencent_secret_key is None:
        return None
    return TencentIdCardVerifier(
        settings.tencent_secret_id,
        settings.tencent_secret_key.get_secret_value(),
        endpoint=settings.faceid_endpoint,
        timeout=settings.verification_vendor_timeout_seconds,
    )


def build_services(settings: Settings) -> Services:
    """Every long-lived object of one process, wired together: the one place that does it, for
    the app and the CLI alike."""
    database = Database.from_settings(settings)
    namespace = cache_namespace(settings.database, settings.cache_namespace)
    cache, counters = make_stores(settings.redis_url, namespace)
    metrics = Metrics(database.pool_status)
    outbox = Outbox(enabled=settings.events_enabled)
    relay = Relay(
        database,
        outbox,
        relay_options(settings),
        AmqpPublisher(
            settings.broker_url,
            settings.events_exchange,
            timeout=settings.events_relay_lease_seconds,
        )
        if settings.broker_url
        else None,
    )
    metrics.registry.register(RelayCollector(relay.counts))
    courier = Courier(on_result=metrics.code_delivered)
    keyring = load_keyring(settings)
    regions = Regions()
    ids = IdService(database, settings)
    # The profile's consents and devices: told of every login and refresh through the
    # protocols of `kit.session_hooks` (identity and tokens do not import the profile).
    consents = ConsentService(versions=versions_from_settings(settings), outbox=outbox)
    devices = DeviceService()
    signing_keys = SigningKeys(
        database,
        keyring.cipher,
        settings.token_algorithm,
        timedelta(seconds=settings.access_token_ttl_seconds),
    )
    tokens = TokenService(
        settings,
        database,
        signing_keys,
        cache,
        keyring.blind_index.derive_key("refresh-token"),
        outbox=outbox,
        client_recorder=devices,
    )
    captcha = CaptchaService(cache, counters=counters)
    passwords = PasswordHasher.from_settings(settings)
    policy = PasswordPolicy.from_settings(settings)
    context = IdentityContext(
        settings=settings,
        keyring=keyring,
        counters=counters,
        ids=ids,
        tokens=tokens,
        views=UserViews(keyring, cache, regions),
        outbox=outbox,
        consents=consents,
    )
    users = UserAccounts(context)
    identity_sessions = SessionService(context)
    client_apps = ClientApps(
        database,
        keyring.cipher,
        Broadcast(settings.redis_url, namespace + CLIENT_APPS_CHANNEL)
        if settings.redis_url
        else None,
    )
    providers = ProviderRegistry(cache)
    provider_proofs = ProviderProofs(
        context,
        apps=client_apps,
        providers=providers,
        counters=counters,
        state_ttl_seconds=settings.oauth_state_ttl_seconds,
    )
    links = IdentityLinks(context)
    codes = CodeService(
        context,
        courier=courier,
        sms=make_sms_sender(settings),
        mail=make_mail_sender(settings),
        captcha=captcha,
    )
    registration = RegistrationService(
        context, accounts=users, sessions=identity_sessions, passwords=passwords, policy=policy
    )
    logins = LoginService(
        context, accounts=users, sessions=identity_sessions, captcha=captcha, passwords=passwords
    )
    password_service = PasswordService(context, passwords=passwords, policy=policy)
    profiles = ProfileService(context, regions=regions)
    extends = ExtendService(context)
    provider_logins = ProviderLoginService(
        context, proofs=provider_proofs, links=links, accounts=users, sessions=identity_sessions
    )
    bindings = BindingService(context, proofs=provider_proofs, links=links)
    verifications = VerificationService(
        settings=settings,
        identity=users,
        cipher=keyring.cipher,
        blind_index=keyring.blind_index,
        outbox=outbox,
        verifier=make_id_card_verifier(settings),
    )
    payment_passwords = PaymentPasswordService(
        context, settings=settings, hasher=passwords, identities=verifications
    )
    wallet = WalletService(
        settings=settings,
        database=database,
        ids=ids,
        ledger=Ledger(
            database,
            batching=settings.wallet_batching,
            max_batch=settings.wallet_batch_max,
            workers=settings.wallet_batch_workers,
            balance_limit=settings.wallet_balance_limit,
            outbox=outbox,
        ),
        identity=users,
        cipher=keyring.cipher,
        blind_index=keyring.blind_index,
    )
    access = PermissionService(
        settings=settings,
        database=database,
        cache=cache,
        broadcast=(
            Broadcast(settings.redis_url, namespace + CHANGES_CHANNEL)
            if settings.redis_url
            else None
        ),
    )
    rbac = RbacService(access, users, outbox=outbox)
    staff = StaffService(
        database=database,
        ids=ids,
        passwords=passwords,
        policy=policy,
        permissions=access,
        rbac=rbac,
        tokens=tokens,
        outbox=outbox,
    )
    staff_auth = StaffAuthService(
        settings=settings,
        staff=staff,
        permissions=access,
        tokens=tokens,
        cipher=keyring.cipher,
        blind_index=keyring.blind_index,
        passwords=passwords,
        outbox=outbox,
        counters=counters,
    )
    return Services(
        settings=settings,
        database=database,
        cache=cache,
        counters=counters,
        outbox=outbox,
        relay=relay,
        feed=Feed(database, relay, source=settings.events_source),
        ids=ids,
        metrics=metrics,
        signing_keys=signing_keys,
        tokens=tokens,
        captcha=captcha,
        courier=courier,
        identity=users,
        identity_sessions=identity_sessions,
        codes=codes,
        registration=registration,
        logins=logins,
        passwords=password_service,
        profiles=profiles,
        extends=extends,
        client_apps=client_apps,
        dictionaries=Dictionaries(),
        system_config=SystemConfig(database),
        regions=regions,
        providers=providers,
        provider_proofs=provider_proofs,
        provider_logins=provider_logins,
        bindings=bindings,
        wallet=wallet,
        wallet_postings=wallet.postings,
        wallet_holds=wallet.holds,
        wallet_sponsors=wallet.sponsors,
        wallet_vip=wallet.vip,
        wallet_payouts=wallet.payouts,
        wallet_withdrawals=wallet.withdrawals,
        wallet_adjustments=wallet.adjustments,
        wallet_statements=wallet.statements,
        access=access,
        rbac=rbac,
        staff=staff,
        staff_auth=staff_auth,
        staff_users=StaffUserService(users, tokens),
        stats=StatsService(
            database=database,
            identity=users,
            statements=wallet.statements,
            rollup_seconds=settings.stats_rollup_seconds,
        ),
        addresses=AddressService(
            identity=users,
            ids=ids,
            regions=regions,
            cipher=keyring.cipher,
            outbox=outbox,
            limit=settings.profile_address_limit,
        ),
        verifications=verifications,
        payment_passwords=payment_passwords,
        payment_tickets=PaymentTickets(database, payment_passwords, settings=settings),
        consents=consents,
        devices=devices,
        locations=LocationService(cipher=keyring.cipher, consents=consents, regions=regions),
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.log_format)
    log.info("usercenter_starting", version=__version__, **describe_backends(settings))
    if not settings.staff_totp_required:
        log.warning(
            "staff_totp_not_required",
            warning="USERCENTER_STAFF_TOTP_REQUIRED=false: staff accounts log in with a password "
            "alone. For a local demo only; never in production.",
        )

    services = build_services(settings)
    warn_of_console_senders(settings)
    database = services.database

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        status = await schema.prepare_schema(database)
        log.info("schema_ready", revision=",".join(status.current))
        await services.start()
        try:
            yield
        finally:
            await services.close()
            log.info("usercenter_stopped")

    app = FastAPI(
        title="usercenter",
        version=__version__,
        summary="Identities, sessions, access, profiles and a wallet ledger for one business.",
        lifespan=lifespan,
        # Served by `docs.router` instead, from local files and counted by their route.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.services = services
    install_services(app, services.by_type())
    install_error_handlers(app)
    if settings.cors_origins:
        # Inside the request-context layer, so preflights are logged and carry its headers.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=CORS_METHODS,
            allow_headers=CORS_HEADERS,
            expose_headers=["X-Request-ID", "Retry-After", "Content-Language"],
            max_age=600,
        )
    app.add_middleware(
        RequestContextMiddleware, metrics=services.metrics, max_body_bytes=settings.max_body_bytes
    )
    # Matched in this order, route by route: the routers of the busiest routes first.
    app.include_router(identity_api.router)
    app.include_router(tokens_api.router)
    app.include_router(audit_api.router)
    app.include_router(wallet_api.router)
    app.include_router(profile_api.router)
    app.include_router(access_api.router)
    app.include_router(platform_api.router)
    app.include_router(stats_api.router)
    app.include_router(events_api.router)
    app.include_router(health.router)
    app.include_router(docs.router)
    app.include_router(admin_ui.router)
    install_openapi(app)
    return app
