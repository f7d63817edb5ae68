"""Prompt -> `Scene`: which landscape elements, light, season and painting style a prompt names.

Keywords are matched in English (whole words, optional plural "s"/"es") and in Chinese (as
substrings, because Chinese text has no spaces). Longer keywords are matched first and their
text is consumed, so "银河" (Milky Way) counts as stars and not also as "河" (river), and
"oil painting" is not read again as "oil".

Example:
    >>> parse_prompt("美丽的日落山景，油画风格").elements
    ('mountains',)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from servers.shared.scene_words import mask_non_scene_words

__all__ = [
    "Scene",
    "parse_prompt",
    "fallback_scene",
    "KEYWORDS",
    "TIMES",
    "FEATURES",
    "SKY_ELEMENTS",
    "WEATHER",
    "SEASONS",
    "STYLES",
]

TIMES = ("day", "sunset", "dawn", "night")
FEATURES = (
    "mountains",
    "hills",
    "forest",
    "trees",
    "stream",
    "river",
    "lake",
    "waterfall",
    "sea",
    "beach",
    "snow",
    "city",
    "desert",
    "meadow",
    "flowers",
)
SKY_ELEMENTS = ("clouds", "stars", "moon", "rainbow", "aurora")
WEATHER = ("rain", "fog", "snowfall")
SEASONS = ("spring", "summer", "autumn", "winter")
STYLES = ("oil", "watercolor", "ink", "sketch", "pixel", "cartoon")

# Each keyword maps to the tags it stands for. A tag is a time, feature, sky element, weather,
# season or style name from the tuples above.
KEYWORDS: dict[str, tuple[str, ...]] = {
    # Light and time of day.
    "sunset": ("sunset",), "sundown": ("sunset",), "dusk": ("sunset",), "evening": ("sunset",),
    "golden hour": ("sunset",), "twilight": ("sunset",),
    "日落": ("sunset",), "黄昏": ("sunset",), "夕阳": ("sunset",), "落日": ("sunset",), "晚霞": ("sunset", "clouds"),
    "傍晚": ("sunset",), "余晖": ("sunset",), "暮色": ("sunset",), "残阳": ("sunset",),
    "sunrise": ("dawn",), "dawn": ("dawn",), "daybreak": ("dawn",), "morning": ("dawn",), "first light": ("dawn",),
    "日出": ("dawn",), "黎明": ("dawn",), "清晨": ("dawn",), "早晨": ("dawn",), "朝阳": ("dawn",),
    "晨曦": ("dawn",), "曙光": ("dawn",), "拂晓": ("dawn",), "朝霞": ("dawn", "clouds"),
    "night": ("night",), "midnight": ("night",), "nighttime": ("night",), "moonlit": ("night", "moon"),
    "moonlight": ("night", "moon"), "moon": ("night", "moon"), "starry": ("night", "stars"),
    "star": ("night", "stars"), "milky way": ("night", "stars"), "galaxy": ("night", "stars"),
    "夜": ("night",), "月": ("night", "moon"), "星": ("night", "stars"), "银河": ("night", "stars"),
    "day": ("day",), "daytime": ("day",), "noon": ("day",), "midday": ("day",), "sunny": ("day",),
    "sunshine": ("day",), "blue sky": ("day",),
    "白天": ("day",), "正午": ("day",), "中午": ("day",), "晴天": ("day",), "晴朗": ("day",),
    "阳光": ("day",), "蓝天": ("day",), "白昼": ("day",),
    # Land.
    "mountain": ("mountains",), "mountainous": ("mountains",), "peak": ("mountains",), "summit": ("mountains",),
    "alps": ("mountains",), "ridge": ("mountains",), "cliff": ("mountains",), "valley": ("mountains", "meadow"),
    "canyon": ("mountains", "desert"),
    "山": ("mountains",), "峰": ("mountains",), "岭": ("mountains",), "峦": ("mountains",), "悬崖": ("mountains",),
    "峡谷": ("mountains", "river"), "山谷": ("mountains", "meadow"),
    "hill": ("hills",), "hillside": ("hills",), "rolling hills": ("hills", "meadow"),
    "丘陵": ("hills",), "山丘": ("hills",), "小山": ("hills",),
    "forest": ("forest",), "woods": ("forest",), "woodland": ("forest",), "jungle": ("forest", "summer"),
    "rainforest": ("forest", "summer"), "grove": ("forest",), "pine": ("forest",),
    "森林": ("forest",), "树林": ("forest",), "林": ("forest",), "丛林": ("forest", "summer"), "松树": ("forest",),
    "tree": ("trees",), "树": ("trees",), "枫": ("trees", "autumn"),
    "meadow": ("meadow",), "grassland": ("meadow",), "field": ("meadow",), "prairie": ("meadow",),
    "pasture": ("meadow",), "lawn": ("meadow",), "grass": ("meadow",),
    "草地": ("meadow",), "草原": ("meadow",), "草坪": ("meadow",), "田野": ("meadow",), "原野": ("meadow",),
    "草": ("meadow",),
    "flower": ("flowers", "meadow"), "blossom": ("flowers", "spring"), "bloom": ("flowers",),
    "garden": ("flowers", "meadow"), "tulip": ("flowers", "meadow"),
    "花": ("flowers", "meadow"), "樱花": ("flowers", "spring", "trees"), "桃花": ("flowers", "spring", "trees"),
    "desert": ("desert",), "dune": ("desert",), "sahara": ("desert",),
    "沙漠": ("desert",), "沙丘": ("desert",), "戈壁": ("desert",),
    "snow": ("snow",), "snowy": ("snow",), "ice": ("snow",), "glacier": ("snow", "mountains"), "frozen": ("snow",),
    "snowing": ("snow", "snowfall"), "snowfall": ("snow", "snowfall"), "snowflake": ("snow", "snowfall"),
    "雪": ("snow",), "冰": ("snow",), "下雪": ("snow", "snowfall"), "雪花": ("snow", "snowfall"),
    "飘雪": ("snow", "snowfall"), "雪山": ("snow", "mountains"),
    "city": ("city",), "cityscape": ("city",), "skyline": ("city",), "street": ("city",), "downtown": ("city",),
    "skyscraper": ("city",), "building": ("city",), "town": ("city",), "urban": ("city",), "metropolis": ("city",),
    "城市": ("city",), "都市": ("city",), "街": ("city",), "高楼": ("city",), "大厦": ("city",),
    "摩天": ("city",), "城镇": ("city",), "小镇": ("city",), "楼": ("city",),
    # Water.
    "stream": ("stream",), "brook": ("stream",), "creek": ("stream",), "flowing": ("stream",),
    "溪": ("stream",), "流淌": ("stream",), "流水": ("stream",), "泉": ("stream",),
    "river": ("river",), "河": ("river",), "江": ("river",),
    "lake": ("lake",), "pond": ("lake",), "pool": ("lake",), "reflection": ("lake",),
    "湖": ("lake",), "池塘": ("lake",), "潭": ("lake",), "倒影": ("lake",), "山水": ("mountains", "lake"),
    "waterfall": ("waterfall", "mountains"), "cascade": ("waterfall", "mountains"),
    "瀑布": ("waterfall", "mountains"), "飞流": ("waterfall", "mountains"),
    "sea": ("sea",), "ocean": ("sea",), "seascape": ("sea",), "wave": ("sea",), "coast": ("sea", "beach"),
    "seaside": ("sea", "beach"),
    "海": ("sea",), "海洋": ("sea",), "大海": ("sea",), "海浪": ("sea",), "波涛": ("sea",),
    "beach": ("beach", "sea"), "shore": ("beach", "sea"),
    "海滩": ("beach", "sea"), "沙滩": ("beach", "sea"), "海边": ("beach", "sea"), "海岸": ("beach", "sea"),
    # Sky and weather.
    "cloud": ("clouds",), "cloudy": ("clouds",), "overcast": ("clouds",),
    "云": ("clouds",), "白云": ("clouds",), "云海": ("clouds", "fog", "mountains"),
    "rainbow": ("rainbow",), "彩虹": ("rainbow",),
    "aurora": ("aurora", "night"), "northern lights": ("aurora", "night"), "极光": ("aurora", "night"),
    "rain": ("rain", "clouds"), "rainy": ("rain", "clouds"), "raining": ("rain", "clouds"),
    "storm": ("rain", "clouds"), "drizzle": ("rain", "clouds"),
    "雨": ("rain", "clouds"), "烟雨": ("rain", "fog", "clouds"),
    "fog": ("fog",), "foggy": ("fog",), "mist": ("fog",), "misty": ("fog",), "haze": ("fog",), "hazy": ("fog",),
    "雾": ("fog",), "雾气": ("fog",), "云雾": ("fog", "clouds"),
    # Seasons.
    "spring": ("spring",), "springtime": ("spring",), "summer": ("summer",), "autumn": ("autumn",),
    "fall": ("autumn",), "winter": ("winter", "snow"),
    "春": ("spring",), "夏": ("summer",), "秋": ("autumn",), "冬": ("winter", "snow"), "红叶": ("autumn", "trees"),
    # Painting styles.
    "oil painting": ("oil",), "oil": ("oil",), "impasto": ("oil",), "油画": ("oil",),
    "watercolor": ("watercolor",), "watercolour": ("watercolor",), "水彩": ("watercolor",),
    "ink wash": ("ink",), "ink": ("ink",), "sumi-e": ("ink",), "chinese painting": ("ink",),
    "水墨": ("ink",), "国画": ("ink",), "山水画": ("ink", "mountains", "lake"), "墨": ("ink",),
    "sketch": ("sketch",), "pencil": ("sketch",), "drawing": ("sketch",), "charcoal": ("sketch",),
    "素描": ("sketch",), "铅笔": ("sketch",), "速写": ("sketch",), "线稿": ("sketch",),
    "pixel art": ("pixel",), "pixel": ("pixel",), "8-bit": ("pixel",), "16-bit": ("pixel",), "retro game": ("pixel",),
    "像素": ("pixel",),
    "cartoon": ("cartoon",), "anime": ("cartoon",), "comic": ("cartoon",), "ghibli": ("cartoon",),
    "动漫": ("cartoon",), "卡通": ("cartoon",), "动画": ("cartoon",), "漫画": ("cartoon",),
}

_CATEGORY_OF = {
    **{tag: "time" for tag in TIMES},
    **{tag: "feature" for tag in FEATURES},
    **{tag: "sky" for tag in SKY_ELEMENTS},
    **{tag: "weather" for tag in WEATHER},
    **{tag: "season" for tag in SEASONS},
    **{tag: "style" for tag in STYLES},
}


@dataclass(frozen=True)
class Scene:
    """Scene description for the painter: light, landscape elements, season and painting style."""

    time: str = "day"
    features: frozenset[str] = frozenset()
    sky: frozenset[str] = frozenset()
    weather: frozenset[str] = frozenset()
    season: str | None = None
    style: str | None = None
    keywords: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    time_given: bool = False
    recognised: bool = True

    @property
    def elements(self) -> tuple[str, ...]:
        """Recognised scene elements (features, sky elements, weather) in a fixed order."""
        ordered = FEATURES + SKY_ELEMENTS + WEATHER
        present = self.features | self.sky | self.weather
        return tuple(tag for tag in ordered if tag in present)

    def has(self, *tags: str) -> bool:
        """Tell whether any of `tags` is among the features, sky elements or weather."""
        present = self.features | self.sky | self.weather
        return any(tag in present for tag in tags)

    def describe(self) -> dict[str, object]:
        """Summarise the scene as JSON-ready data for the result details."""
        return {
            "time": self.time,
            "elements": list(self.elements),
            "season": self.season,
            "style": self.style,
            "keywords": list(self.keywords),
            "excluded": list(self.excluded),
            "recognised": self.recognised,
        }


def _english_pattern(keyword: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z0-9])" + re.escape(keyword) + r"(?:s|es)?(?![a-z0-9])")


_ORDERED_KEYWORDS = sorted(KEYWORDS, key=len, reverse=True)
_ENGLISH_PATTERNS = {keyword: _english_pattern(keyword) for keyword in KEYWORDS if keyword.isascii()}


def find_keywords(text: str) -> list[tuple[int, str]]:
    """Return (position, keyword) for every keyword in `text`, longest keywords first."""
    remaining = mask_non_scene_words(text.lower())
    found: list[tuple[int, str]] = []
    for keyword in _ORDERED_KEYWORDS:
        if keyword.isascii():
            match = _ENGLISH_PATTERNS[keyword].search(remaining)
            start, end = (match.start(), match.end()) if match else (-1, -1)
        else:
            start = remaining.find(keyword)
            end = start + len(keyword)
        if start < 0:
            continue
        found.append((start, keyword))
        remaining = remaining[:start] + " " * (end - start) + remaining[end:]
    return sorted(found)


def _tags_in(text: str) -> tuple[list[str], list[str]]:
    """Return the tags of `text` in prompt order and the keywords that produced them."""
    tags: list[str] = []
    keywords: list[str] = []
    for _, keyword in find_keywords(text):
        keywords.append(keyword)
        for tag in KEYWORDS[keyword]:
            if tag not in tags:
                tags.append(tag)
    return tags, keywords


def parse_prompt(prompt: str, negative_prompt: str | None = None) -> Scene:
    """Read the scene a prompt names; elements named in `negative_prompt` are left out.

    When the prompt names several times of day, seasons or styles, the first one in the
    prompt wins. Stars, moon or aurora without a time of day mean night.
    """
    tags, keywords = _tags_in(prompt)
    excluded: list[str] = []
    if negative_prompt:
        negative_tags, _ = _tags_in(negative_prompt)
        excluded = [tag for tag in negative_tags if tag in tags and _CATEGORY_OF[tag] != "time"]
        tags = [tag for tag in tags if tag not in excluded]

    def first(category: str) -> str | None:
        return next((tag for tag in tags if _CATEGORY_OF[tag] == category), None)

    def every(category: str) -> frozenset[str]:
        return frozenset(tag for tag in tags if _CATEGORY_OF[tag] == category)

    time = first("time")
    sky = every("sky")
    time_given = time is not None
    if time is None:
        time = "night" if sky & {"stars", "moon", "aurora"} else "day"
    features = every("feature")
    season = first("season")
    if season == "winter":
        features |= {"snow"}
    weather = every("weather")
    recognised = bool(features or sky or weather or time_given or season)
    return Scene(
        time=time,
        features=features,
        sky=sky,
        weather=weather,
        season=season,
        style=first("style"),
        keywords=tuple(keywords),
        excluded=tuple(excluded),
        time_given=time_given,
        recognised=recognised,
    )


_FALLBACK_FEATURES = (
    ("mountains", "lake"),
    ("hills", "meadow", "trees", "flowers"),
    ("sea", "beach"),
    ("forest", "stream"),
    ("mountains", "forest", "river"),
    ("meadow", "trees", "lake"),
)
_FALLBACK_TIMES = ("day", "day", "sunset", "dawn")


def fallback_scene(scene: Scene, seed: int) -> Scene:
    """Return a landscape chosen by the seed for a prompt that named no scene element.

    The prompt's painting style, if any, is kept.
    """
    features = _FALLBACK_FEATURES[seed % len(_FALLBACK_FEATURES)]
    time = _FALLBACK_TIMES[(seed // len(_FALLBACK_FEATURES)) % len(_FALLBACK_TIMES)]
    return Scene(
        time=time,
        features=frozenset(features),
        style=scene.style,
        keywords=scene.keywords,
        excluded=scene.excluded,
        recognised=False,
    )
