"""The English text prompt of a soundtrack: style, scene sound elements and the video's mood.

Text-to-audio models such as Stable Audio Open read English only. A Chinese scene text
therefore reaches the model through the sound elements its words select, while an
English scene text is also quoted as it is.
"""

from __future__ import annotations

import re

from servers.video2audio.analysis import VideoAnalysis
from servers.video2audio.scene import Scene
from servers.video2audio.styles import STYLES

__all__ = ["ELEMENT_PHRASES", "build_prompt", "mood_words"]

ELEMENT_PHRASES = {
    "water": "flowing stream water",
    "waves": "ocean waves on a shore",
    "rain": "steady rain",
    "thunder": "distant thunder",
    "wind": "soft wind",
    "birds": "birdsong",
    "crickets": "crickets at night",
    "city": "distant city traffic hum",
    "fire": "crackling fire",
}
_MOTION_WORDS = {"still": "calm, sparse", "gentle": "gentle", "lively": "lively, building", "intense": "intense, energetic"}
_LIGHT_WORDS = {"dark": "dark, mysterious", "bright": "bright, airy", "medium": ""}
_MAX_SCENE_CHARS = 200
_LATIN_TEXT = re.compile(r"^[\x20-\x7e]+$")


def mood_words(scene: Scene, analysis: VideoAnalysis) -> list[str]:
    """Return adjectives for the prompt: the scene's own mood wins over the measured motion."""
    words = []
    if scene.mood == "calm":
        words.append("gentle, peaceful")
    elif scene.mood == "intense":
        words.append("intense, powerful")
    else:
        words.append(_MOTION_WORDS[analysis.mood])
    if _LIGHT_WORDS[analysis.light]:
        words.append(_LIGHT_WORDS[analysis.light])
    return words


def build_prompt(scene: Scene, style: str, analysis: VideoAnalysis, elements: tuple[str, ...]) -> str:
    """Compose the prompt, for example "nature field recording, ..., flowing stream water, birdsong, gentle"."""
    parts = [STYLES[style].prompt_words]
    if scene.text and _LATIN_TEXT.match(scene.text):
        parts.append(scene.text[:_MAX_SCENE_CHARS])
    parts.extend(ELEMENT_PHRASES[element] for element in elements)
    parts.extend(mood_words(scene, analysis))
    parts.append("high quality, stereo")
    return ", ".join(part for part in parts if part)
