"""Routes of consents: the user's own, and staff's view of a user's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from usercenter.access.auth import StaffActor, StaffWith
from usercenter.deps import Client, ReadSession, WriteSession, provided
from usercenter.kit.schemas import Id
from usercenter.profile.schemas.consents import (
    ConsentChange,
    ConsentHistoryOut,
    ConsentHistoryPage,
    ConsentOut,
    ConsentsOut,
    StaffConsentsOut,
)
from usercenter.profile.service.consents import ConsentService
from usercenter.tokens.auth import CurrentClaims

Consents = Annotated[ConsentService, Depends(provided(ConsentService))]

router = APIRouter(tags=["profile"])


@router.get("/v1/me/consents", summary="The current state of each consent, and what is required")
async def list_consents(
    claims: CurrentClaims, consents: Consents, session: ReadSession
) -> ConsentsOut:
    return ConsentsOut.of(await consents.consents(session, claims.user_id))


@router.post("/v1/me/consents", summary="Give or withdraw a consent (policies: by version)")
async def set_consent(
    body: ConsentChange,
    claims: CurrentClaims,
    consents: Consents,
    session: WriteSession,
    client: Client,
) -> ConsentOut:
    view = await consents.set_consent(
        session,
        user_id=claims.user_id,
        kind=body.kind,
        granted=body.granted,
        version=body.version,
        platform=claims.platform,
        client=client,
    )
    return ConsentOut.of(view)


@router.get("/v1/me/consents/history", summary="Every grant and withdrawal, newest first")
async def consent_history(
    claims: CurrentClaims, consents: Consents, session: ReadSession
) -> ConsentHistoryPage:
    entries = await consents.history(session, claims.user_id)
    return ConsentHistoryPage(items=[ConsentHistoryOut.of(entry) for entry in entries])


@router.get(
    "/v1/admin/users/{user_id}/consents",
    summary="A user's consents now, what is required, and every grant and withdrawal",
)
async def user_consents(
    user_id: Id,
    staff: Annotated[StaffActor, StaffWith("user:view")],
    consents: Consents,
    session: WriteSession,
) -> StaffConsentsOut:
    staff.audit.target("user", user_id)
    view = await consents.consents(session, user_id)
    entries = await consents.history(session, user_id)
    return StaffConsentsOut(
        **ConsentsOut.of(view).model_dump(),
        history=[ConsentHistoryOut.of(entry) for entry in entries],
    )
