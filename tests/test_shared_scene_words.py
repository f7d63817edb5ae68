"""Blanking Chinese words that contain a scene character but name no scene."""

from __future__ import annotations

import pytest

from servers.shared.scene_words import mask_non_scene_words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("岁月静好", "  静好"),
        ("油画风格", "油画  "),
        ("三个月后", "   后"),
        ("12月的雪", "   的雪"),
        ("风味小吃", "  小吃"),
    ],
)
def test_mask_blanks_non_scene_words(text: str, expected: str) -> None:
    assert mask_non_scene_words(text) == expected


@pytest.mark.parametrize(
    "text", ["月亮和星星", "山风吹过", "海浪", "a windy night", "一轮明月初升", "两个月亮挂在夜空", "站在礁石上海风吹拂", "黎明星空", "河南岸的芦苇"]
)
def test_mask_keeps_scene_words(text: str) -> None:
    assert mask_non_scene_words(text) == text
