"""How a route knows its user: a bearer access token, verified by the token service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from usercenter.deps import bearer_token, provided, provided_from
from usercenter.openapi import documents
from usercenter.tokens.access_tokens import AccessClaims
from usercenter.tokens.errors import SessionRevoked, TokenExpired, TokenInvalid, TokenMissing
from usercenter.tokens.keys import SigningKeys
from usercenter.tokens.service import TokenService

Tokens = Annotated[TokenService, Depends(provided(TokenService))]
Keys = Annotated[SigningKeys, Depends(provided(SigningKeys))]

# What a bearer token can be refused for (documented on every route that needs one).
TOKEN_ERRORS = (TokenMissing, TokenInvalid, TokenExpired, SessionRevoked)


def bearer_or_raise(request: Request) -> str:
    """The request's bearer token; TokenMissing without one."""
    token = bearer_token(request)
    if token is None:
        raise TokenMissing()
    return token


@documents(*TOKEN_ERRORS, security="userBearer")
async def current_claims(request: Request) -> AccessClaims:
    """The claims of the user's access token; refused when missing, invalid, expired or its
    session has ended."""
    return await provided_from(request.app, TokenService).authenticate(bearer_or_raise(request))


CurrentClaims = Annotated[AccessClaims, Depends(current_claims)]
