from __future__ import annotations

from datetime import UTC, datetime

import pytest

from usercenter.kit.i18n import Text, china_time, negotiate_language


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


class TestChinaTime:
    def test_a_moment_reads_as_china_time_rounded_up_to_the_minute(self) -> None:
        moment = datetime(2026, 11, 27, 16, 29, 30, tzinfo=UTC)
        text = china_time(moment)
        assert text.render("zh-CN") == "北京时间 2026年11月28日 00:30"
        assert text.render("en") == "28 Nov 2026, 00:30 China time (UTC+8)"

    def test_a_whole_minute_stays(self) -> None:
        assert (
            china_time(datetime(2026, 1, 1, 0, 5, tzinfo=UTC))
            .render("en")
            .startswith("1 Jan 2026, 08:05")
        )

    def test_a_text_parameter_renders_in_the_callers_language(self) -> None:
        message = Text("请于{at}后再试", "Try again after {at}")
        at = china_time(datetime(2026, 1, 1, 0, 5, tzinfo=UTC))
        assert message.render("zh-CN", at=at) == "请于北京时间 2026年1月1日 08:05后再试"
        assert message.render("en", at=at) == "Try again after 1 Jan 2026, 08:05 China time (UTC+8)"
