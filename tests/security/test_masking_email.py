from __future__ import annotations

import pytest

from usercenter.security.masking import mask_email, mask_identifier


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("zhang.san@example.com", "z***@example.com"),
        ("ab@qq.com", "a***@qq.com"),
        ("a@163.com", "*@163.com"),
        (" Li.Si@Example.COM ", "L***@Example.COM"),
        ('"odd@local"@example.com', '"***@example.com'),
        ("no-at-sign", "***"),
    ],
)
def test_mask_email(email: str, expected: str) -> None:
    assert mask_email(email) == expected


@pytest.mark.parametrize(
    ("identity_type", "value", "expected"),
    [
        ("phone", "13812348888", "138****8888"),
        ("email", "zhang.san@example.com", "z***@example.com"),
        ("username", "zhangsan", "zhangsan"),
        ("wechat_openid", "oAbCdEfGhIjKlMnOpQrStUvWxYz1", "oA****z1"),
        ("wechat_openid", "short", "****"),
    ],
)
def test_mask_identifier(identity_type: str, value: str, expected: str) -> None:
    assert mask_identifier(identity_type, value) == expected
