"""Routes of the tokens module: JWKS, the user's sessions, introspection for gateways."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request, status
from starlette.convertors import StringConvertor, register_url_convertor

from usercenter.config import Settings
from usercenter.deps import ReadSession, WriteSession, basic_client, provided_from
from usercenter.openapi import documents
from usercenter.tokens.auth import CurrentClaims, Keys, Tokens
from usercenter.tokens.errors import IntrospectionUnauthorized
from usercenter.tokens.schemas import JwksOut, RevokedOut, SessionOut

router = APIRouter(tags=["tokens"])

SESSION_ID_PATTERN = "^[0-9a-f]{32}$"


class _SessionIdConvertor(StringConvertor):
    """Only a session id's shape matches `{session_id}`, so no sibling route such as
    `/v1/me/sessions/revoke-others` is taken for a session id whatever the method."""

    regex = SESSION_ID_PATTERN.strip("^$")


register_url_convertor("session_id", _SessionIdConvertor())


@router.get("/.well-known/jwks.json", summary="Public keys that verify access tokens")
async def jwks(keys: Keys) -> JwksOut:
    return JwksOut(**(await keys.jwks()))


@router.get("/v1/me/sessions", summary="The current user's live sessions")
async def list_sessions(
    claims: CurrentClaims, tokens: Tokens, session: ReadSession
) -> list[SessionOut]:
    rows = await tokens.list_sessions(session, claims.user_id)
    return [
        SessionOut(
            id=row.id,
            platform=row.platform,
            login_method=row.login_method,
            device_id=row.device_id,
            device_name=row.device_name,
            os_name=row.os_name,
            os_version=row.os_version,
            client_name=row.client_name,
            client_version=row.client_version,
            ip=row.ip,
            created_at=row.created_at,
            last_active_at=row.last_active_at,
            expires_at=row.expires_at,
            current=row.id == claims.session_id,
        )
        for row in rows
    ]


@router.post("/v1/me/sessions/revoke-others", summary="End every session but this one")
async def revoke_other_sessions(
    claims: CurrentClaims, tokens: Tokens, session: WriteSession
) -> RevokedOut:
    revoked = await tokens.end_sessions(
        session, user_id=claims.user_id, reason="ended_by_user", keep=claims.session_id
    )
    return RevokedOut(revoked=revoked)


@router.delete(
    "/v1/me/sessions/{session_id:session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End one of the current user's sessions",
)
async def end_session(
    session_id: Annotated[str, Path(pattern=SESSION_ID_PATTERN, description="The session's id")],
    claims: CurrentClaims,
    tokens: Tokens,
    session: WriteSession,
) -> None:
    await tokens.end_session(
        session, user_id=claims.user_id, session_id=session_id, reason="ended_by_user"
    )


@documents(IntrospectionUnauthorized, security="introspectionBasic")
async def _introspection_client(request: Request) -> str:
    """A gateway, by its Basic credentials from USERCENTER_INTROSPECTION_CLIENTS."""
    clients = provided_from(request.app, Settings).introspection_clients
    client_id = basic_client(request.headers.get("authorization"), clients)
    if client_id is None:
        raise IntrospectionUnauthorized()
    return client_id


@router.post("/v1/oauth/introspect", summary="RFC 7662 token introspection for gateways")
async def introspect(
    token: Annotated[str, Form(max_length=4096)],
    client_id: Annotated[str, Depends(_introspection_client)],
    tokens: Tokens,
    session: ReadSession,
    token_type_hint: Annotated[str | None, Form(max_length=32)] = None,
) -> dict[str, Any]:
    answer = await tokens.introspect(session, token)
    if answer.get("active"):
        answer["client_id"] = client_id
    return answer
