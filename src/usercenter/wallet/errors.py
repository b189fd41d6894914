"""Error codes of the wallet module. Every message exists whole in zh-CN and in English; words
put into a message (a hold's status, an asset's name, why an amount was refused) are `Text`s
too, rendered in the caller's language."""

from __future__ import annotations

from usercenter.kit.errors import FieldError, UserCenterError
from usercenter.kit.i18n import Language, Text

# What a hold's status reads as inside a message.
HOLD_STATUS_NAMES = {
    "pending": Text("待处理", "pending"),
    "captured": Text("扣款", "captured"),
    "released": Text("释放", "released"),
    "expired": Text("过期", "expired"),
}

# What an asset reads as inside a message.
ASSET_NAMES = {
    "CNY": Text("现金", "cash"),
    "COIN_RECHARGE": Text("充值币", "recharge coins"),
    "COIN_GIVE": Text("赠送币", "give coins"),
    "COIN_REWARD": Text("奖励币", "reward coins"),
    "POINTS": Text("积分", "points"),
}


class WalletError(UserCenterError):
    code = "wallet_error"


class AmountInvalid(WalletError):
    code = "amount_invalid"
    status = 422
    title = Text("金额无效", "The amount is not valid")
    detail_text = Text("金额无效：{why}", "The amount is not valid: {why}")
    default_field = "amount"


class AssetInvalid(WalletError):
    code = "asset_invalid"
    status = 422
    title = Text("不支持该资产", "This asset is not supported here")
    default_field = "asset"


class KindInvalid(WalletError):
    code = "kind_invalid"
    status = 422
    title = Text("不支持的流水类型", "No such kind of transfer")
    default_field = "kind"


class InsufficientBalance(WalletError):
    code = "insufficient_balance"
    status = 409
    title = Text("余额不足", "The balance does not cover this amount")
    default_field = "amount"


class IdempotencyConflict(WalletError):
    code = "idempotency_conflict"
    status = 409
    title = Text(
        "该幂等键已用于另一个请求", "This idempotency key was already used for a different request"
    )
    default_field = "idempotency_key"


class IdempotencyKeyMissing(WalletError):
    code = "idempotency_key_missing"
    status = 422
    title = Text(
        "缺少幂等键：请给出 Idempotency-Key 或业务类型与业务单号",
        "No idempotency key: send Idempotency-Key or a business type and id",
    )
    default_field = "idempotency_key"


class AssetNotTransferable(WalletError):
    """Raised with `asset` (an ASSET_NAMES text)."""

    code = "asset_not_transferable"
    status = 422
    title = Text("只有充值币可以转给其他用户", "Only recharge coins can be given to another user")
    detail_text = Text(
        "只有充值币可以转给其他用户，{asset}不可以",
        "Only recharge coins can be given to another user, not {asset}",
    )
    default_field = "asset"


class CashNotTransferable(AssetNotTransferable):
    code = "cash_not_transferable"
    title = Text("现金余额不能在用户之间转账", "Cash cannot be transferred between users")
    detail_text = Text(
        "现金余额不能在用户之间转账，只有充值币可以转给其他用户",
        "Cash cannot be transferred between users; only recharge coins can be given to another "
        "user",
    )


class TransferToSelf(WalletError):
    code = "transfer_to_self"
    status = 422
    title = Text("不能转给自己", "A transfer needs two different users")
    default_field = "to_user_id"


class RecipientNotFound(WalletError):
    code = "recipient_not_found"
    status = 404
    title = Text("收款用户不存在", "No such recipient")
    default_field = "to_user_id"


class TransferNotFound(WalletError):
    code = "transfer_not_found"
    status = 404
    title = Text("交易不存在", "No such transfer")
    default_field = "transfer_id"


class TransferNotRefundable(WalletError):
    code = "transfer_not_refundable"
    status = 409
    title = Text("该交易不可退款", "This transfer is not a debit that can be refunded")
    default_field = "transfer_id"


class RefundExceedsDebit(WalletError):
    code = "refund_exceeds_debit"
    status = 409
    title = Text("退款金额超过可退金额", "The refund is more than what is left to refund")
    detail_text = Text("最多还可退 {left}", "At most {left} is left to refund")
    default_field = "amount"


class HoldNotFound(WalletError):
    code = "hold_not_found"
    status = 404
    title = Text("冻结记录不存在", "No such hold")
    default_field = "hold_id"


class HoldAlreadyResolved(WalletError):
    code = "hold_already_resolved"
    status = 409
    title = Text("该冻结已处理", "This hold was already captured, released or expired")
    # `status` is a HOLD_STATUS_NAMES text.
    detail_text = Text("该冻结已{status}，不能再处理", "This hold is already {status}")
    default_field = "hold_id"


