"""The procedural engine: a soundscape synthesised with numpy, following the video's motion and light.

No weights and no torch: pads and chords, filtered-noise beds for the scene's elements
(water, wind, rain, ...), a beat for electronic, and short effects on motion peaks and
cuts. The loudness follows the video's motion and the brightness of the pad follows its
light. The same seed and inputs give the same samples.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np
from scipy.signal import butter, sosfilt

from servers.shared.worker import Progress
from servers.video2audio.engines import synth
from servers.video2audio.engines.base import AudioOutput, AudioRequest
from servers.video2audio.mastering import master
from servers.video2audio.prompting import build_prompt
from servers.video2audio.styles import STYLES, StyleRecipe

__all__ = ["ProceduralEngine", "scene_elements"]

logger = logging.getLogger(__name__)

ELEMENT_SYNTHS: dict[str, Callable[[int, int, np.random.Generator], np.ndarray]] = {
    "water": synth.water,
    "waves": synth.waves,
    "rain": synth.rain,
    "thunder": synth.thunder,
    "wind": synth.wind,
    "birds": synth.birds,
    "crickets": synth.crickets,
    "city": synth.city,
    "fire": synth.fire,
}
# Relative levels that keep sparse sounds (birds, crickets) audible next to dense beds.
ELEMENT_LEVELS = {
    "water": 0.8, "waves": 0.9, "rain": 0.7, "thunder": 0.9, "wind": 0.6,
    "birds": 0.35, "crickets": 0.18, "city": 0.7, "fire": 0.6,
}  # fmt: skip
MIN_SCENE_BED = 0.2  # Scene elements stay audible in styles whose own bed is quieter.
STEREO_DELAY_SECONDS = 0.011
WHOOSH_LEVEL = 1.2
IMPACT_LEVEL = 1.8


def scene_elements(request: AudioRequest) -> tuple[str, ...]:
    """Return the scene's sound elements, or the style's defaults when the scene names none."""
    return request.scene.elements or STYLES[request.style].default_elements


class ProceduralEngine:
    """Synthesises a soundtrack on the CPU; deterministic per seed."""

    name = "procedural"
    model: str | None = None

    def generate(self, request: AudioRequest, progress: Progress) -> AudioOutput:
        started = time.perf_counter()
        rate, frames = request.sample_rate, request.frames
        recipe = STYLES[request.style]
        rng = np.random.default_rng(request.seed)
        analysis = request.analysis
        elements = scene_elements(request)
        total_steps = 4 + len(elements)

        motion = analysis.curve_at_rate(analysis.motion_level(), rate, frames, smoothing_seconds=0.3)
        light = analysis.curve_at_rate(analysis.brightness, rate, frames, smoothing_seconds=1.0)
        mix = np.zeros((frames, 2), np.float32)
        progress(1, total_steps, "reading motion and light")

        self._add_music(mix, recipe, rate, rng, motion, light)
        progress(2, total_steps, "rendering music")

        bed_level = max(recipe.bed_gain, MIN_SCENE_BED) if request.scene.elements else recipe.bed_gain
        for index, element in enumerate(elements):
            if bed_level > 0:
                mono = ELEMENT_SYNTHS[element](frames, rate, rng) * (bed_level * ELEMENT_LEVELS[element])
                synth.add_stereo(mix, mono, pan=float(rng.uniform(-0.5, 0.5)), delay_frames=int(0.004 * rate))
            progress(3 + index, total_steps, f"rendering {element}")

        if request.include_sfx:
            self._add_effects(mix, request, rate, rng)
        if recipe.lowpass_hz < rate * 0.45:
            mix = sosfilt(butter(2, recipe.lowpass_hz, fs=rate, output="sos"), mix, axis=0).astype(np.float32)
        progress(total_steps - 1, total_steps, "mastering")

        gain_curve = (1.0 - recipe.motion_depth) + recipe.motion_depth * motion
        samples = master(mix, rate, frames=frames, volume=request.volume, gain_curve=gain_curve)
        progress(total_steps, total_steps, "done")

        prompt = build_prompt(request.scene, request.style, analysis, elements)
        effect_count = len(analysis.motion_peaks) + len(analysis.cuts) if request.include_sfx else 0
        logger.info("Synthesised %.2f s of %s audio in %.2f s", frames / rate, request.style, time.perf_counter() - started)
        return AudioOutput(
            samples=samples,
            sample_rate=rate,
            prompt=prompt,
            details={"sound_elements": list(elements), "sound_effects": effect_count, "bpm": recipe.bpm or None},
        )

    def _add_music(
        self, mix: np.ndarray, recipe: StyleRecipe, rate: int, rng: np.random.Generator, motion: np.ndarray, light: np.ndarray
    ) -> None:
        """Add the pad, bells and beat of `recipe` to the stereo `mix`."""
        frames = mix.shape[0]
        warm, bright = synth.pad(
            frames, rate, rng, root_hz=recipe.root_hz, chords=recipe.chords,
            chord_seconds=recipe.chord_seconds, harmonics=recipe.harmonics,
        )  # fmt: skip
        # Brighter pictures open up the upper harmonics of the pad.
        pad = warm + bright * (0.25 + 0.75 * light)
        if recipe.drums_on_motion:
            pad *= 0.6 + 0.4 * motion
        synth.add_stereo(mix, pad * recipe.pad_gain, delay_frames=int(STEREO_DELAY_SECONDS * rate))

        if recipe.bells:
            chime = synth.bells(frames, rate, rng, root_hz=recipe.root_hz, every_seconds=4.0) * 0.25
            synth.add_stereo(mix, chime, pan=float(rng.uniform(-0.4, 0.4)))
        if recipe.drums_on_motion:
            synth.add_stereo(mix, synth.kicks(frames, rate, bpm=60.0) * (0.6 * motion**1.5))
        if recipe.bpm:
            synth.add_stereo(mix, synth.kicks(frames, rate, bpm=recipe.bpm) * 0.5)
            synth.add_stereo(mix, synth.hats(frames, rate, rng, bpm=recipe.bpm) * (0.3 + 0.4 * motion), pan=0.3)
        if recipe.arpeggio:
            arp = synth.arpeggio(
                frames, rate, root_hz=recipe.root_hz, chords=recipe.chords, chord_seconds=recipe.chord_seconds, bpm=recipe.bpm
            )
            synth.add_stereo(mix, arp * (0.35 + 0.4 * motion), pan=-0.3, delay_frames=int(0.02 * rate))

    def _add_effects(self, mix: np.ndarray, request: AudioRequest, rate: int, rng: np.random.Generator) -> None:
        """Add a whoosh on each motion peak and an impact on each cut."""
        effects = np.zeros(mix.shape[0], np.float32)
        for peak in request.analysis.motion_peaks:
            synth.add_event(effects, synth.whoosh(rate, rng) * WHOOSH_LEVEL, int((peak - 0.3) * rate))
        for cut in request.analysis.cuts:
            synth.add_event(effects, synth.impact(rate, rng) * IMPACT_LEVEL, int(cut * rate))
        synth.add_stereo(mix, effects)
