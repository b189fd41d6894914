"""Real-name verification (seed 000 §1.9): a user submits a name and a document; staff, the ID
check vendor, or the vendor then staff decide (`USERCENTER_PROFILE_VERIFICATION_MODE`).

The rules that hold:
- one current verification per user, one document per user: both are UNIQUE indexes, so two
  users submitting the same number at once cannot both hold it (the loser gets
  `id_document_taken`, nothing of theirs written); a rejected verification lets go of its
  document (its blind index is cleared), so a false claim does not lock the owner out;
- none -> pending -> approved | rejected(reason) -> resubmitted (pending again); approved is
  final for the user, staff may change it with a reason; every transition is a history row;
- the name and number are stored only encrypted and shown masked, whole only to a holder of
  `user:pii:view` who asks (logged); nothing here logs them;
- with the vendor, the vendor is asked before anything is written: when it gives no verdict
  (down, timeout, error) the call fails with `verification_vendor_unavailable` (503) and the
  user's verification stays exactly as it was (none, or rejected), to be submitted again.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.access.errors import PermissionDenied
from usercenter.access.service.permissions import Effective
from usercenter.access.service.staff_users import PII_PERMISSION
from usercenter.audit import service as audit_service
from usercenter.audit.service import AuditDraft
from usercenter.config import Settings, VerificationMode
from usercenter.identity.service.accounts import UserAccounts
from usercenter.kit import clock
from usercenter.kit.client import ClientInfo
from usercenter.kit.events import Event, EventSink
from usercenter.kit.pagination import Page, keyset_page
from usercenter.profile import errors
from usercenter.profile.events import (
    VerificationApproved,
    VerificationRejected,
    VerificationSubmitted,
)
from usercenter.profile.models import UserVerification, VerificationHistory
from usercenter.profile.models import VerificationStatus as Status
from usercenter.profile.repository import verification as repository
from usercenter.profile.service.verification_views import (
    INDEX_CONTEXT,
    NAME_CONTEXT,
    NUMBER_CONTEXT,
    PROBLEMS,
    VENDOR_REASONS,
    HistoryEntry,
    StaffContext,
    StaffVerificationDetail,
    Submission,
    VerificationForService,
    VerificationView,
    VerifiedIdentity,
    checked_real_name,
    china_today,
    is_adult,
    mask_document_number,
)
from usercenter.profile.verification_vendor import (
    IdCardVerifier,
    IdCheckOutcome,
    IdCheckUnavailable,
)
from usercenter.security.crypto import BlindIndex, FieldCipher
from usercenter.security.documents import (
    DocumentInvalid,
    DocumentType,
    ParsedDocument,
    parse_document,
)
from usercenter.security.masking import mask_name

__all__ = [
    "StaffContext",
    "Submission",
    "VerificationForService",
    "VerificationService",
    "VerificationView",
    "VerifiedIdentity",
]


class VerificationService:
    def __init__(
        self,
        *,
        settings: Settings,
        identity: UserAccounts,
        cipher: FieldCipher,
        blind_index: BlindIndex,
        outbox: EventSink,
        verifier: IdCardVerifier | None,
    ) -> None:
        self.settings = settings
        self.identity = identity
        self.cipher = cipher
        self.blind_index = blind_index
        self.outbox = outbox
        self.verifier = verifier

    # --- reading ------------------------------------------------------------------------

    async def my_verification(self, session: AsyncSession, user_id: int) -> VerificationView:
        """The user's verification, masked; status `none` when they have not submitted one."""
        row = await repository.verification_of_user(session, user_id)
        return VerificationView.of(row) if row else VerificationView(None, user_id, Status.NONE)

    async def for_service(self, session: AsyncSession, user_id: int) -> VerificationForService:
        """Whether the user is verified and a verified adult (18 or older today, China time).
        Raises UserNotFound."""
        await self.identity.get_user_or_raise(session, user_id)
        row = await repository.verification_of_user(session, user_id)
        if row is None:
            return VerificationForService(False, False, None, Status.NONE)
        verified = row.status == Status.APPROVED
        adult = verified and is_adult(row.birth_date)
        return VerificationForService(verified, adult, row.document_type, row.status)

    async def verified_identity(
        self, session: AsyncSession, user_id: int
    ) -> VerifiedIdentity | None:
        """The approved identity of the user (None: not approved): the birth date, and the last
        six characters of an ID card number (None for other documents), decrypted here only."""
        row = await repository.verification_of_user(session, user_id)
        if row is None or row.status != Status.APPROVED:
            return None
        last_six = None
        if row.document_type == DocumentType.ID_CARD:
            number = self.cipher.decrypt(row.document_number_encrypted, context=NUMBER_CONTEXT)
            last_six = number[-6:]
        return VerifiedIdentity(row.birth_date, last_six)

    async def queue(
        self,
        session: AsyncSession,
        *,
        status: str | None,
        cursor: str | None,
        limit: int,
        user_id: int | None = None,
    ) -> Page[VerificationView]:
        """Verifications (of one status, of one user), newest first; masked. Raises
        ValidationFailed (field `cursor`)."""

        async def fetch(before: int | None, size: int) -> list[VerificationView]:
            rows = await repository.verifications_page(session, status, before, size, user_id)
            return [VerificationView.of(row) for row in rows]

        return await keyset_page(fetch, cursor=cursor, limit=limit)

    async def staff_detail(
        self,
        session: AsyncSession,
        verification_id: int,
        *,
        effective: Effective,
        audit: AuditDraft,
        reveal: bool,
    ) -> StaffVerificationDetail:
        """One verification with its history, masked; whole (and the photo keys) only for a
        holder of `user:pii:view` who asks, and then the admin log says so. Raises
        PermissionDenied, VerificationNotFound."""
        if reveal and not effective.allows(PII_PERMISSION):
            raise PermissionDenied(permission=PII_PERMISSION)
        row = await self._row_or_raise(session, verification_id)
        audit.target("user", row.user_id)
        history = [
            HistoryEntry(
                h.action, h.from_status, h.to_status, h.actor, h.staff_id, h.reason, h.created_at
            )
            for h in await repository.history_of(session, row.id)
        ]
        detail = StaffVerificationDetail(VerificationView.of(row), row.reviewer_id, history, reveal)
        if not reveal:
            return detail
        audit.action = audit_service.PERSONAL_DATA_VIEWED
        audit.notes["pii_revealed"] = True
        audit.notes["verification_id"] = row.id
        return StaffVerificationDetail(
            detail.view,
            row.reviewer_id,
            history,
            True,
            real_name=self.cipher.decrypt(row.real_name_encrypted, context=NAME_CONTEXT),
            document_number=self.cipher.decrypt(
                row.document_number_encrypted, context=NUMBER_CONTEXT
            ),
            birth_date=row.birth_date,
            photo_front=row.photo_front,
            photo_back=row.photo_back,
            photo_held=row.photo_held,
        )

    # --- the user -------------------------------------------------------------------------

    async def submit(
        self, session: AsyncSession, user_id: int, submission: Submission, client: ClientInfo
    ) -> VerificationView:
        """Submit (or, after a rejection, resubmit) a verification; decided at once by the
        vendor in the vendor modes (ID cards), else pending for staff. Raises RealNameInvalid,
        IdNumberInvalid (and the other DocumentNumberInvalid), BirthDateNotAllowed,
        VerificationApproved, VerificationPending, IdDocumentTaken, VerificationBusy,
        VerificationVendorUnavailable, UserNotFound."""
        name, parsed, birth_date = self._checked(submission)
        user = await self.identity.get_user_or_raise(session, user_id)
        current = await repository.verification_of_user(session, user_id)
        if current is not None and current.status == Status.APPROVED:
            raise errors.VerificationApproved()
        if current is not None and current.status == Status.PENDING:
            raise errors.VerificationPending()
        index = self._index(parsed)
        await self._refuse_if_held(session, index, user_id)
        status, decided_by, reason, vendor_result = await self._vendor_verdict(name, parsed)
        now = clock.now()
        values = self._values(name, parsed, birth_date, submission, index, status)
        values.update(
            reason=reason,
            vendor_result=vendor_result,
            decided_by=decided_by,
            reviewer_id=None,
            decided_at=now if decided_by else None,
            submitted_at=now,
        )
        row = await self._store(session, user_id, current, Status.REJECTED, values)
        before = current.status if current is not None else Status.NONE
        action = "resubmitted" if current is not None else "submitted"
        await record_history(session, row, action, before, Status.PENDING, actor="user")
        changes: list[Event] = [
            VerificationSubmitted(**event_fields(row, user.uid), resubmitted=current is not None)
        ]
        if decided_by is not None:
            verdict = "approved" if status == Status.APPROVED else "rejected"
            await record_history(
                session, row, verdict, Status.PENDING, status, actor="vendor", reason=reason
            )
            changes.append(decision_event(row, user.uid, decided_by=decided_by))
        await self.outbox.add(session, *changes)
        await record_change(session, row, action.removesuffix("ted"), before, client)
        return VerificationView.of(row)

    # --- staff ----------------------------------------------------------------------------

    async def approve(
        self, session: AsyncSession, verification_id: int, staff: StaffContext
    ) -> VerificationView:
        """Approve a pending verification. Raises VerificationNotFound,
        VerificationNotPending."""
        return await self._decide(session, verification_id, staff, Status.APPROVED, None)

    async def reject(
        self, session: AsyncSession, verification_id: int, reason: str, staff: StaffContext
    ) -> VerificationView:
        """Reject a pending verification with a reason; its document is let go. Raises
        VerificationNotFound, VerificationNotPending."""
        return await self._decide(session, verification_id, staff, Status.REJECTED, reason)

    async def change_by_staff(
        self,
        session: AsyncSession,
        user_id: int,
        submission: Submission,
        reason: str,
        staff: StaffContext,
    ) -> VerificationView:
        """Set a user's verification (also after approval, which the user cannot change) to
        what staff checked: approved, with the reason. Raises what `submit` raises for the
        input, IdDocumentTaken, VerificationBusy, UserNotFound."""
        name, parsed, birth_date = self._checked(submission)
        user = await self.identity.get_user_or_raise(session, user_id)
        current = await repository.verification_of_user(session, user_id)
        index = self._index(parsed)
        await self._refuse_if_held(session, index, user_id)
        now = clock.now()
        values = self._values(name, parsed, birth_date, submission, index, Status.APPROVED)
        values.update(
            reason=reason,
            vendor_result=None,
            decided_by="staff",
            reviewer_id=staff.staff_id,
            decided_at=now,
        )
        if current is None:
            values["submitted_at"] = now
        before = current.status if current is not None else Status.NONE
        row = await self._store(session, user_id, current, before, values)
        await record_history(
            session,
            row,
            "changed_by_staff",
            before,
            Status.APPROVED,
            actor="staff",
            staff_id=staff.staff_id,
            reason=reason,
        )
        await self.outbox.add(
            session, decision_event(row, user.uid, decided_by="staff", staff=staff)
        )
        await record_change(session, row, "staff_change", before, staff.client)
        return VerificationView.of(row)

    # --- the steps ------------------------------------------------------------------------

    def _checked(self, submission: Submission) -> tuple[str, ParsedDocument, date | None]:
        name = checked_real_name(submission.real_name)
        try:
            parsed = parse_document(
                submission.document_type, submission.document_number, today=china_today()
            )
        except DocumentInvalid as exc:
            raise PROBLEMS[exc.problem]() from None
        if parsed.document_type is DocumentType.ID_CARD:
            if submission.birth_date is not None and submission.birth_date != parsed.birth_date:
                raise errors.BirthDateNotAllowed()
            return name, parsed, parsed.birth_date
        return name, parsed, submission.birth_date

    def _index(self, parsed: ParsedDocument) -> str:
        return self.blind_index.compute(
            f"{parsed.document_type.value}:{parsed.number}", context=INDEX_CONTEXT
        )

    async def _refuse_if_held(self, session: AsyncSession, index: str, user_id: int) -> None:
        holder = await repository.holder_of_document(session, index)
        if holder is not None and holder != user_id:
            raise errors.IdDocumentTaken()

    async def _vendor_verdict(
        self, name: str, parsed: ParsedDocument
    ) -> tuple[str, str | None, str | None, str | None]:
        """(status, decided_by, reason, vendor_result): pending for staff unless the vendor
        decides (vendor modes, ID cards only: the two-factor check knows nothing else)."""
        mode = self.settings.profile_verification_mode
        if mode is VerificationMode.STAFF or parsed.document_type is not DocumentType.ID_CARD:
            return Status.PENDING, None, None, None
        if self.verifier is None:
            raise errors.VerificationVendorUnavailable()
        try:
            check = await self.verifier.check(name, parsed.number)
        except IdCheckUnavailable:
            raise errors.VerificationVendorUnavailable() from None
        if check.outcome is IdCheckOutcome.MATCH:
            return Status.APPROVED, "vendor", None, check.outcome.value
        if mode is VerificationMode.VENDOR:
            return Status.REJECTED, "vendor", VENDOR_REASONS[check.outcome], check.outcome.value
        return Status.PENDING, None, None, check.outcome.value

    def _values(
        self,
        name: str,
        parsed: ParsedDocument,
        birth_date: date | None,
        submission: Submission,
        index: str,
        status: str,
    ) -> dict[str, object]:
        return {
            "document_type": parsed.document_type.value,
            "real_name_encrypted": self.cipher.encrypt(name, context=NAME_CONTEXT),
            "document_number_encrypted": self.cipher.encrypt(parsed.number, context=NUMBER_CONTEXT),
            # A rejected verification holds no document: its owner may claim it.
            "document_index": None if status == Status.REJECTED else index,
            "real_name_masked": mask_name(name),
            "document_number_masked": mask_document_number(parsed.document_type, parsed.number),
            "birth_date": birth_date,
            "sex": parsed.sex,
            "photo_front": submission.photo_front,
            "photo_back": submission.photo_back,
            "photo_held": submission.photo_held,
            "status": status,
            "updated_at": clock.now(),
        }

    async def _store(
        self,
        session: AsyncSession,
        user_id: int,
        current: UserVerification | None,
        expected: str,
        values: dict[str, object],
    ) -> UserVerification:
        """Insert the user's verification, or update it if still in status `expected`; the
        UNIQUE indexes decide between concurrent calls, in a savepoint so that a refused call
        leaves nothing behind."""
        try:
            async with session.begin_nested():
                if current is None:
                    row = UserVerification(user_id=user_id, created_at=clock.now(), **values)
                    await repository.insert_verification(session, row)
                    return row
                if not await repository.update_if_status(session, current.id, expected, values):
                    raise errors.VerificationBusy()
        except IntegrityError as exc:
            if "document_index" in str(exc.orig):
                raise errors.IdDocumentTaken() from None
            raise errors.VerificationBusy() from None
        await repository.refresh(session, current)
        return current

    async def _decide(
        self,
        session: AsyncSession,
        verification_id: int,
        staff: StaffContext,
        status: str,
        reason: str | None,
    ) -> VerificationView:
        row = await self._row_or_raise(session, verification_id)
        if row.status != Status.PENDING:
            raise errors.VerificationNotPending()
        values: dict[str, object] = {
            "status": status,
            "reason": reason,
            "decided_by": "staff",
            "reviewer_id": staff.staff_id,
            "decided_at": clock.now(),
            "updated_at": clock.now(),
        }
        if status == Status.REJECTED:
            values["document_index"] = None
        if not await repository.update_if_status(session, row.id, Status.PENDING, values):
            raise errors.VerificationNotPending()
        await repository.refresh(session, row)
        await record_history(
            session,
            row,
            status,
            Status.PENDING,
            status,
            actor="staff",
            staff_id=staff.staff_id,
            reason=reason,
        )
        user = await self.identity.get_user_or_raise(session, row.user_id)
        await self.outbox.add(
            session, decision_event(row, user.uid, decided_by="staff", staff=staff)
        )
        verb = "approve" if status == Status.APPROVED else "reject"
        await record_change(session, row, verb, Status.PENDING, staff.client)
        return VerificationView.of(row)

    async def _row_or_raise(self, session: AsyncSession, verification_id: int) -> UserVerification:
        row = await repository.verification_by_id(session, verification_id)
        if row is None:
            raise errors.VerificationNotFound()
        return row


