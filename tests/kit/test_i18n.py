from __future__ import annotations

import pytest

from usercenter.kit.i18n import Text, negotiate_language


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "zh-CN"),
        ("", "zh-CN"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("fr-FR, en;q=0.5", "en"),
        ("en;q=0.3, zh;q=0.7", "zh-CN"),
        ("de", "zh-CN"),
        ("en;q=0", "zh-CN"),
        ("en;q=abc", "zh-CN"),
    ],
)
def test_negotiate_language(header: str | None, language: str) -> None:
    assert negotiate_language(header) == language


def test_text_renders_parameters() -> None:
    text = Text("省份 {p}", "province {p}")
    assert text.render("zh-CN", p="GD") == "省份 GD"
    assert text.render("en", p="GD") == "province GD"


def test_a_text_parameter_renders_in_the_same_language() -> None:
    status = Text("已释放", "released")
    text = Text("该冻结{status}", "This hold is {status}")

    assert text.render("zh-CN", status=status) == "该冻结已释放"
    assert text.render("en", status=status) == "This hold is released"
