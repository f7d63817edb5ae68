"""The scene of a video: the caller's description, or the prompt found in the video's provenance.

Every stage writes a manifest beside its output listing its `parents`. Following those
links from the video back to the image it was animated from finds the original prompt,
so a video made from "宁静的森林中流淌的溪水" is known to show a forest stream. Scene
words in Chinese or English then select sound elements (water, birds, wind, ...).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from servers.shared.artifacts import read_manifest
from servers.shared.scene_words import mask_non_scene_words

__all__ = ["SOUND_ELEMENTS", "Scene", "describe_scene", "find_provenance_prompt", "match_elements"]

logger = logging.getLogger(__name__)

MAX_PROVENANCE_DEPTH = 16

# Sound element -> (English words, Chinese words). English words match whole words
# (so "rain" does not match "train"); Chinese words match as substrings.
SOUND_ELEMENTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "water": (
        ("stream", "streams", "river", "brook", "creek", "waterfall", "water", "fountain", "spring", "lake"),
        ("溪", "河", "江", "流水", "瀑布", "泉", "水", "湖"),
    ),
    "waves": (("sea", "ocean", "beach", "wave", "waves", "shore", "surf", "coast"), ("海", "浪", "沙滩", "海岸")),
    "rain": (("rain", "rainy", "raining", "storm", "drizzle", "shower"), ("雨",)),
    "thunder": (("thunder", "lightning", "thunderstorm"), ("雷", "闪电")),
    "wind": (
        ("wind", "windy", "breeze", "forest", "woods", "mountain", "mountains", "desert", "snow", "grassland", "sky", "clouds"),
        ("风", "森林", "山", "沙漠", "雪", "草原", "天空", "云"),
    ),
    "birds": (
        ("forest", "woods", "bird", "birds", "tree", "trees", "garden", "morning", "dawn", "jungle", "park"),
        ("森林", "林", "鸟", "树", "花园", "清晨", "早晨", "黎明", "公园"),
    ),
    "crickets": (("night", "evening", "moon", "moonlight", "dusk", "stars"), ("夜", "晚", "月", "黄昏", "星")),
    "city": (
        ("city", "street", "streets", "traffic", "urban", "town", "car", "cars", "downtown", "market"),
        ("城市", "街", "车", "都市", "市场", "城"),
    ),
    "fire": (("fire", "campfire", "flame", "flames", "fireplace", "candle"), ("火", "篝火", "火焰", "蜡烛")),
}

CALM_WORDS = (("calm", "quiet", "peaceful", "serene", "gentle", "tranquil", "still", "soft"), ("宁静", "安静", "平静", "静", "温柔", "轻"))
INTENSE_WORDS = (
    ("battle", "explosion", "chase", "fight", "storm", "fast", "racing", "war", "intense", "action"),
    ("战斗", "爆炸", "追逐", "激烈", "战争", "奔跑", "狂"),
)


@dataclass(frozen=True)
class Scene:
    """The scene text, where it came from, and the sound elements and mood it implies."""

    text: str | None
    source: str  # "description", "provenance" or "none"
    elements: tuple[str, ...] = ()
    mood: str | None = None  # "calm", "intense" or None when the words do not say
    provenance_chain: tuple[str, ...] = field(default_factory=tuple)


def _matches(text: str, words: tuple[tuple[str, ...], tuple[str, ...]]) -> bool:
    english, chinese = words
    text = mask_non_scene_words(text)
    lowered = text.lower()
    if any(word in text for word in chinese):
        return True
    return any(re.search(rf"\b{re.escape(word)}\b", lowered) for word in english)


def match_elements(text: str) -> tuple[tuple[str, ...], str | None]:
    """Return the sound elements and the mood (`calm`, `intense` or None) that `text` names."""
    elements = tuple(name for name, words in SOUND_ELEMENTS.items() if _matches(text, words))
    mood = None
    if _matches(text, INTENSE_WORDS):
        mood = "intense"
    elif _matches(text, CALM_WORDS):
        mood = "calm"
    return elements, mood


def _parent_path(reference: Any, base: Path) -> Path | None:
    if not isinstance(reference, str) or not reference:
        return None
    parsed = urlparse(reference)
    if parsed.scheme == "file":
        candidate = Path(unquote(parsed.path))
    elif parsed.scheme and len(parsed.scheme) > 1:
        return None
    else:
        candidate = Path(reference)
    if not candidate.is_absolute():
        candidate = base / candidate
    return candidate.resolve()


def _prompt_of(manifest: dict[str, Any]) -> str | None:
    parameters = manifest.get("parameters") if isinstance(manifest.get("parameters"), dict) else {}
    for value in (manifest.get("prompt"), parameters.get("prompt"), manifest.get("description"), parameters.get("description")):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def find_provenance_prompt(path: Path, roots: Sequence[Path]) -> tuple[str | None, tuple[str, ...]]:
    """Follow manifests from `path` through `parents` (breadth first) to the nearest prompt.

    Only files inside `roots` are read, so a manifest cannot point the server at other
    files. Returns the prompt (or None) and the chain of files visited to reach it.
    """
    queue: list[tuple[Path, tuple[str, ...]]] = [(path.resolve(), (str(path),))]
    seen: set[Path] = set()
    while queue and len(seen) < MAX_PROVENANCE_DEPTH:
        current, chain = queue.pop(0)
        if current in seen:
            continue
        seen.add(current)
        manifest = read_manifest(current)
        if not manifest:
            continue
        prompt = _prompt_of(manifest)
        if prompt:
            return prompt, chain
        for reference in manifest.get("parents") or []:
            parent = _parent_path(reference, current.parent)
            if parent is None or not any(parent == root or parent.is_relative_to(root) for root in roots):
                logger.debug("Not following parent %r of %s: outside the input roots", reference, current)
                continue
            queue.append((parent, (*chain, str(parent))))
    return None, ()


def describe_scene(description: str | None, video_path: Path, roots: Sequence[Path]) -> Scene:
    """Return the scene from `description`, else from the video's provenance, else an empty scene."""
    if description:
        elements, mood = match_elements(description)
        return Scene(text=description, source="description", elements=elements, mood=mood)

    prompt, chain = find_provenance_prompt(video_path, roots)
    if prompt:
        elements, mood = match_elements(prompt)
        logger.info("Scene of %s from provenance: %r -> %s", video_path.name, prompt, ", ".join(elements) or "no elements")
        return Scene(text=prompt, source="provenance", elements=elements, mood=mood, provenance_chain=chain)
    return Scene(text=None, source="none")
