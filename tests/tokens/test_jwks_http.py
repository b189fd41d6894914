"""Another service verifying our access tokens offline, with an independent JOSE library
(joserfc) and the JWKS fetched over real HTTP from a running `usercenter serve`."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from joserfc import jwt as jose_jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet


def test_access_token_verifies_against_the_published_jwks(workdir: Path, serve: object) -> None:
    url, _ = serve()  # type: ignore[operator]
    registered = httpx.post(
        f"{url}/v1/auth/register",
        json={"username": "jwks_reader", "password": "correct horse 42", "platform": "WEB"},
    )
    assert registered.status_code == 201, registered.text
    access = registered.json()["access_token"]

    keys = KeySet.import_key_set(httpx.get(f"{url}/.well-known/jwks.json").json())
    token = jose_jwt.decode(access, keys, algorithms=["ES256"])
    registry = jose_jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": "usercenter"},
        aud={"essential": True, "value": "usercenter"},
        sub={"essential": True, "value": registered.json()["user"]["id"]},
        exp={"essential": True},
    )
    registry.validate(token.claims)
    assert token.claims["uid"] == registered.json()["user"]["uid"]
    assert token.header["alg"] == "ES256"

    head, body, signature = access.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    with pytest.raises(BadSignatureError):
        jose_jwt.decode(f"{head}.{body}.{flipped}", keys, algorithms=["ES256"])
