"""The FastAPI application: routers, middleware, error handlers and the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from usercenter import __version__, health, schema
from usercenter.config import Settings
from usercenter.db import Database
from usercenter.errors import install_error_handlers
from usercenter.ids.service import IdService
from usercenter.kit.broker import BrokerLink
from usercenter.kit.cache import make_cache
from usercenter.logs import configure_logging, get_logger
from usercenter.metrics import Metrics
from usercenter.middleware import RequestContextMiddleware
from usercenter.state import AppState

log = get_logger("usercenter")


def describe_backends(settings: Settings) -> dict[str, str]:
    """Where the service keeps things, passwords hidden: for the first log line and `check`."""
    return {
        "database": settings.database.render_as_string(hide_password=True),
        "cache": "redis" if settings.redis_url else "in-process",
        "broker": "amqp" if settings.broker_url else "none",
    }


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.log_format)
    log.info("usercenter_starting", version=__version__, **describe_backends(settings))

    database = Database.from_settings(settings)
    state = AppState(
        settings=settings,
        database=database,
        cache=make_cache(settings.redis_url),
        broker=BrokerLink(settings.broker_url) if settings.broker_url else None,
        ids=IdService(database, settings),
        metrics=Metrics(database.pool_status),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        status = await schema.prepare_schema(database)
        log.info("schema_ready", revision=",".join(status.current))
        try:
            yield
        finally:
            await state.ids.close()
            await state.cache.close()
            if state.broker is not None:
                await state.broker.close()
            await database.dispose()
            log.info("usercenter_stopped")

    app = FastAPI(
        title="usercenter",
        version=__version__,
        summary="Identities, sessions, access, profiles and a wallet ledger for one business.",
        lifespan=lifespan,
    )
    app.state.usercenter = state
    install_error_handlers(app)
    app.add_middleware(
        RequestContextMiddleware, metrics=state.metrics, max_body_bytes=settings.max_body_bytes
    )
    app.include_router(health.router)
    return app
