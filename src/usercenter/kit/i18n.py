"""The two languages the API speaks, and how a request picks one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Language = Literal["zh-CN", "en"]
DEFAULT_LANGUAGE: Language = "zh-CN"


@dataclass(frozen=True, slots=True)
class Text:
    """A message in both languages; `{name}` placeholders are filled by `render`. A parameter
    that is itself a `Text` (a status, a reason) is rendered in the same language."""

    zh: str
    en: str

    def render(self, language: Language, **params: object) -> str:
        template = self.en if language == "en" else self.zh
        if not params:
            return template
        return template.format(
            **{
                name: value.render(language) if isinstance(value, Text) else value
                for name, value in params.items()
            }
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
