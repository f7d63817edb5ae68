"""Chinese words that contain a scene keyword's character but name no scene.

The text2image and video2audio scene parsers match single characters such as 月 (moon) or
风 (wind), because Chinese text has no spaces between words. Inside 岁月 ("the years") or
风格 ("style"), those characters name nothing in the scene. `mask_non_scene_words` blanks
such words out before matching, so they add no moon to the picture and no wind to the
soundtrack.
"""

from __future__ import annotations

import re

__all__ = ["NON_SCENE_WORDS", "mask_non_scene_words"]

# A word is listed only when it rarely overlaps a scene word in a prompt: 上海 is left out
# because of 礁石上海风, and 月初 because of 明月初升, since text has no word boundaries.
NON_SCENE_WORDS: tuple[str, ...] = (
    # 月 (moon) in words about time.
    "岁月", "月份", "正月", "腊月", "蜜月", "月饼", "月薪", "月底", "每月", "本月", "年月",
    # 星 (star) in people and weekdays.
    "星期", "歌星", "球星", "星巴克",
    # 风 (wind) in style and manner.
    "风格", "风险", "风俗", "作风", "风度", "风味",
    # Other words built on a landscape character.
    "海报", "海关", "海鲜", "海绵", "江湖", "山寨", "云计算", "花钱", "花费", "花样", "冰箱", "草稿", "草率",
    # 火 (fire) and 水 (water) in everyday things.
    "火车", "火锅", "火箭", "火腿", "水果", "薪水", "水泥",
    # 静 and 轻 (calm) in words that carry no mood.
    "静态", "年轻",
)

# Month names such as 一月, 十二月 and 3月, and spans such as 三个月, but not 两个月亮.
_MONTHS = r"[一二三四五六七八九十两几\d]+个?月(?![亮光色夜牙])"
_PATTERN = re.compile("|".join([*(re.escape(word) for word in sorted(NON_SCENE_WORDS, key=len, reverse=True)), _MONTHS]))


def mask_non_scene_words(text: str) -> str:
    """Return `text` with every non-scene word replaced by spaces of the same length."""
    return _PATTERN.sub(lambda match: " " * len(match.group()), text)
