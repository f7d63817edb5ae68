"""The soundtrack styles: one line each for the tool schema, and the procedural engine's recipe.

The recipes differ in register, harmonic richness, rhythm and how much of the noise bed
(water, wind, ...) plays, which makes their spectral centroids and rhythm measurably
different. The diffusers engine uses `prompt_words` to steer the model the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_STYLE", "STYLES", "StyleRecipe", "style_help"]


@dataclass(frozen=True, kw_only=True)
class StyleRecipe:
    """Recipe of a style for the procedural engine. Frequencies are in Hz and times in seconds."""

    description: str
    prompt_words: str
    root_hz: float
    chords: tuple[tuple[int, ...], ...]  # semitone offsets from the root, one tuple per chord
    chord_seconds: float
    harmonics: tuple[float, ...]  # amplitude of harmonic 1, 2, 3, ... of each pad voice
    pad_gain: float
    bed_gain: float
    default_elements: tuple[str, ...]
    bpm: float = 0.0  # 0 means no beat
    arpeggio: bool = False
    bells: bool = False
    drums_on_motion: bool = False
    motion_depth: float = 0.7  # share of the loudness that follows motion
    lowpass_hz: float = 12000.0


STYLES: dict[str, StyleRecipe] = {
    "cinematic": StyleRecipe(
        description="orchestral low strings and brass-like swells that rise with on-screen action, drums on big moves",
        prompt_words="cinematic orchestral score, low strings, brass swells, epic",
        root_hz=55.0,
        chords=((0, 7, 12, 15, 19), (-4, 3, 8, 12, 15), (-7, 0, 5, 9, 12), (-2, 5, 10, 14, 17)),
        chord_seconds=6.0,
        harmonics=(1.0, 0.55, 0.4, 0.3, 0.22, 0.15, 0.1),
        pad_gain=1.0,
        bed_gain=0.12,
        default_elements=("wind",),
        drums_on_motion=True,
        motion_depth=0.8,
        lowpass_hz=6000.0,
    ),
    "nature": StyleRecipe(
        description="field-recording soundscape: water, birds, wind or rain from the scene, with a faint warm drone",
        prompt_words="nature field recording, ambient environmental sounds, no music",
        root_hz=110.0,
        chords=((0, 7, 12),),
        chord_seconds=12.0,
        harmonics=(1.0, 0.2),
        pad_gain=0.12,
        bed_gain=1.0,
        default_elements=("water", "birds", "wind"),
        motion_depth=0.6,
        lowpass_hz=16000.0,
    ),
    "ambient": StyleRecipe(
        description="slowly evolving airy pads over a soft wind bed, spacious and unobtrusive",
        prompt_words="ambient soundscape, airy evolving pads, spacious, atmospheric",
        root_hz=146.83,
        chords=((0, 7, 14, 16), (-3, 4, 11, 14), (-5, 2, 9, 12), (-7, 0, 7, 11)),
        chord_seconds=8.0,
        harmonics=(1.0, 0.35, 0.2, 0.12),
        pad_gain=0.8,
        bed_gain=0.35,
        default_elements=("wind",),
        bells=True,
        motion_depth=0.6,
        lowpass_hz=9000.0,
    ),
    "electronic": StyleRecipe(
        description="synth pulse at 112 BPM: kick, hi-hats, bass and arpeggios that get busier with motion",
        prompt_words="electronic music, synth arpeggio, driving beat, 112 bpm",
        root_hz=110.0,
        chords=((0, 3, 7, 10), (-4, 0, 3, 7), (-7, -3, 0, 5), (-2, 2, 5, 9)),
        chord_seconds=4.2857,  # two bars at 112 BPM
        harmonics=(1.0, 0.5, 0.33, 0.25, 0.2, 0.16, 0.14, 0.12),
        pad_gain=0.45,
        bed_gain=0.0,
        default_elements=(),
        bpm=112.0,
        arpeggio=True,
        motion_depth=0.7,
        lowpass_hz=16000.0,
    ),
    "calm": StyleRecipe(
        description="soft, low, slow sine chords with rare bell tones; quiet and relaxing",
        prompt_words="calm relaxing music, soft piano and warm pads, slow, peaceful",
        root_hz=98.0,
        chords=((0, 4, 7, 11), (-3, 0, 4, 7), (-7, -3, 0, 4), (-5, -1, 2, 7)),
        chord_seconds=10.0,
        harmonics=(1.0, 0.08),
        pad_gain=1.0,
        bed_gain=0.08,
        default_elements=(),
        bells=True,
        motion_depth=0.5,
        lowpass_hz=2500.0,
    ),
}

DEFAULT_STYLE = "cinematic"


def style_help() -> str:
    """Return the styles as `name: description` lines for the tool schema."""
    return "; ".join(f"{name}: {recipe.description}" for name, recipe in STYLES.items())
