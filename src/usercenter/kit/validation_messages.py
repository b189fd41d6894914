"""Pydantic's validation errors in both languages the API speaks.

Pydantic writes its messages in English only, with its lists already joined ("0, 1 or 2"). Each
error type known here has a zh-CN and an English text; the lists in a message are joined again
in the caller's language ("0、1 或 2"). A type not known here falls back to a plain "invalid" in
Chinese, never to pydantic's English.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from usercenter.kit.i18n import Language, Text

_TEXTS: dict[str, Text] = {
    # The wallet's amounts (wallet/schemas.py; the same words as kit.money.WRITTEN_FORMAT).
    "amount_invalid": Text(
        "金额须写成十进制字符串或整数", "write the amount as a decimal string or a whole number"
    ),
    "missing": Text("必填", "Field required"),
    "extra_forbidden": Text("不允许的字段", "Extra inputs are not permitted"),
    "json_invalid": Text("不是合法的 JSON", "Invalid JSON"),
    "json_type": Text("须为 JSON 字符串", "JSON input should be a string"),
    "none_required": Text("须为 null", "Input should be null"),
    "model_type": Text("须为对象", "Input should be an object"),
    "model_attributes_type": Text("须为对象", "Input should be an object"),
    "dict_type": Text("须为对象", "Input should be an object"),
    "mapping_type": Text("须为对象", "Input should be an object"),
    "list_type": Text("须为数组", "Input should be an array"),
    "tuple_type": Text("须为数组", "Input should be an array"),
    "set_type": Text("须为数组", "Input should be an array"),
    "frozen_set_type": Text("须为数组", "Input should be an array"),
    "iterable_type": Text("须为数组", "Input should be an array"),
    "too_short": Text("至少需要 {min_length} 项", "Should have at least {min_length} items"),
    "too_long": Text("最多 {max_length} 项", "Should have at most {max_length} items"),
    "string_type": Text("须为字符串", "Input should be a string"),
    "string_unicode": Text("须为有效的 Unicode 字符串", "Input should be a valid Unicode string"),
    "string_too_short": Text(
        "长度不能少于 {min_length}", "Should have at least {min_length} characters"
    ),
    "string_too_long": Text(
        "长度不能超过 {max_length}", "Should have at most {max_length} characters"
    ),
    "string_pattern_mismatch": Text("格式不正确", "The format is not valid"),
    "string_not_ascii": Text("只能包含 ASCII 字符", "Should contain only ASCII characters"),
    "bytes_type": Text("须为字节串", "Input should be bytes"),
    "bytes_too_short": Text("长度不能少于 {min_length}", "Should have at least {min_length} bytes"),
    "bytes_too_long": Text("长度不能超过 {max_length}", "Should have at most {max_length} bytes"),
    "bool_type": Text("须为布尔值", "Input should be a boolean"),
    "bool_parsing": Text("须为布尔值", "Input should be a boolean"),
    "int_type": Text("须为整数", "Input should be an integer"),
    "int_parsing": Text("须为整数", "Input should be an integer"),
    "int_parsing_size": Text("整数超出范围", "The integer is out of range"),
    "int_from_float": Text(
        "须为整数，不能有小数部分", "Input should be an integer, without a fraction"
    ),
    "float_type": Text("须为数字", "Input should be a number"),
    "float_parsing": Text("须为数字", "Input should be a number"),
    "finite_number": Text("须为有限的数字", "Input should be a finite number"),
    "decimal_type": Text("须为十进制数", "Input should be a decimal number"),
    "decimal_parsing": Text("须为十进制数", "Input should be a decimal number"),
    "decimal_max_digits": Text(
        "最多 {max_digits} 位数字", "Should have at most {max_digits} digits"
    ),
    "decimal_max_places": Text(
        "最多 {decimal_places} 位小数", "Should have at most {decimal_places} decimal places"
    ),
    "decimal_whole_digits": Text(
        "整数部分最多 {whole_digits} 位",
        "Should have at most {whole_digits} digits before the point",
    ),
    "greater_than": Text("须大于 {gt}", "Should be greater than {gt}"),
    "greater_than_equal": Text("须大于或等于 {ge}", "Should be greater than or equal to {ge}"),
    "less_than": Text("须小于 {lt}", "Should be less than {lt}"),
    "less_than_equal": Text("须小于或等于 {le}", "Should be less than or equal to {le}"),
    "multiple_of": Text("须为 {multiple_of} 的倍数", "Should be a multiple of {multiple_of}"),
    "enum": Text("须为以下之一：{expected}", "Should be {expected}"),
    "literal_error": Text("须为以下之一：{expected}", "Should be {expected}"),
    "union_tag_invalid": Text("须为以下之一：{expected_tags}", "Should be {expected_tags}"),
    "union_tag_not_found": Text("缺少字段 {discriminator}", "Missing the field {discriminator}"),
    "value_error": Text("取值不正确", "The value is not valid"),
    "assertion_error": Text("取值不正确", "The value is not valid"),
    "uuid_type": Text("须为 UUID", "Input should be a UUID"),
    "uuid_parsing": Text("须为 UUID", "Input should be a UUID"),
    "uuid_version": Text(
        "须为第 {expected_version} 版 UUID", "Should be a version {expected_version} UUID"
    ),
    "date_type": Text("须为 ISO 8601 日期", "Input should be an ISO 8601 date"),
    "date_parsing": Text("须为 ISO 8601 日期", "Input should be an ISO 8601 date"),
    "date_from_datetime_parsing": Text("须为 ISO 8601 日期", "Input should be an ISO 8601 date"),
    "date_from_datetime_inexact": Text("须为日期，不能带时间", "Should be a date, without a time"),
    "date_past": Text("须为过去的日期", "Should be a date in the past"),
    "date_future": Text("须为将来的日期", "Should be a date in the future"),
    "time_type": Text("须为 ISO 8601 时刻", "Input should be an ISO 8601 time"),
    "time_parsing": Text("须为 ISO 8601 时刻", "Input should be an ISO 8601 time"),
    "datetime_type": Text("须为 ISO 8601 时间", "Input should be an ISO 8601 datetime"),
    "datetime_parsing": Text("须为 ISO 8601 时间", "Input should be an ISO 8601 datetime"),
    "datetime_from_date_parsing": Text(
        "须为 ISO 8601 时间", "Input should be an ISO 8601 datetime"
    ),
    "datetime_object_invalid": Text("须为 ISO 8601 时间", "Input should be an ISO 8601 datetime"),
    "datetime_past": Text("须为过去的时间", "Should be in the past"),
    "datetime_future": Text("须为将来的时间", "Should be in the future"),
    "timezone_naive": Text("不能带时区", "Should have no time zone"),
    "timezone_aware": Text("须带时区", "Should have a time zone"),
    "time_delta_type": Text("须为时长", "Input should be a duration"),
    "time_delta_parsing": Text("须为时长", "Input should be a duration"),
    "url_type": Text("须为网址", "Input should be a URL"),
    "url_parsing": Text("须为网址", "Input should be a URL"),
    "url_syntax_violation": Text("须为网址", "Input should be a URL"),
    "url_too_long": Text(
        "网址长度不能超过 {max_length}", "The URL may have at most {max_length} characters"
    ),
    "url_scheme": Text(
        "网址须以 {expected_schemes} 开头", "The URL scheme should be {expected_schemes}"
    ),
    "recursion_loop": Text("嵌套过深", "Nested too deeply"),
    # Ours (PydanticCustomError in the schemas), named for what is wrong.
    "https_url_required": Text(
        "须为 https:// 开头的网址", "Should be a URL starting with https://"
    ),
    "date_out_of_range": Text(
        "须在 {earliest} 与 {latest} 之间", "Should be between {earliest} and {latest}"
    ),
}

_LISTED = {"expected", "expected_tags", "expected_schemes"}
_JOINERS: dict[Language, tuple[str, str]] = {"zh-CN": ("、", " 或 "), "en": (", ", " or ")}
_FALLBACK = Text("取值不正确", "The value is not valid")


def join_alternatives(items: list[str], language: Language) -> str:
    """`a, b or c` in the caller's language."""
    comma, last = _JOINERS[language]
    if len(items) < 2:
        return "".join(items)
    return comma.join(items[:-1]) + last + items[-1]


def _split_alternatives(joined: str) -> list[str]:
    """Pydantic's `'a', 'b' or 'c'` back into its items."""
    head, separator, tail = joined.rpartition(" or ")
    if not separator:
        return [joined]
    return [*head.split(", "), tail]


def validation_message(error: Mapping[str, Any], language: Language) -> str:
    """The message for one of pydantic's errors, wholly in `language`."""
    text = _TEXTS.get(str(error.get("type")))
    if text is None:
        return _FALLBACK.render(language) if language != "en" else str(error.get("msg", ""))
    params: dict[str, object] = {}
    for name, value in (error.get("ctx") or {}).items():
        if name in _LISTED and isinstance(value, str):
            value = join_alternatives(_split_alternatives(value), language)
        params[name] = value
    template = text.en if language == "en" else text.zh
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):  # a context without the values the text names
        return template.split("{", 1)[0].rstrip("：: ") or _FALLBACK.render(language)


def known_types() -> frozenset[str]:
    """The error types with a text in both languages (for tests)."""
    return frozenset(_TEXTS)
