"""The `diffusers` engine: any diffusers image-to-video pipeline, loaded with `from_pretrained`.

The model generates a clip of the length its family accepts, spanning the whole segment,
from time 0 to the time of the frame after the last one. The engine then resamples that
clip to exactly `frame_count` frames at the requested fps: its last generated frame is the
next frame for chaining, so no frame repeats at a boundary.

Models do not reproduce their conditioning image exactly (VAE round trip, noise
augmentation), which would show as a jump at every chained boundary and lets colour
drift along a chain. The engine therefore anchors the first frame to the start image:
the difference between them is added back and faded out over the first half second.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from servers.image2video.engines.base import FrameWriter, VideoOutput, VideoRequest
from servers.image2video.engines.families import FAMILIES, Family, GenerationPlan, family_for_class
from servers.shared.errors import EngineUnavailableError
from servers.shared.settings import Settings
from servers.shared.torch_runtime import DIFFUSERS_INSTALL_HINT, PipelineSlot, load_pipeline, make_generator
from servers.shared.worker import Progress

__all__ = ["DiffusersEngine", "anchor_weights", "clip_frame", "read_pipeline_class"]

logger = logging.getLogger(__name__)

ENGINE_NAME = "diffusers"
ANCHOR_SECONDS = 0.5
LOW_MEMORY_GPU_BYTES = 24 * 1024**3  # Below this, the pipeline is offloaded to the CPU between modules.


@dataclass
class _Loaded:
    pipeline: Any
    family: Family
    device: str


def read_pipeline_class(model: str) -> str:
    """Return `_class_name` from the model's `model_index.json` (local folder or hub cache)."""
    folder = Path(model).expanduser()
    try:
        if folder.is_dir():
            return str(json.loads((folder / "model_index.json").read_text(encoding="utf-8"))["_class_name"])
        from diffusers import DiffusionPipeline

        return str(DiffusionPipeline.load_config(model)["_class_name"])
    except ImportError as error:
        raise EngineUnavailableError(f"the diffusers engine needs diffusers ({error}): {DIFFUSERS_INSTALL_HINT}") from error
    except (OSError, KeyError, ValueError) as error:
        raise EngineUnavailableError(
            f"cannot read model_index.json of {model!r} ({error}): pass a diffusers pipeline folder or hub id"
        ) from error


def clip_frame(clip: np.ndarray, index: int, frame_count: int) -> np.ndarray:
    """Return output frame `index` of `frame_count + 1` frames spread evenly over a clip.

    Clip frame `j` of `k` sits at time `j / (k - 1)` of the segment, and output frame
    `index` at time `index / frame_count`. Each output is the linear blend of its two
    neighbours, so output `frame_count` (the next frame) is exactly the clip's last frame.
    """
    last = len(clip) - 1
    position = index * last / frame_count if last else 0.0
    before = min(int(np.floor(position)), last)
    after = min(before + 1, last)
    weight = np.float32(position - before)
    if weight == 0:
        return clip[before]
    return (1 - weight) * clip[before] + weight * clip[after]


