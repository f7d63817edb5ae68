"""The diffusers engine: a text-to-audio pipeline prompted from the scene, style and analysis.

Supported families, loaded with `AutoPipelineForText2Audio.from_pretrained`:
- Stable Audio Open (`StableAudioPipeline`): stereo 44.1 kHz; one call covers at most
  `transformer.sample_size * vae.hop_length / sampling_rate` seconds (about 47 s).
- AudioLDM 2 (`AudioLDM2Pipeline`): mono 16 kHz, trained on 10 s clips.

Videos longer than one window are generated in windows that overlap by up to two
seconds, each with its own seed, and joined with equal-power crossfades. The result is
resampled to the requested rate, shaped by the video's motion and cut to the exact length.

    engine = DiffusersEngine(settings.replace(model="stabilityai/stable-audio-open-1.0"))
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from servers.shared.errors import EngineUnavailableError
from servers.shared.settings import Settings
from servers.shared.torch_runtime import PipelineSlot, load_pipeline, make_generator
from servers.shared.worker import Progress
from servers.video2audio.engines.base import AudioOutput, AudioRequest
from servers.video2audio.engines.procedural import scene_elements
from servers.video2audio.mastering import crossfade_join, fit_length, master, resample
from servers.video2audio.prompting import build_prompt

__all__ = ["DEFAULT_MODEL", "DiffusersEngine", "ModelFamily", "plan_windows"]

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "stabilityai/stable-audio-open-1.0"
STEPS_VARIABLE = "REASONING_ACTION_VIDEO2AUDIO_STEPS"
MAX_OVERLAP_SECONDS = 2.0
AUDIOLDM_WINDOW_SECONDS = 10.0
NEGATIVE_PROMPT = "low quality, distorted, noise, clipping"
# The model's own dynamics are kept; the motion only tilts the loudness by up to about 3 dB.
MOTION_DEPTH = 0.3


@dataclass(frozen=True)
class ModelFamily:
    """How to call one pipeline family: its window, sample rate and argument names."""

    name: str
    window_seconds: float
    sample_rate: int
    length_argument: str
    default_steps: int
    default_guidance: float


def plan_windows(duration: float, window: float) -> tuple[list[tuple[float, float]], float]:
    """Split `duration` into (start, length) windows of at most `window` seconds.

    Consecutive windows overlap by `min(MAX_OVERLAP_SECONDS, window / 4)`, which is also
    returned. The last window is shortened so the windows end exactly at `duration`.
    """
    if duration <= window:
        return [(0.0, duration)], 0.0
    overlap = min(MAX_OVERLAP_SECONDS, window / 4)
    step = window - overlap
    count = math.ceil((duration - overlap) / step)
    windows = [(index * step, window) for index in range(count - 1)]
    last_start = (count - 1) * step
    windows.append((last_start, duration - last_start))
    return windows, overlap


def _family_of(pipeline: Any) -> ModelFamily:
    kind = type(pipeline).__name__
    if kind == "StableAudioPipeline":
        rate = int(pipeline.vae.config.sampling_rate)
        window = pipeline.transformer.config.sample_size * pipeline.vae.hop_length / rate
        return ModelFamily("stable-audio", window, rate, "audio_end_in_s", 100, 7.0)
    if kind in ("AudioLDM2Pipeline", "AudioLDMPipeline"):
        # NOTE: this branch follows the AudioLDM 2 call signature of diffusers 0.42 but has
        # never run, because the tests build only a tiny Stable Audio pipeline.
        rate = int(pipeline.vocoder.config.sampling_rate)
        return ModelFamily("audioldm", AUDIOLDM_WINDOW_SECONDS, rate, "audio_length_in_s", 200, 3.5)
    raise EngineUnavailableError(
        f"pipeline {kind} is not supported by the video2audio diffusers engine: "
        "use a Stable Audio Open or AudioLDM 2 model"
    )


def _steps_from_environment() -> int | None:
    value = os.environ.get(STEPS_VARIABLE)
    if not value:
        return None
    try:
        steps = int(value)
    except ValueError as error:
        raise EngineUnavailableError(f"{STEPS_VARIABLE}={value!r} is not a whole number: set it to, say, 50") from error
    if steps < 1:
        raise EngineUnavailableError(f"{STEPS_VARIABLE}={value!r} must be at least 1")
    return steps


class DiffusersEngine:
    """Generates the soundtrack with a text-to-audio diffusers pipeline, window by window."""

    name = "diffusers"

    def __init__(self, settings: Settings, *, num_inference_steps: int | None = None, guidance_scale: float | None = None) -> None:
        self.model = settings.model or DEFAULT_MODEL
        self._settings = settings
        self._steps = num_inference_steps or _steps_from_environment()
        self._guidance = guidance_scale
        self._slot = PipelineSlot(self._load)
        self._device = "cpu"

    def _load(self) -> Any:
        try:
            from diffusers import AutoPipelineForText2Audio
        except ImportError as error:
            raise EngineUnavailableError(
                f"the diffusers engine needs diffusers ({error}): pip install 'reasoning-action[diffusers]'"
            ) from error
        pipeline, device, _ = load_pipeline(AutoPipelineForText2Audio, self.model, self._settings, what="text-to-audio")
        self._device = device
        return pipeline

    def generate(self, request: AudioRequest, progress: Progress) -> AudioOutput:
        pipeline = self._slot.get()
        family = _family_of(pipeline)
        steps = self._steps or family.default_steps
        guidance = family.default_guidance if self._guidance is None else self._guidance
        elements = scene_elements(request)
        prompt = build_prompt(request.scene, request.style, request.analysis, elements)
        windows, overlap = plan_windows(request.analysis.duration, family.window_seconds)
        total_steps = len(windows) * steps
        logger.info("Generating %d window(s) of %s with %d steps: %s", len(windows), self.model, steps, prompt)

        parts = []
        with self._slot.run_lock:
            for index, (start, length) in enumerate(windows):
                callback = self._callback(progress, index * steps, total_steps, index + 1, len(windows))
                waveform = self._generate_window(pipeline, family, prompt, length, steps, guidance, request.seed + index, callback)
                parts.append(fit_length(waveform, round(length * family.sample_rate)))
                logger.debug("Window %d/%d: %.2f s from %.2f s", index + 1, len(windows), length, start)

        joined = crossfade_join(parts, round(overlap * family.sample_rate))
        audio = resample(joined, family.sample_rate, request.sample_rate)
        motion = request.analysis.curve_at_rate(request.analysis.motion_level(), request.sample_rate, request.frames)
        samples = master(
            audio, request.sample_rate, frames=request.frames, volume=request.volume,
            gain_curve=(1.0 - MOTION_DEPTH) + MOTION_DEPTH * motion,
        )  # fmt: skip

        warnings = []
        if parts[0].shape[1] == 1:
            warnings.append(f"{self.model} generates mono audio; both channels carry the same signal")
        if request.include_sfx:
            warnings.append("the diffusers engine does not place sound effects on events; include_sfx was ignored")
        details = {
            "sound_elements": list(elements),
            "model_family": family.name,
            "model_sample_rate": family.sample_rate,
            "windows": [[round(start, 3), round(length, 3)] for start, length in windows],
            "crossfade_seconds": round(overlap, 3),
            "num_inference_steps": steps,
            "guidance_scale": guidance,
        }
        return AudioOutput(samples=samples, sample_rate=request.sample_rate, prompt=prompt, warnings=warnings, details=details)

    def _callback(self, progress: Progress, offset: int, total: int, window: int, windows: int) -> Any:
        def on_step(step: int, timestep: Any, latents: Any) -> None:
            progress(offset + step + 1, total, f"window {window}/{windows}: denoising step {step + 1}")

        return on_step

    def _generate_window(
        self, pipeline: Any, family: ModelFamily, prompt: str, length: float, steps: int, guidance: float, seed: int, callback: Any
    ) -> np.ndarray:
        """Run the pipeline for one window; returns float32 (frames, channels) at the model's rate."""
        arguments = {
            "prompt": prompt,
            "negative_prompt": NEGATIVE_PROMPT,
            family.length_argument: length,
            "num_inference_steps": steps,
            "guidance_scale": guidance,
            "generator": make_generator(seed % 2**32, self._device),
            "callback": callback,
            "callback_steps": 1,
            "output_type": "np",
        }
        audios = np.asarray(pipeline(**arguments).audios, dtype=np.float32)
        waveform = audios[0]
        if waveform.ndim == 1:
            return waveform[:, None]
        return np.ascontiguousarray(waveform.T)
