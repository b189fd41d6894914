"""The bare FastAPI peer of bench/profile.py: the same token check as bench/auth_peers/bare_app.py,
then the same indexed SELECT the service runs, answered as the rows read (nothing decrypted,
no region names, no masking, no cache).

    GET /addresses     a user's live addresses: user_addresses by (user_id, deleted_at)
    GET /verification  a user's verification row: user_verifications by user_id

    BENCH_JWKS_FILE      the service's /.well-known/jwks.json, saved to a file (required)
    BENCH_DATABASE_URL   the service's database, postgresql+asyncpg://… (required)

    uvicorn --app-dir bench profile_peers.bare_app:app --workers 2
"""

from __future__ import annotations

import os
from typing import Any

from auth_peers.bare_app import verified_claims
from fastapi import FastAPI, Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

engine = create_async_engine(os.environ["BENCH_DATABASE_URL"], pool_size=10, max_overflow=10)
app = FastAPI(title="bare profile reads", openapi_url=None, docs_url=None, redoc_url=None)

ADDRESSES = text(
    "SELECT * FROM user_addresses WHERE user_id = :user_id AND deleted_at IS NULL"
    " ORDER BY is_default DESC, updated_at DESC"
)
VERIFICATION = text("SELECT * FROM user_verifications WHERE user_id = :user_id")


def _plain(row: Any) -> dict[str, Any]:
    return {key: str(value) if value is not None else None for key, value in row.items()}


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/addresses")
async def addresses(request: Request) -> dict[str, Any]:
    user_id = int(verified_claims(request)["sub"])
    async with engine.connect() as connection:
        rows = (await connection.execute(ADDRESSES, {"user_id": user_id})).mappings().all()
    return {"items": [_plain(row) for row in rows]}


@app.get("/verification")
async def verification(request: Request) -> dict[str, Any]:
    user_id = int(verified_claims(request)["sub"])
    async with engine.connect() as connection:
        row = (await connection.execute(VERIFICATION, {"user_id": user_id})).mappings().first()
    return _plain(row) if row is not None else {"status": "none"}
