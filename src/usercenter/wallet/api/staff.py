"""The staff's wallet routes (`/v1/admin/wallet/…`, with a staff token holding the route's
permission; logged): balances and entries, sponsors, adjustments, withdrawals, reconciliation."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from usercenter.access.auth import StaffActor, StaffWith
from usercenter.deps import WriteSession
from usercenter.kit.schemas import Id, optional_body
from usercenter.wallet.api.common import (
    Adjustments,
    AssetFilter,
    Cursor,
    KindFilter,
    Limit,
    Sponsors,
    StaffViewer,
    Statements,
    Withdrawals,
    wallet_of,
)
from usercenter.wallet.schemas import (
    AdjustmentIn,
    AdjustmentOut,
    AdminWithdrawalOut,
    DecisionIn,
    EntryOut,
    EntryPage,
    ReconciliationOut,
    SettleIn,
    SponsorIn,
    SponsorOut,
    SponsorPage,
    SponsorStatusIn,
    WalletOut,
    WithdrawalOut,
    WithdrawalPage,
)
from usercenter.wallet.service import (
    WithdrawalService,
)

router = APIRouter(tags=["wallet"])


@router.get("/v1/admin/wallet/users/{user_id}", summary="A user's balances")
async def staff_user_wallet(
    user_id: Id, _: Annotated[StaffActor, StaffWith("wallet:view")], statements: Statements
) -> WalletOut:
    return await wallet_of(statements, user_id)


@router.get("/v1/admin/wallet/users/{user_id}/entries", summary="A user's entries, newest first")
async def staff_user_entries(
    user_id: Id,
    _: StaffViewer,
    statements: Statements,
    asset: AssetFilter = None,
    kind: KindFilter = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> EntryPage:
    page = await statements.user_entries(
        user_id, asset=asset, kind=kind, cursor=cursor, limit=limit
    )
    return EntryPage(items=[EntryOut.of(e) for e in page.items], next_cursor=page.next_cursor)


@router.get("/v1/admin/wallet/sponsors", summary="Sponsor accounts with balances, newest first")
async def list_sponsors(
    _: StaffViewer,
    sponsors: Sponsors,
    status_filter: Annotated[
        Literal["ACTIVE", "SUSPENDED", "CLOSED"] | None, Query(alias="status")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> SponsorPage:
    page = await sponsors.sponsors(status=status_filter, cursor=cursor, limit=limit)
    return SponsorPage(
        items=[SponsorOut.of(*item) for item in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/v1/admin/wallet/sponsors/{sponsor_id}/entries", summary="A sponsor's entries, newest first"
)
async def staff_sponsor_entries(
    sponsor_id: Id,
    _: StaffViewer,
    statements: Statements,
    asset: AssetFilter = None,
    kind: KindFilter = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> EntryPage:
    page = await statements.sponsor_entries(
        sponsor_id, asset=asset, kind=kind, cursor=cursor, limit=limit
    )
    return EntryPage(items=[EntryOut.of(e) for e in page.items], next_cursor=page.next_cursor)


@router.get("/v1/admin/wallet/withdrawals", summary="Withdrawals of every user, newest first")
async def list_withdrawals(
    _: StaffViewer,
    withdrawals: Withdrawals,
    status_filter: Annotated[
        Literal["PENDING", "PAID", "FAILED"] | None, Query(alias="status")
    ] = None,
    user_id: Id | None = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> WithdrawalPage:
    page = await withdrawals.withdrawals_page(
        status=status_filter, user_id=user_id, cursor=cursor, limit=limit
    )
    return WithdrawalPage(
        items=[AdminWithdrawalOut.of(w) for w in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/v1/admin/wallet/sponsors",
    status_code=status.HTTP_201_CREATED,
    summary="Open a sponsor account",
)
async def create_sponsor(
    body: SponsorIn,
    staff: Annotated[StaffActor, StaffWith("wallet:sponsor:manage")],
    sponsors: Sponsors,
    session: WriteSession,
) -> SponsorOut:
    sponsor, balance = await sponsors.create_sponsor(
        session,
        name=body.name,
        sponsor_type=body.sponsor_type,
        contact=body.contact,
        operator_id=str(staff.id),
    )
    staff.audit.target("sponsor", sponsor.id)
    return SponsorOut.of(sponsor, balance)


@router.get("/v1/admin/wallet/sponsors/{sponsor_id}", summary="A sponsor account and its balance")
async def staff_get_sponsor(
    sponsor_id: Id, _: Annotated[StaffActor, StaffWith("wallet:view")], sponsors: Sponsors
) -> SponsorOut:
    return SponsorOut.of(*(await sponsors.sponsor(sponsor_id)))


@router.post("/v1/admin/wallet/sponsors/{sponsor_id}/status", summary="Suspend, close or reopen")
async def set_sponsor_status(
    sponsor_id: Id,
    body: SponsorStatusIn,
    _: Annotated[StaffActor, StaffWith("wallet:sponsor:manage")],
    sponsors: Sponsors,
    session: WriteSession,
) -> SponsorOut:
    return SponsorOut.of(
        *(await sponsors.set_sponsor_status(session, sponsor_id=sponsor_id, status=body.status))
    )


@router.post(
    "/v1/admin/wallet/adjustments",
    status_code=status.HTTP_201_CREATED,
    summary="File a manual adjustment (moves nothing until another staff member approves)",
)
async def file_adjustment(
    body: AdjustmentIn,
    staff: Annotated[StaffActor, StaffWith("wallet:adjust:apply")],
    adjustments: Adjustments,
    session: WriteSession,
) -> AdjustmentOut:
    adjustment = await adjustments.file_adjustment(
        session,
        user_id=body.user_id,
        asset=body.asset,
        amount=body.amount,
        adjustment_type=body.adjustment_type,
        reason=body.reason,
        applicant_id=str(staff.id),
    )
    staff.audit.target("adjustment", adjustment.id)
    return AdjustmentOut.of(adjustment)


@router.get("/v1/admin/wallet/adjustments", summary="Adjustments, newest first")
async def list_adjustments(
    _: Annotated[StaffActor, StaffWith("wallet:view")],
    adjustments: Adjustments,
    status_filter: Annotated[str | None, Query(alias="status", max_length=16)] = None,
) -> list[AdjustmentOut]:
    return [AdjustmentOut.of(a) for a in await adjustments.adjustments(status=status_filter)]


@router.post("/v1/admin/wallet/adjustments/{adjustment_id}/approve", summary="Approve and apply")
async def approve_adjustment(
    adjustment_id: Id,
    body: Annotated[DecisionIn, optional_body(DecisionIn)],
    staff: Annotated[StaffActor, StaffWith("wallet:adjust:approve")],
    adjustments: Adjustments,
) -> AdjustmentOut:
    adjustment = await adjustments.approve_adjustment(
        adjustment_id=adjustment_id,
        approver_id=str(staff.id),
        remark=body.remark,
        side_rows=[staff.audit_row()],
    )
    return AdjustmentOut.of(adjustment)


@router.post("/v1/admin/wallet/adjustments/{adjustment_id}/reject", summary="Reject")
async def reject_adjustment(
    adjustment_id: Id,
    body: Annotated[DecisionIn, optional_body(DecisionIn)],
    staff: Annotated[StaffActor, StaffWith("wallet:adjust:approve")],
    adjustments: Adjustments,
    session: WriteSession,
) -> AdjustmentOut:
    adjustment = await adjustments.reject_adjustment(
        session, adjustment_id=adjustment_id, approver_id=str(staff.id), remark=body.remark
    )
    return AdjustmentOut.of(adjustment)


@router.post("/v1/admin/wallet/withdrawals/{withdrawal_id}/paid", summary="Mark a withdrawal paid")
async def withdrawal_paid(
    withdrawal_id: Id,
    body: Annotated[SettleIn, optional_body(SettleIn)],
    staff: Annotated[StaffActor, StaffWith("wallet:withdrawal:settle")],
    withdrawals: Withdrawals,
) -> WithdrawalOut:
    return await _settle(withdrawals, withdrawal_id, body, staff, paid=True)


@router.post(
    "/v1/admin/wallet/withdrawals/{withdrawal_id}/failed",
    summary="Mark a withdrawal failed (gives the money back)",
)
async def withdrawal_failed(
    withdrawal_id: Id,
    body: Annotated[SettleIn, optional_body(SettleIn)],
    staff: Annotated[StaffActor, StaffWith("wallet:withdrawal:settle")],
    withdrawals: Withdrawals,
) -> WithdrawalOut:
    return await _settle(withdrawals, withdrawal_id, body, staff, paid=False)


async def _settle(
    withdrawals: WithdrawalService,
    withdrawal_id: int,
    body: SettleIn,
    staff: StaffActor,
    *,
    paid: bool,
) -> WithdrawalOut:
    """Either end of a withdrawal, its admin-log entry committed with the money move."""
    withdrawal = await withdrawals.settle_withdrawal(
        withdrawal_id=withdrawal_id,
        paid=paid,
        handler_id=str(staff.id),
        remark=body.remark,
        side_rows=[staff.audit_row()],
    )
    return WithdrawalOut.of(withdrawal)


@router.get(
    "/v1/admin/wallet/reconciliation", summary="Recompute every balance and check the ledger"
)
async def reconciliation(
    _: Annotated[StaffActor, StaffWith("wallet:reconcile")], statements: Statements
) -> ReconciliationOut:
    return ReconciliationOut.of(await statements.reconcile())
