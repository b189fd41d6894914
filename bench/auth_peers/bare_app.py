"""The bare FastAPI peer of bench/auth.py: GET /me does nothing but verify an access token.

It checks what the service's own verification checks, and no more: the `kid` of the header
picks a public key from the service's JWKS, then PyJWT verifies the ES256 signature, the issuer,
the audience, the expiry and that every required claim is there. It answers {"sub": ...}. No
database, no cache, no session state: this is the floor under any authenticated request.

    BENCH_JWKS_FILE   the service's /.well-known/jwks.json, saved to a file (required)
    BENCH_ISSUER      expected `iss` (default usercenter)
    BENCH_AUDIENCE    expected `aud` (default usercenter)

    uvicorn --app-dir bench/auth_peers bare_app:app --workers 2
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jwt
from fastapi import FastAPI, HTTPException, Request

REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "sid", "jti"]


def load_keys(path: Path) -> dict[str, Any]:
    """kid -> public key, for every key of the JWKS file."""
    document = json.loads(path.read_text(encoding="utf-8"))
    keys: dict[str, Any] = {}
    for item in document["keys"]:
        keys[item["kid"]] = jwt.PyJWK(item).key
    return keys


KEYS = load_keys(Path(os.environ["BENCH_JWKS_FILE"]))
ISSUER = os.environ.get("BENCH_ISSUER", "usercenter")
AUDIENCE = os.environ.get("BENCH_AUDIENCE", "usercenter")

app = FastAPI(title="bare token verifier", openapi_url=None, docs_url=None, redoc_url=None)


def unauthorized() -> HTTPException:
    return HTTPException(status_code=401, detail="invalid token")


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def verified_claims(request: Request) -> dict[str, Any]:
    """The claims of the request's bearer token, verified as the service verifies them; 401
    when there is none or it does not verify."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise unauthorized()
    try:
        key = KEYS.get(jwt.get_unverified_header(token).get("kid", ""))
        if key is None:
            raise unauthorized()
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=["ES256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": REQUIRED_CLAIMS},
            leeway=5,
        )
    except jwt.PyJWTError:
        raise unauthorized() from None
    return claims


@app.get("/me")
async def me(request: Request) -> dict[str, str]:
    return {"sub": str(verified_claims(request)["sub"])}
