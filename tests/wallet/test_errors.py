"""Every message of the wallet reads wholly in one language: zh-CN without English words (but
the names a client types: codes, fields, headers), English without Chinese characters —
whatever is put into it (a hold's status, an asset, why an amount was refused)."""

from __future__ import annotations

import itertools
import re
import string
from collections.abc import Iterator

import pytest

from usercenter.identity.errors import UserNotFound
from usercenter.kit import money
from usercenter.kit.errors import UserCenterError
from usercenter.kit.i18n import Language, Text
from usercenter.wallet import errors
from usercenter.wallet.errors import ASSET_NAMES, HOLD_STATUS_NAMES, WalletError

# What a zh-CN message may spell in Latin letters: names a client writes as they are.
ALLOWED_IN_CHINESE = {"Idempotency-Key", "user_id", "sponsor_id"}
LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z_-]*")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")

# Sample values for each placeholder a wallet message has: every one that the code passes.
SAMPLES: dict[str, list[object]] = {
    "why": list(money.REASONS),
    "status": list(HOLD_STATUS_NAMES.values()),
    "asset": list(ASSET_NAMES.values()),
    "limit": ["10", "10000000000000.00"],
    "left": ["2.00"],
    "minimum": ["1.00"],
}


def wallet_error_classes() -> list[type[WalletError]]:
    return sorted(
        (
            value
            for value in vars(errors).values()
            if isinstance(value, type) and issubclass(value, WalletError)
        ),
        key=lambda cls: cls.__name__,
    )


def placeholders(text: Text | None) -> set[str]:
    if text is None:
        return set()
    return {
        name
        for template in (text.zh, text.en)
        for _, name, _, _ in string.Formatter().parse(template)
        if name
    }


def instances(cls: type[WalletError]) -> Iterator[WalletError]:
    """The error with every combination of sample values its message takes."""
    names = sorted(placeholders(cls.detail_text))
    assert set(names) <= set(SAMPLES), f"{cls.__name__} takes {names}: add samples"
    for values in itertools.product(*(SAMPLES[name] for name in names)):
        yield cls(**dict(zip(names, values, strict=True)))


def shown(error: UserCenterError, language: Language) -> list[str]:
    """Everything a client reads of the error in `language`: title, detail, field messages."""
    return [
        error.title.render(language),
        error.detail(language),
        *(item.message for item in error.field_errors(language)),
    ]


def test_every_wallet_error_class_is_walked() -> None:
    assert len(wallet_error_classes()) > 30
    assert errors.BalanceLimitExceeded in wallet_error_classes()


@pytest.mark.parametrize("cls", wallet_error_classes(), ids=lambda cls: cls.__name__)
def test_reads_wholly_in_chinese(cls: type[WalletError]) -> None:
    for error in instances(cls):
        for message in shown(error, "zh-CN"):
            foreign = set(LATIN_RUN.findall(message)) - ALLOWED_IN_CHINESE
            assert not foreign, f"{cls.__name__}: {message!r}"
            assert "{" not in message, f"{cls.__name__}: {message!r}"


@pytest.mark.parametrize("cls", wallet_error_classes(), ids=lambda cls: cls.__name__)
def test_reads_wholly_in_english(cls: type[WalletError]) -> None:
    for error in instances(cls):
        for message in shown(error, "en"):
            assert not CJK.search(message), f"{cls.__name__}: {message!r}"
            assert "{" not in message, f"{cls.__name__}: {message!r}"


def test_the_user_not_found_the_wallet_raises_reads_in_each_language() -> None:
    error = UserNotFound(field="user_id")

    assert [e.field for e in error.field_errors("en")] == ["user_id"]
    assert not CJK.search(" ".join(shown(error, "en")))
    assert not set(LATIN_RUN.findall(" ".join(shown(error, "zh-CN")))) - ALLOWED_IN_CHINESE


@pytest.mark.parametrize("reason", money.REASONS, ids=lambda reason: reason.en[:24])
def test_every_reason_an_amount_is_refused_has_both_languages(reason: Text) -> None:
    assert not LATIN_RUN.search(reason.zh.replace("12.30", "")), reason.zh
    assert not CJK.search(reason.en), reason.en


@pytest.mark.parametrize(
    ("written", "reason"),
    [("1.001", money.MONEY_FORMAT), ("-1", money.MONEY_FORMAT), ("0", money.NOT_POSITIVE)],
)
def test_parse_amount_says_why_in_both_languages(written: str, reason: Text) -> None:
    with pytest.raises(money.AmountError) as refused:
        money.parse_amount("CNY", written)

    assert refused.value.reason is reason