# --- the records every transition writes ----------------------------------------------------


async def record_history(
    session: AsyncSession,
    row: UserVerification,
    action: str,
    from_status: str,
    to_status: str,
    *,
    actor: str,
    staff_id: int | None = None,
    reason: str | None = None,
) -> None:
    await repository.add_history(
        session,
        VerificationHistory(
            verification_id=row.id,
            user_id=row.user_id,
            action=action,
            from_status=from_status,
            to_status=to_status,
            actor=actor,
            staff_id=staff_id,
            reason=reason,
            created_at=clock.now(),
        ),
    )


def event_fields(row: UserVerification, uid: str) -> dict[str, object]:
    return {
        "user_id": row.user_id,
        "uid": uid,
        "verification_id": row.id,
        "document_type": row.document_type,
        "real_name_masked": row.real_name_masked,
        "document_number_masked": row.document_number_masked,
    }


def decision_event(
    row: UserVerification,
    uid: str,
    *,
    decided_by: str,
    staff: StaffContext | None = None,
) -> VerificationApproved | VerificationRejected:
    staff_id = staff.staff_id if staff else None
    if row.status == Status.APPROVED:
        return VerificationApproved(
            **event_fields(row, uid),
            decided_by=decided_by,
            staff_id=staff_id,
            adult=is_adult(row.birth_date),
        )
    return VerificationRejected(
        **event_fields(row, uid),
        decided_by=decided_by,
        staff_id=staff_id,
        reason=row.reason or "",
    )


async def record_change(
    session: AsyncSession,
    row: UserVerification,
    action: str,
    before: str,
    client: ClientInfo,
) -> None:
    """The change-log row (seed 001 user_info_update) of `action` (submit, resubmit,
    approve, reject, staff_change): statuses and masked values only."""
    await audit_service.record_profile_change(
        session,
        user_id=row.user_id,
        action=action,
        attribute="verification",
        client=client,
        old_value=before,
        new_value=(
            f"{row.status} {row.document_type} {row.real_name_masked} {row.document_number_masked}"
        )[:255],
    )
