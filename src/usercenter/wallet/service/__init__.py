"""The wallet's rules, one service per capability (polar's `customer_portal/service/` shape):

- `accounts`     AccountDirectory: account rows, system shards, who may hold money
- `postings`     PostingService: recharges, grants, debits, coin spends, refunds, transfers
- `holds`        HoldService: freeze, capture, release, and the sweeper of expired holds
- `sponsors`     SponsorService: sponsor accounts, their top-ups and charges
- `vip`          VipService: VIP bought from cash, with its give coins
- `payouts`      PayoutService: saved bank cards and Alipay accounts
- `withdrawals`  WithdrawalService: withdrawals and their settlement by staff
- `adjustments`  AdjustmentService: two-person manual adjustments
- `statements`   StatementService: balances, entries, reconciliation
- `context`      what they share: WalletContext, Business, Result, Balance, the posting call
- `wallet`       WalletService: all of them as one object, for the lifecycle and the CLI
"""

from usercenter.wallet.service.accounts import AccountDirectory
from usercenter.wallet.service.adjustments import AdjustmentService
from usercenter.wallet.service.context import (
    Balance,
    Business,
    Result,
    WalletContext,
    amount_in,
    idempotency_key,
    request_hash,
)
from usercenter.wallet.service.holds import HoldService
from usercenter.wallet.service.payouts import PayoutService
from usercenter.wallet.service.postings import PostingService
from usercenter.wallet.service.sponsors import SponsorService
from usercenter.wallet.service.statements import (
    Report,
    StatementService,
    WalletOverview,
    reconcile,
)
from usercenter.wallet.service.vip import VipService
from usercenter.wallet.service.wallet import WalletService
from usercenter.wallet.service.withdrawals import WithdrawalService

__all__ = [
    "AccountDirectory",
    "AdjustmentService",
    "Balance",
    "Business",
    "HoldService",
    "PayoutService",
    "PostingService",
    "Report",
    "Result",
    "SponsorService",
    "StatementService",
    "VipService",
    "WalletContext",
    "WalletOverview",
    "WalletService",
    "WithdrawalService",
    "amount_in",
    "idempotency_key",
    "reconcile",
    "request_hash",
]
