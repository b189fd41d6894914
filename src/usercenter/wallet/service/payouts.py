"""Payout accounts: the bank cards and Alipay accounts a user withdraws to, stored encrypted
and shown masked, found again by a blind index (one of each per user)."""

from __future__ import annotations

import json

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.kit import clock
from usercenter.security import masking, validators
from usercenter.wallet import repository
from usercenter.wallet.errors import (
    AlipayAccountInvalid,
    CardNumberInvalid,
    IdCardInvalid,
    PayoutAccountDuplicate,
    PayoutAccountLimitReached,
    PayoutAccountNotFound,
)
from usercenter.wallet.models import PayoutAccount
from usercenter.wallet.service.context import ID_RECORD, WalletCapability

PAYOUT_CONTEXT = "wallet.payout_account"


def alipay_account(value: str) -> str:
    """An Alipay account as it is saved: a mainland China mobile number (11 digits) or an
    e-mail address (lower-cased). AlipayAccountInvalid for anything else."""
    value = value.strip()
    if "@" in value:
        try:
            return validate_email(value, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            raise AlipayAccountInvalid() from None
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        raise AlipayAccountInvalid() from None
    if (
        number.country_code != 86
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE
    ):
        raise AlipayAccountInvalid()
    return str(number.national_number)


class PayoutService(WalletCapability):
    async def add_bank_card(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        real_name: str,
        bank_name: str,
        card_number: str,
        id_card: str,
    ) -> PayoutAccount:
        """Save a bank card for withdrawals: encrypted, shown masked. CardNumberInvalid (not
        12–19 digits or a wrong Luhn digit), IdCardInvalid, PayoutAccountDuplicate,
        PayoutAccountLimitReached, UserNotFound."""
        await self.accounts.user_or_raise(user_id)
        card = card_number.replace(" ", "").replace("-", "")
        if not validators.bank_card_ok(card):
            raise CardNumberInvalid()
        id_number = id_card.strip().upper()
        if not validators.id_card_ok(id_number):
            raise IdCardInvalid()
        details = {
            "real_name": real_name,
            "bank_name": bank_name,
            "card_number": card,
            "id_card": id_number,
        }
        masked = {
            "real_name": masking.mask_name(real_name),
            "bank_name": bank_name,
            "bank_card": masking.mask_bank_card(card),
            "idcard": masking.mask_id_card(id_number, compact=True),
        }
        return await self._save_payout(session, user_id, "BANK_CARD", card, details, masked)

    async def add_alipay_account(
        self, session: AsyncSession, *, user_id: int, real_name: str, account: str
    ) -> PayoutAccount:
        """Save an Alipay account for withdrawals: a mainland China mobile number or an e-mail
        address (AlipayAccountInvalid otherwise); PayoutAccountDuplicate,
        PayoutAccountLimitReached, UserNotFound."""
        await self.accounts.user_or_raise(user_id)
        value = alipay_account(account)
        shown = masking.mask_email(value) if "@" in value else masking.mask_phone(value)
        details = {"real_name": real_name, "alipay_account": value}
        masked = {"real_name": masking.mask_name(real_name), "alipay_code": shown}
        return await self._save_payout(session, user_id, "ALIPAY", value, details, masked)

    async def _save_payout(
        self,
        session: AsyncSession,
        user_id: int,
        kind: str,
        identifier: str,
        details: dict[str, str],
        masked: dict[str, str],
    ) -> PayoutAccount:
        fingerprint = self.context.blind_index.compute(
            f"{kind}:{identifier}", context=PAYOUT_CONTEXT
        )
        existing = await repository.find_payout_account_by_fingerprint(
            session, user_id, fingerprint
        )
        if existing is not None and existing.deleted_at is None:
            raise PayoutAccountDuplicate(field="card_number" if kind == "BANK_CARD" else "account")
        limit = self.context.settings.wallet_payout_accounts_max
        if await repository.count_payout_accounts(session, user_id) >= limit:
            raise PayoutAccountLimitReached(limit=limit)
        encrypted = self.context.cipher.encrypt(
            json.dumps(details, ensure_ascii=False), context=PAYOUT_CONTEXT
        )
        if existing is not None:
            existing.details_encrypted, existing.masked = (
                encrypted,
                {"_schema_version": "1.0", **masked},
            )
            existing.deleted_at, existing.created_at = None, clock.now()
            return existing
        payout = PayoutAccount(
            id=await self.context.ids.next_id(ID_RECORD, session=session),
            user_id=user_id,
            kind=kind,
            fingerprint=fingerprint,
            details_encrypted=encrypted,
            masked={"_schema_version": "1.0", **masked},
            created_at=clock.now(),
            deleted_at=None,
        )
        session.add(payout)
        await session.flush()
        return payout

    async def payout_accounts(self, user_id: int) -> list[PayoutAccount]:
        async with self.context.database.read_session() as session:
            return list(await repository.payout_accounts_of(session, user_id))

    async def remove_payout_account(
        self, session: AsyncSession, *, user_id: int, payout_account_id: int
    ) -> None:
        """Remove a saved payout account, in the caller's transaction. PayoutAccountNotFound."""
        payout = await repository.find_payout_account(session, payout_account_id)
        if payout is None or payout.user_id != user_id or payout.deleted_at is not None:
            raise PayoutAccountNotFound()
        payout.deleted_at = clock.now()
