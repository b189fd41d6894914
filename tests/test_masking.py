from __future__ import annotations

import pytest

from usercenter.security.masking import mask_bank_card, mask_id_card, mask_phone, mask_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13812348888", "138****8888"),
        ("call 15900001234 now", "call 159****1234 now"),
        ("id 44010119900307123X end", "id 440***********123X end"),
        ("card 6222021234561234", "card 6222****1234"),
        ("card 6222-0212-3456-1234-567", "card 6222****4567"),
        # Not personal data: too short, too long, or a timestamp.
        ("order 1234567", "order 1234567"),
        ("ts 1732345678901", "ts 1732345678901"),
        ("uid GD000001", "uid GD000001"),
        ("23812348888", "23812348888"),
        ("mail zhang.san+x@example.com.cn ok", "mail z***@example.com.cn ok"),
        ("from usercenter@localhost", "from usercenter@localhost"),
    ],
)
def test_mask_text(text: str, expected: str) -> None:
    assert mask_text(text) == expected


def test_masked_forms() -> None:
    assert mask_phone("13812348888") == "138****8888"
    assert mask_id_card("440101199003071234") == "440***********1234"
    assert mask_bank_card("6222 0212 3456 1234") == "6222****1234"
    assert mask_phone("12345") == "*****"
