"""Routes of the audit module."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from usercenter.audit import service
from usercenter.audit.schemas import (
    AuthEventOut,
    AuthEventPage,
    ProfileChangeOut,
    ProfileChangePage,
)
from usercenter.deps import ReadSession
from usercenter.kit.pagination import MAX_PAGE_SIZE
from usercenter.tokens.auth import CurrentClaims

router = APIRouter(tags=["audit"])


@router.get("/v1/me/login-history", summary="The current user's logins, newest first")
async def login_history(
    claims: CurrentClaims,
    session: ReadSession,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> AuthEventPage:
    page = await service.login_history(session, claims.user_id, cursor=cursor, limit=limit)
    return AuthEventPage(
        items=[AuthEventOut.of(event) for event in page.items], next_cursor=page.next_cursor
    )


@router.get("/v1/me/changes", summary="The current user's profile changes, newest first")
async def my_changes(
    claims: CurrentClaims,
    session: ReadSession,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    attribute: Annotated[
        str | None,
        Query(max_length=64, description="Only attributes starting with this (`extends.`)"),
    ] = None,
) -> ProfileChangePage:
    page = await service.profile_changes(
        session, claims.user_id, cursor=cursor, limit=limit, attribute=attribute
    )
    return ProfileChangePage(
        items=[ProfileChangeOut.of(change) for change in page.items],
        next_cursor=page.next_cursor,
    )
