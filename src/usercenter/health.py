"""Liveness, readiness and metrics endpoints for orchestrators and Prometheus.

Anonymous callers learn only whether the process is ready. The checks behind the answer (and
their versions, which help an attacker) and the metrics need `USERCENTER_METRICS_TOKEN` as a
bearer token once it is set; unset, /metrics stays open as scrapers expect.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from usercenter import schema
from usercenter.config import Settings
from usercenter.db import Database
from usercenter.deps import DatabaseDep, SettingsDep, provided
from usercenter.errors import PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE, MetricsUnauthorized
from usercenter.kit.cache import Cache
from usercenter.kit.log import get_logger
from usercenter.metrics import Metrics

log = get_logger("usercenter.health")

router = APIRouter(tags=["operations"])

CHECK_TIMEOUT_SECONDS = 3.0

CacheDep = Annotated[Cache, Depends(provided(Cache))]
MetricsDep = Annotated[Metrics, Depends(provided(Metrics))]


async def _probe(check: Awaitable[str]) -> dict[str, Any]:
    try:
        return {"ok": True, "detail": await asyncio.wait_for(check, CHECK_TIMEOUT_SECONDS)}
    except Exception as exc:  # a failed check is an answer here, not an error
        return {"ok": False, "detail": f"{type(exc).__name__}: {exc}"[:300]}


async def _schema_check(database: Database) -> str:
    status = await schema.schema_status(database)
    if not status.is_at_head:
        raise RuntimeError(status.describe() + "; run `usercenter migrate`")
    return ",".join(status.current)


async def readiness(
    settings: Settings, database: Database, cache: Cache
) -> dict[str, dict[str, Any]]:
    """What a request needs. Not the broker: with it down, events wait in the outbox and
    requests go on (the backlog metric tells; `usercenter check` reaches it)."""
    checks: dict[str, Awaitable[str]] = {
        "database": database.ping(),
        "schema": _schema_check(database),
    }
    if settings.redis_url:
        checks["cache"] = cache.ping()
    results = await asyncio.gather(*(_probe(check) for check in checks.values()))
    return dict(zip(checks, results, strict=True))


@router.get("/healthz", summary="Is the process alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def holds_metrics_token(request: Request, settings: Settings) -> bool:
    """Whether the caller sent `Authorization: Bearer <USERCENTER_METRICS_TOKEN>` (never, unset)."""
    token = settings.metrics_token
    if token is None:
        return False
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        presented.strip().encode(), token.get_secret_value().encode()
    )


@router.get(
    "/readyz",
    summary="Can the process serve: database, schema and cache "
    "(the checks only with the metrics token)",
)
async def readyz(
    request: Request, settings: SettingsDep, database: DatabaseDep, cache: CacheDep
) -> Response:
    checks = await readiness(settings, database, cache)
    shown = {"checks": checks} if holds_metrics_token(request, settings) else {}
    if all(check["ok"] for check in checks.values()):
        return JSONResponse({"status": "ready", **shown})
    failing = ", ".join(name for name, check in checks.items() if not check["ok"])
    log.warning("not_ready", failing=failing, checks=checks)
    body = {
        "type": PROBLEM_TYPE_BASE + "not-ready",
        "title": "Not ready",
        "status": 503,
        "detail": f"failing: {failing}" if shown else "not ready",
        "code": "not_ready",
        **shown,
    }
    return JSONResponse(body, status_code=503, media_type=PROBLEM_CONTENT_TYPE)


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics(request: Request, settings: SettingsDep, counted: MetricsDep) -> Response:
    if settings.metrics_token is not None and not holds_metrics_token(request, settings):
        raise MetricsUnauthorized()
    return Response(generate_latest(counted.registry), media_type=CONTENT_TYPE_LATEST)
