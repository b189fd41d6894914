"""Every SQL statement of the wallet: accounts, transfers, entries and holds (`accounts`), the
records beside the ledger (`records`), the reconciliation (`reconciliation`) and the ledger's
batch statements (`batches`). Callers write `repository.find_hold(...)`."""

from __future__ import annotations

from usercenter.wallet.repository.accounts import (
    AccountRef,
    HoldRef,
    account_ids,
    accounts_by_id,
    accounts_of,
    debit_legs_of,
    entries_page,
    expired_hold_ids,
    find_account,
    find_hold,
    find_transfer,
    insert_account,
)
from usercenter.wallet.repository.reconciliation import (
    Difference,
    counts,
    reconcile,
)
from usercenter.wallet.repository.records import (
    adjustments,
    count_payout_accounts,
    decide_adjustment,
    find_adjustment,
    find_payout_account,
    find_payout_account_by_fingerprint,
    find_sponsor,
    find_vip,
    find_withdrawal,
    insert_withdrawal,
    lock_vip,
    payout_accounts_of,
    save_vip,
    settle_withdrawal,
    withdrawals_of,
)

__all__ = [
    "AccountRef",
    "Difference",
    "HoldRef",
    "account_ids",
    "accounts_by_id",
    "accounts_of",
    "adjustments",
    "count_payout_accounts",
    "counts",
    "debit_legs_of",
    "decide_adjustment",
    "entries_page",
    "expired_hold_ids",
    "find_account",
    "find_adjustment",
    "find_hold",
    "find_payout_account",
    "find_payout_account_by_fingerprint",
    "find_sponsor",
    "find_transfer",
    "find_vip",
    "find_withdrawal",
    "insert_account",
    "insert_withdrawal",
    "lock_vip",
    "payout_accounts_of",
    "reconcile",
    "save_vip",
    "settle_withdrawal",
    "withdrawals_of",
]
