"""The two languages the API speaks, and how a request picks one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from usercenter.kit.clock import CHINA_TIME

Language = Literal["zh-CN", "en"]
DEFAULT_LANGUAGE: Language = "zh-CN"


@dataclass(frozen=True, slots=True)
class Text:
    """A message in both languages; `{name}` placeholders are filled by `render`. A parameter
    that is itself a `Text` (a status, a reason) is rendered in the same language."""

    zh: str
    en: str

    def render(self, language: Language, **params: object) -> str:
        """The text in `language`; a parameter that is itself a Text is rendered in it too."""
        template = self.en if language == "en" else self.zh
        if not params:
            return template
        return template.format(
            **{k: v.render(language) if isinstance(v, Text) else v for k, v in params.items()}
        )


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def china_time(moment: datetime) -> Text:
    """A moment as people in China read it, to the minute (rounded up, so a "try again
    after" time is never early): `2026年11月28日 00:45` / `28 Nov 2026, 00:45 China time
    (UTC+8)`."""
    local = moment.astimezone(CHINA_TIME)
    if local.second or local.microsecond:
        local = local.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return Text(
        f"北京时间 {local.year}年{local.month}月{local.day}日 {local:%H:%M}",
        f"{local.day} {_MONTHS[local.month - 1]} {local.year}, {local:%H:%M} China time (UTC+8)",
    )


def negotiate_language(accept_language: str | None) -> Language:
    """Pick zh-CN or en from an Accept-Language header by quality; zh-CN when unsure."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    best: tuple[float, Language] | None = None
    for position, item in enumerate(accept_language.split(",")):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip().lower()
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if quality <= 0:
            continue
        language: Language | None = None
        if tag == "en" or tag.startswith("en-"):
            language = "en"
        elif tag == "zh" or tag.startswith("zh-"):
            language = "zh-CN"
        if language is None:
            continue
        # Higher quality wins; on a tie, the earlier tag (smaller position) wins.
        score = quality - position * 1e-6
        if best is None or score > best[0]:
            best = (score, language)
    return best[1] if best else DEFAULT_LANGUAGE