class HoldExpired(WalletError):
    code = "hold_expired"
    status = 409
    title = Text("冻结已过期，不能再扣款", "This hold has expired and can no longer be captured")
    default_field = "hold_id"


class CaptureExceedsHold(WalletError):
    code = "capture_exceeds_hold"
    status = 422
    title = Text("扣款金额超过冻结金额", "The capture is more than the hold")
    default_field = "amount"


class SponsorNotFound(WalletError):
    code = "sponsor_not_found"
    status = 404
    title = Text("促销账户不存在", "No such sponsor")
    default_field = "sponsor_id"


class SponsorInactive(WalletError):
    code = "sponsor_inactive"
    status = 409
    title = Text("促销账户已暂停或关闭", "This sponsor is suspended or closed")
    default_field = "sponsor_id"


class CardNumberInvalid(WalletError):
    code = "card_number_invalid"
    status = 422
    title = Text("银行卡号无效", "The card number is not valid")
    default_field = "card_number"


class IdCardInvalid(WalletError):
    code = "id_card_invalid"
    status = 422
    title = Text("身份证号无效", "The ID card number is not valid")
    default_field = "id_card"


class PayoutAccountDuplicate(WalletError):
    code = "payout_account_exists"
    status = 409
    title = Text("该收款账户已添加", "This payout account is already saved")
    default_field = "card_number"


class PayoutAccountLimitReached(WalletError):
    code = "payout_account_limit_reached"
    status = 409
    title = Text("收款账户数量已达上限", "No more payout accounts can be saved")
    detail_text = Text(
        "最多可保存 {limit} 个收款账户，请先删除不用的账户",
        "At most {limit} payout accounts can be saved; remove one you no longer use first",
    )
    default_field = "kind"


class AlipayAccountInvalid(WalletError):
    code = "alipay_account_invalid"
    status = 422
    title = Text(
        "支付宝账户须为中国大陆手机号或电子邮箱",
        "An Alipay account is a mainland China mobile number or an e-mail address",
    )
    default_field = "account"


class PayoutAccountNotFound(WalletError):
    code = "payout_account_not_found"
    status = 404
    title = Text("收款账户不存在", "No such payout account")
    default_field = "payout_account_id"


class WithdrawalBelowMinimum(WalletError):
    code = "withdrawal_below_minimum"
    status = 422
    title = Text("提现金额低于最低限额", "The withdrawal is below the minimum")
    detail_text = Text("最低提现 {minimum}", "The minimum withdrawal is {minimum}")
    default_field = "amount"


class WithdrawalNotFound(WalletError):
    code = "withdrawal_not_found"
    status = 404
    title = Text("提现申请不存在", "No such withdrawal")
    default_field = "withdrawal_id"


class WithdrawalAlreadyHandled(WalletError):
    code = "withdrawal_already_handled"
    status = 409
    title = Text("该提现已处理", "This withdrawal was already handled")
    default_field = "withdrawal_id"


class AdjustmentNotFound(WalletError):
    code = "adjustment_not_found"
    status = 404
    title = Text("补录申请不存在", "No such adjustment")
    default_field = "adjustment_id"


class AdjustmentAlreadyDecided(WalletError):
    code = "adjustment_already_decided"
    status = 409
    title = Text("该补录申请已审批", "This adjustment was already approved or rejected")
    default_field = "adjustment_id"


class SelfApprovalRefused(WalletError):
    code = "self_approval_refused"
    status = 403
    title = Text(
        "申请人不能审批自己的补录", "An adjustment needs an approver other than its applicant"
    )
    default_field = "approver_id"


class BalanceLimitExceeded(WalletError):
    code = "balance_limit_exceeded"
    status = 409
    title = Text("超过余额上限", "This would take a balance past its limit")
    detail_text = Text("一个账户的余额不能超过 {limit}", "No balance may hold more than {limit}")
    default_field = "amount"


class OwnerInvalid(WalletError):
    """A hold's body names neither or both of its owners: a validation failure like the
    others of the body, whose field error says why (`owner_invalid`)."""

    code = "validation_failed"
    status = 422
    title = Text("请求参数校验失败", "The request did not pass validation")
    detail_text = Text(
        "请指定 user_id 或 sponsor_id 其中之一", "Name either user_id or sponsor_id, not both"
    )
    default_field = "user_id"

    def field_errors(self, language: Language) -> list[FieldError]:
        return [FieldError(self.field or "user_id", "owner_invalid", self.detail(language))]
