"""Real-name verification over HTTP: the user's, the staff queue and decisions, and the
services' question "is this user a verified adult?"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from usercenter.access.auth import StaffActor, StaffWith
from usercenter.deps import Client, ReadSession, ServiceCaller, WriteSession, provided
from usercenter.kit.pagination import MAX_PAGE_SIZE
from usercenter.kit.schemas import Id
from usercenter.profile.schemas.verification import (
    AdminVerificationDetailOut,
    AdminVerificationOut,
    AdminVerificationPage,
    RejectIn,
    ServiceVerificationOut,
    StaffVerificationChangeIn,
    StatusName,
    VerificationIn,
    VerificationOut,
)
from usercenter.profile.service.verification import (
    StaffContext,
    Submission,
    VerificationService,
)
from usercenter.tokens.auth import CurrentClaims

router = APIRouter()

Verifications = Annotated[VerificationService, Depends(provided(VerificationService))]
Reviewer = Annotated[StaffActor, StaffWith("user:verify:review")]
Cursor = Annotated[str | None, Query(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]


def _submission(body: VerificationIn) -> Submission:
    return Submission(
        real_name=body.real_name,
        document_type=body.document_type,
        document_number=body.document_number,
        photo_front=body.photo_front,
        photo_back=body.photo_back,
        photo_held=body.photo_held,
        birth_date=body.birth_date,
    )


@router.get("/v1/me/verification", summary="My real-name verification (masked)")
async def my_verification(
    claims: CurrentClaims, verifications: Verifications, session: ReadSession
) -> VerificationOut:
    return VerificationOut.of(await verifications.my_verification(session, claims.user_id))


@router.post(
    "/v1/me/verification",
    status_code=status.HTTP_201_CREATED,
    summary="Submit (or, after a rejection, resubmit) my real-name verification",
)
async def submit_verification(
    body: VerificationIn,
    claims: CurrentClaims,
    verifications: Verifications,
    session: WriteSession,
    client: Client,
) -> VerificationOut:
    view = await verifications.submit(session, claims.user_id, _submission(body), client)
    return VerificationOut.of(view)


@router.get(
    "/v1/users/{user_id}/verification",
    summary="Whether a user is verified, and a verified adult (services; never the number)",
)
async def user_verification_for_service(
    user_id: Id, _: ServiceCaller, verifications: Verifications, session: ReadSession
) -> ServiceVerificationOut:
    return ServiceVerificationOut.of(await verifications.for_service(session, user_id))


@router.get("/v1/admin/verifications", summary="The verification queue, newest first (masked)")
async def verification_queue(
    _: Reviewer,
    verifications: Verifications,
    session: WriteSession,
    status: Annotated[StatusName | None, Query(description="pending, approved, rejected")] = None,
    user_id: Annotated[Id | None, Query(description="Only this user's (at most one)")] = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> AdminVerificationPage:
    page = await verifications.queue(
        session, status=status, cursor=cursor, limit=limit, user_id=user_id
    )
    return AdminVerificationPage(
        items=[AdminVerificationOut.of_view(v) for v in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/v1/admin/verifications/{verification_id}",
    summary="A verification with its history; whole only with reveal (user:pii:view, logged)",
)
async def verification_detail(
    verification_id: Id,
    staff: Reviewer,
    verifications: Verifications,
    session: WriteSession,
    reveal: Annotated[
        bool, Query(description="Show the name, number and photo keys (user:pii:view)")
    ] = False,
) -> AdminVerificationDetailOut:
    detail = await verifications.staff_detail(
        session,
        verification_id,
        effective=staff.permissions,
        audit=staff.audit,
        reveal=reveal,
    )
    return AdminVerificationDetailOut.of(detail)


@router.post(
    "/v1/admin/verifications/{verification_id}/approve", summary="Approve a pending verification"
)
async def approve_verification(
    verification_id: Id, staff: Reviewer, verifications: Verifications, session: WriteSession
) -> AdminVerificationOut:
    view = await verifications.approve(
        session, verification_id, StaffContext(staff.id, staff.client)
    )
    return AdminVerificationOut.of_view(view)


@router.post(
    "/v1/admin/verifications/{verification_id}/reject",
    summary="Reject a pending verification, with the reason the user will see",
)
async def reject_verification(
    verification_id: Id,
    body: RejectIn,
    staff: Reviewer,
    verifications: Verifications,
    session: WriteSession,
) -> AdminVerificationOut:
    view = await verifications.reject(
        session, verification_id, body.reason, StaffContext(staff.id, staff.client)
    )
    return AdminVerificationOut.of_view(view)


@router.put(
    "/v1/admin/users/{user_id}/verification",
    summary="Set a user's verification (also once approved), with a reason (logged)",
)
async def change_verification(
    user_id: Id,
    body: StaffVerificationChangeIn,
    staff: Reviewer,
    verifications: Verifications,
    session: WriteSession,
) -> AdminVerificationOut:
    view = await verifications.change_by_staff(
        session, user_id, _submission(body), body.reason, StaffContext(staff.id, staff.client)
    )
    return AdminVerificationOut.of_view(view)
