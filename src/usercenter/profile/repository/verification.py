"""Every SQL statement of real-name verification."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.profile.models import UserVerification, VerificationHistory


async def verification_of_user(session: AsyncSession, user_id: int) -> UserVerification | None:
    return (
        await session.execute(select(UserVerification).where(UserVerification.user_id == user_id))
    ).scalar_one_or_none()


async def verification_by_id(
    session: AsyncSession, verification_id: int
) -> UserVerification | None:
    return await session.get(UserVerification, verification_id)


async def holder_of_document(session: AsyncSession, document_index: str) -> int | None:
    """The user whose verification holds the document (pending or approved), if any."""
    return (
        await session.execute(
            select(UserVerification.user_id).where(
                UserVerification.document_index == document_index
            )
        )
    ).scalar_one_or_none()


async def insert_verification(session: AsyncSession, row: UserVerification) -> None:
    """Flushes the new row; IntegrityError when the user has one already or the document is
    held by another (the UNIQUE indexes decide, also between concurrent calls)."""
    session.add(row)
    await session.flush()


async def update_if_status(
    session: AsyncSession, verification_id: int, expected: str, values: dict[str, Any]
) -> bool:
    """Set `values` on the verification if it is still in status `expected`: whether it was
    (a concurrent decision or resubmission changed it otherwise). IntegrityError when the
    new document is held by another user."""
    result = await session.execute(
        update(UserVerification)
        .where(UserVerification.id == verification_id, UserVerification.status == expected)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def refresh(session: AsyncSession, row: UserVerification) -> None:
    await session.refresh(row)


async def add_history(session: AsyncSession, entry: VerificationHistory) -> None:
    session.add(entry)
    await session.flush()


async def history_of(session: AsyncSession, verification_id: int) -> list[VerificationHistory]:
    rows = await session.execute(
        select(VerificationHistory)
        .where(VerificationHistory.verification_id == verification_id)
        .order_by(VerificationHistory.id)
    )
    return list(rows.scalars())


async def verifications_page(
    session: AsyncSession,
    status: str | None,
    before_id: int | None,
    size: int,
    user_id: int | None = None,
) -> list[UserVerification]:
    query = select(UserVerification)
    if user_id is not None:
        query = query.where(UserVerification.user_id == user_id)
    if status is not None:
        query = query.where(UserVerification.status == status)
    if before_id is not None:
        query = query.where(UserVerification.id < before_id)
    rows = await session.execute(query.order_by(UserVerification.id.desc()).limit(size))
    return list(rows.scalars())
