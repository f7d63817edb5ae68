"""Prompt enrichment for the keyframe when `auto_enhance` is on.

Adds quality and style terms in the prompt's own language (Chinese terms for a prompt
written in Chinese, English otherwise) and a negative prompt against common defects,
unless the caller gave one. Terms the prompt already contains are not repeated, and no
term names scenery, time of day or a painting medium, so enrichment never changes what
the picture shows.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

__all__ = ["PromptEnhancement", "enhance_prompt", "is_chinese"]

ENGLISH_TERMS = ("cinematic composition", "highly detailed", "sharp focus", "rich colours", "high quality")
CHINESE_TERMS = ("电影感构图", "细节丰富", "画面清晰", "色彩丰富", "高画质")
ENGLISH_NEGATIVE = "blurry, low quality, jpeg artifacts, watermark, deformed, oversaturated"
CHINESE_NEGATIVE = "模糊，低画质，压缩痕迹，水印，变形，过饱和"

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def is_chinese(text: str) -> bool:
    """Tell whether `text` is mostly written in Chinese characters rather than Latin letters."""
    return len(_CJK.findall(text)) >= len(_LATIN.findall(text)) and bool(_CJK.search(text))


@dataclass(frozen=True)
class PromptEnhancement:
    """The prompts sent to the image stage and what enrichment added."""

    original: str
    image_prompt: str
    negative_prompt: str | None
    added_terms: list[str] = field(default_factory=list)
    added_negative: bool = False
    language: str = "en"

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def enhance_prompt(prompt: str, *, negative_prompt: str | None = None) -> PromptEnhancement:
    """Return `prompt` enriched with the quality and style terms it lacks."""
    chinese = is_chinese(prompt)
    terms = CHINESE_TERMS if chinese else ENGLISH_TERMS
    separator = "，" if chinese else ", "
    lowered = prompt.lower()
    added = [term for term in terms if term.lower() not in lowered]

    base = prompt.rstrip(" ,，。.")
    image_prompt = separator.join([base, *added]) if added else prompt

    added_negative = negative_prompt is None
    if added_negative:
        negative_prompt = CHINESE_NEGATIVE if chinese else ENGLISH_NEGATIVE
    return PromptEnhancement(
        original=prompt,
        image_prompt=image_prompt,
        negative_prompt=negative_prompt,
        added_terms=added,
        added_negative=added_negative,
        language="zh" if chinese else "en",
    )
