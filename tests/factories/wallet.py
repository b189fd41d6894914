"""Funded accounts: money put on a user's balance the way it really arrives (a recharge from a
payment channel, or a grant of coins or points), through the wallet service."""

from __future__ import annotations

import itertools

from usercenter.wallet.models import Kind, SystemAccount
from usercenter.wallet.service import Business, Result, WalletService

_payments = itertools.count(1)
_GRANT_KINDS = {"COIN_GIVE": Kind.GIFT, "COIN_REWARD": Kind.REWARD, "POINTS": Kind.POINTS_EARN}


async def top_up(wallet: WalletService, user_id: int, asset: str, amount: int) -> Result:
    """Put `amount` of `asset` on the user's balance: CNY and recharge coins arrive from
    WeChat Pay, the other coins and points are granted."""
    if asset in {"CNY", "COIN_RECHARGE"}:
        return await wallet.recharge(
            user_id=user_id,
            asset=asset,
            amount=amount,
            channel=SystemAccount.EXTERNAL_WECHATPAY,
            payment_id=f"wx-{next(_payments)}",
        )
    return await wallet.grant(
        user_id=user_id,
        asset=asset,
        amount=amount,
        kind=_GRANT_KINDS[asset],
        business=Business(business_type="test", business_id=f"grant-{next(_payments)}"),
    )


async def balance_of(wallet: WalletService, user_id: int, asset: str) -> tuple[int, int]:
    """(balance, frozen) of the user's account in `asset`."""
    for balance in await wallet.balances(f"user:{user_id}"):
        if balance.asset == asset:
            return balance.balance, balance.frozen
    raise AssertionError(asset)
