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

NON_SCENE_WORDS: tuple[str, ...] = (
    # 月 (moon) in words about time.
    "岁月", "月份", "正月", "腊月", "蜜月", "月饼", "月薪", "月底", "月初", "每月", "本月", "上月", "下月", "年月",
    # 星 (star) in people and weekdays.
    "星期", "明星", "歌星", "影星", "球星", "星巴克",
    # 风 (wind) in style and manner.
    "风格", "风险", "风俗", "作风", "风度", "风味",
    # Province and city names, and other words built on a landscape character.
    "上海", "海报", "海关", "海鲜", "海绵", "江湖", "浙江", "江苏", "江西", "河南", "河北", "山东", "山西", "山寨", "云南",
    "云计算", "云端", "花钱", "花费", "花生", "花样", "雪碧", "冰箱", "草稿", "草率", "树立",
    # 火 (fire) and 水 (water) in everyday things.
    "火车", "火锅", "火箭", "火腿", "水平", "水果", "薪水", "水泥",
    # 静 and 轻 (calm) in words that say nothing about mood.
    "静态", "年轻",
)

# Month names such as 一月, 十二月 and 3月, and spans such as 三个月.
_MONTHS = r"[一二三四五六七八九十两几\d]+个?月"
_PATTERN = re.compile("|".join([*(re.escape(word) for word in sorted(NON_SCENE_WORDS, key=len, reverse=True)), _MONTHS]))


def mask_non_scene_words(text: str) -> str:
    """Return `text` with every non-scene word replaced by spaces of the same length."""
    return _PATTERN.sub(lambda match: " " * len(match.group()), text)