def anchor_weights(frame_count: int, fps: float) -> np.ndarray:
    """Weights of the start-image correction per frame: 1 at frame 0, easing to 0 within half a second."""
    span = max(1, min(round(ANCHOR_SECONDS * fps), frame_count // 2))
    x = np.clip(np.arange(frame_count) / span, 0.0, 1.0)
    return 1.0 - x * x * (3.0 - 2.0 * x)


def _to_uint8(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Convert a float frame in 0..1 to uint8 RGB of `size` (width, height), bicubic if resized."""
    pixels = np.clip(np.round(frame * 255.0), 0, 255).astype(np.uint8)
    if (pixels.shape[1], pixels.shape[0]) == size:
        return pixels
    return np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.BICUBIC))


class DiffusersEngine:
    """Image-to-video with a diffusers pipeline kept warm between calls."""

    name = ENGINE_NAME

    def __init__(self, settings: Settings) -> None:
        if not settings.model:
            families = ", ".join(family.key for family in FAMILIES.values())
            raise EngineUnavailableError(
                "the diffusers engine needs a model: start the server with --model set to a hub id such as "
                f"stabilityai/stable-video-diffusion-img2vid-xt or a local pipeline folder (families: {families})"
            )
        self.model: str | None = settings.model
        self._settings = settings
        self._slot = PipelineSlot(self._load)

    def _load(self) -> _Loaded:
        class_name = read_pipeline_class(self.model or "")
        family = family_for_class(class_name)
        if family is None:
            supported = ", ".join(FAMILIES)
            raise EngineUnavailableError(
                f"model {self.model!r} is a {class_name}, not an image-to-video pipeline: use a model of one of {supported}"
            )
        import diffusers

        loader = getattr(diffusers, family.pipeline_class)
        pipeline, device, _ = load_pipeline(loader, self.model or "", self._settings, what="image-to-video")
        _apply_memory_options(pipeline, device)
        return _Loaded(pipeline=pipeline, family=family, device=device)

    def render(self, request: VideoRequest, write_frame: FrameWriter, progress: Progress) -> VideoOutput:
        loaded = self._slot.get()
        plan = loaded.family.plan(
            loaded.pipeline,
            duration=request.duration,
            width=request.width,
            height=request.height,
            steps=request.num_inference_steps,
        )
        total = plan.num_inference_steps + request.frame_count + 1

        with self._slot.run_lock:
            clip = self._generate(loaded, request, plan, progress, total)

        size = (request.width, request.height)
        start = request.image.array.astype(np.float32)
        correction = start - _to_uint8(clip_frame(clip, 0, request.frame_count), size).astype(np.float32)
        weights = anchor_weights(request.frame_count, request.fps)

        for index in range(request.frame_count):
            progress(plan.num_inference_steps + index, total, f"frame {index + 1}/{request.frame_count}")
            frame = _to_uint8(clip_frame(clip, index, request.frame_count), size)
            if weights[index] > 0:
                frame = np.clip(frame + weights[index] * correction + 0.5, 0, 255).astype(np.uint8)
            write_frame(frame)
        next_frame = _to_uint8(clip_frame(clip, request.frame_count, request.frame_count), size)
        progress(total, total, "rendered")

        warnings = []
        if request.prompt and loaded.family.key == "svd":
            warnings.append("Stable Video Diffusion takes no text: the prompt was ignored")
        details = {
            "family": loaded.family.key,
            "generated_frames": plan.num_frames,
            "generated_size": [plan.width, plan.height],
            "num_inference_steps": plan.num_inference_steps,
        }
        return VideoOutput(next_frame=next_frame, warnings=warnings, details=details)

    def _generate(self, loaded: _Loaded, request: VideoRequest, plan: GenerationPlan, progress: Progress, total: int) -> np.ndarray:
        """Run the pipeline and return its clip as float32 frames in 0..1, shape (k, h, w, 3)."""

        def on_step_end(pipeline: Any, step: int, timestep: Any, callback_kwargs: dict[str, Any]) -> dict[str, Any]:
            progress(step + 1, total, f"denoising step {step + 1}/{plan.num_inference_steps}", throttle=False)
            return callback_kwargs

        image = request.image.image.resize((plan.width, plan.height), Image.Resampling.LANCZOS)
        arguments = {
            "image": image,
            "height": plan.height,
            "width": plan.width,
            "num_inference_steps": plan.num_inference_steps,
            "generator": make_generator(request.seed, loaded.device),
            "output_type": "np",
            "callback_on_step_end": on_step_end,
            **loaded.family.call_arguments(loaded.pipeline, request, plan),
        }
        if loaded.family.key == "svd" and loaded.device == "cuda":
            arguments["decode_chunk_size"] = 8

        started = time.perf_counter()
        logger.info(
            "Generating %d frames at %dx%d with %s (%s), %d steps",
            plan.num_frames, plan.width, plan.height, self.model, loaded.family.key, plan.num_inference_steps,
        )  # fmt: skip
        output = loaded.pipeline(**arguments)
        clip = np.asarray(output.frames[0], dtype=np.float32)
        logger.info("Generated %d frames in %.1f s", len(clip), time.perf_counter() - started)
        return clip


def _apply_memory_options(pipeline: Any, device: str) -> None:
    """Turn on VAE slicing and tiling, and CPU offload on small GPUs; only with an accelerator."""
    if device == "cpu":
        return
    vae = getattr(pipeline, "vae", None)
    for owner, method in ((pipeline, "enable_vae_slicing"), (vae, "enable_slicing"), (vae, "enable_tiling")):
        function = getattr(owner, method, None)
        if callable(function):
            try:
                function()
            except (NotImplementedError, ValueError) as error:
                logger.info("Skipping %s: %s", method, error)
    if device == "cuda":
        import torch

        memory = torch.cuda.get_device_properties(0).total_memory
        if memory < LOW_MEMORY_GPU_BYTES:
            logger.info("GPU has %.1f GiB: enabling model CPU offload", memory / 1024**3)
            pipeline.enable_model_cpu_offload()
