"""The `motion` engine: camera motion over the still image, on the CPU, with no weights.

Each frame is one bicubic resample of the chain's first image (the base) through the
camera's view box, accurate to sub-pixels: Pillow's separable resize with a fractional
box for RGB frames, and for yuv420p frames the same kernel with its vertical pass looked
up from rows precomputed at 1/16-pixel phases (see `polyphase`). The zoom is never below
1, so the resample never minifies, which keeps it free of aliasing and shimmer. Frames
go to the writer one at a time.

A continuation renders from the chain's base image, not from the previous segment's last
frame, so a long chain is resampled once per frame instead of once per segment and does
not blur or drift in colour. The base is trusted only when its pixels still hash to the
recorded value; if the start image was edited since (for example colour-matched by a
caller), the edit is fitted as a per-channel gain and offset and applied to every frame.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from servers.image2video.engines.base import FrameWriter, VideoOutput, VideoRequest
from servers.image2video.engines.camera import CameraPath, SegmentMotion, view_box
from servers.image2video.engines.polyphase import PolyphasePlane
from servers.shared.artifacts import resolve_input_path
from servers.shared.errors import ReasoningActionError
from servers.shared.frames import load_rgb_image, pixel_sha256, psnr
from servers.shared.media import YuvFrame, rgb_to_yuv420
from servers.shared.worker import Progress

__all__ = ["MotionEngine"]

logger = logging.getLogger(__name__)

ENGINE_NAME = "motion"
MAX_RENDER_THREADS = 4
MIN_COLOUR_FIT_PSNR = 30.0  # Below this, the start image is a different picture, not a colour edit.
MIN_CLOSE_FIT_PSNR = 40.0  # Below this, the fitted edit visibly differs from the supplied start image.
_FIT_SAMPLES = 65536
MAX_REPORTED_PSNR = 100.0


@dataclass
class _Start:
    """Start state of a segment's camera: base image, chain time, previous path, colour edit."""

    base: Image.Image
    base_path: str
    start_time: float
    previous: CameraPath | None
    colour_lut: list[int] | None
    warnings: list[str]
    colour_fit_psnr: float | None = None


def render_view(base: Image.Image, box: tuple[float, float, float, float]) -> Image.Image:
    """Resample the `box` region of `base` to the base's size (bicubic, sub-pixel accurate)."""
    if box == (0.0, 0.0, float(base.width), float(base.height)):
        return base.copy()
    return base.resize(base.size, Image.Resampling.BICUBIC, box=box)


@dataclass(frozen=True)
class _YuvBase:
    """The base image as yuv420p planes, each ready for per-frame resampling.

    Resampling one full and two quarter-size planes costs about half of resampling the
    RGB image, and the encoder then skips its own colour conversion.
    """

    y: PolyphasePlane
    u: PolyphasePlane
    v: PolyphasePlane

    @classmethod
    def from_start(cls, start: _Start, pool: ThreadPoolExecutor) -> _YuvBase:
        """Split the start's base into planes and prepare the three of them in parallel."""
        base = start.base if start.colour_lut is None else start.base.point(start.colour_lut)
        planes = rgb_to_yuv420(np.asarray(base))
        y, u, v = pool.map(PolyphasePlane, (planes.y, planes.u, planes.v))
        return cls(y=y, u=u, v=v)

    def render(self, box: tuple[float, float, float, float]) -> YuvFrame:
        half_box = (box[0] / 2, box[1] / 2, box[2] / 2, box[3] / 2)
        return YuvFrame(y=self.y.render(box), u=self.u.render(half_box), v=self.v.render(half_box))


def _fit_colour_lut(rendered: np.ndarray, supplied: np.ndarray) -> tuple[list[int], float]:
    """Fit `supplied ~ gain * rendered + offset` per channel; return a PIL LUT and the fit's PSNR."""
    step = max(1, int(np.sqrt(rendered.shape[0] * rendered.shape[1] / _FIT_SAMPLES)))
    source = rendered[::step, ::step].reshape(-1, 3).astype(np.float64)
    target = supplied[::step, ::step].reshape(-1, 3).astype(np.float64)

    lut: list[int] = []
    for channel in range(3):
        design = np.stack([source[:, channel], np.ones(len(source))], axis=1)
        (gain, offset), *_ = np.linalg.lstsq(design, target[:, channel], rcond=None)
        levels = np.clip(np.round(gain * np.arange(256) + offset), 0, 255).astype(int)
        lut.extend(levels.tolist())

    corrected = np.asarray(Image.fromarray(rendered).point(lut))
    return lut, psnr(corrected, supplied)


class MotionEngine:
    """Zoom and pan over the image along a seeded, smooth camera path."""

    name = ENGINE_NAME
    model: str | None = None
    # Frames go out as yuv420p when the writer takes them (its `pixel_format`), else as RGB.
    pixel_format = "yuv420p"

    def render(self, request: VideoRequest, write_frame: FrameWriter, progress: Progress) -> VideoOutput:
        start = self._find_start(request)
        current = CameraPath(request.seed, request.motion_scale)
        motion = SegmentMotion(
            start_time=start.start_time,
            duration=request.duration,
            current=current,
            previous=start.previous,
            ease_out=request.last_segment,
        )
        total = request.frame_count + 1
        wants_yuv = getattr(write_frame, "pixel_format", "rgb24") == "yuv420p"

        # Pillow releases the GIL while resampling, so frames render in parallel threads, a
        # bounded number ahead of the encoder, and are written in order.
        workers = max(1, min(MAX_RENDER_THREADS, os.cpu_count() or 1))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="motion-render") as pool:
            yuv_base = _YuvBase.from_start(start, pool) if wants_yuv else None
            pending: deque[Future[np.ndarray | YuvFrame]] = deque()
            for index in range(request.frame_count + 1):
                # The frame after the segment is the next segment's start image, so it stays RGB.
                if yuv_base is None or index == request.frame_count:
                    pending.append(pool.submit(self._frame, start, motion, index / request.fps))
                else:
                    pending.append(pool.submit(self._frame_yuv, yuv_base, start, motion, index / request.fps))
                if len(pending) > 2 * workers:
                    self._write_next(pending, write_frame, progress, index - len(pending) + 1, total)
            while len(pending) > 1:
                self._write_next(pending, write_frame, progress, request.frame_count - len(pending) + 1, total)
            next_frame = pending.popleft().result()
        progress(total, total, "rendered")

        chain_state = {
            "camera": {
                **current.to_dict(),
                "time": motion.end_time,
                "base_path": start.base_path,
                "base_sha256": pixel_sha256(start.base),
            }
        }
        warnings = list(start.warnings)
        if request.prompt:
            warnings.append("the motion engine does not read text: the prompt only named the output files")
        if request.num_inference_steps is not None:
            warnings.append("num_inference_steps applies to the diffusers engine only and was ignored")
        details = {
            "camera_start_time": start.start_time,
            "camera_end_time": motion.end_time,
            "start_colour_edit_psnr": start.colour_fit_psnr,
        }
        return VideoOutput(next_frame=next_frame, chain_state=chain_state, warnings=warnings, details=details)

    @staticmethod
    def _write_next(pending: deque[Future[np.ndarray | YuvFrame]], write_frame: FrameWriter, progress: Progress, index: int, total: int) -> None:
        """Write the oldest rendered frame, which is frame `index`, then report it."""
        write_frame(pending.popleft().result())
        progress(index + 1, total, f"frame {index + 1}/{total - 1}")

    def _frame(self, start: _Start, motion: SegmentMotion, offset: float) -> np.ndarray:
        width, height = start.base.size
        frame = render_view(start.base, view_box(motion.pose(offset), width, height))
        if start.colour_lut is not None:
            frame = frame.point(start.colour_lut)
        return np.asarray(frame)

    @staticmethod
    def _frame_yuv(yuv_base: _YuvBase, start: _Start, motion: SegmentMotion, offset: float) -> YuvFrame:
        width, height = start.base.size
        return yuv_base.render(view_box(motion.pose(offset), width, height))

    def _find_start(self, request: VideoRequest) -> _Start:
        """Continue the camera recorded with the start image, or start a new path on it."""
        fresh = _Start(
            base=request.image.image,
            base_path=str(request.image_path),
            start_time=0.0,
            previous=None,
            colour_lut=None,
            warnings=[],
        )
        camera = (request.continuation or {}).get("camera")
        if not camera:
            return fresh

        try:
            return self._continue(request, camera)
        except (ReasoningActionError, KeyError, TypeError, ValueError) as error:
            logger.warning("Starting a new camera path on %s: %s", request.image_path, error)
            fresh.warnings.append(f"started a new camera path, because the previous segment's camera cannot continue: {error}")
            return fresh

    def _continue(self, request: VideoRequest, camera: dict[str, Any]) -> _Start:
        base_path = resolve_input_path(str(camera["base_path"]), request.input_roots, what="the chain's first image")
        base = load_rgb_image(base_path, what="the chain's first image").image
        if pixel_sha256(base) != camera["base_sha256"]:
            raise ValueError(f"the chain's first image {base_path.name} changed since the previous segment")
        if base.size != request.image.image.size:
            raise ValueError(f"the chain's first image is {base.width}x{base.height}, the start image {request.width}x{request.height}")

        previous = CameraPath(int(camera["seed"]), float(camera["motion_scale"]))
        start = _Start(
            base=base,
            base_path=str(base_path),
            start_time=float(camera["time"]),
            previous=previous,
            colour_lut=None,
            warnings=[],
        )
        supplied = request.image.array
        if pixel_sha256(supplied) == request.continuation.get("frame_sha256"):  # type: ignore[union-attr]
            return start

        # The start image was edited after the previous segment wrote it: keep the edit.
        motion = SegmentMotion(start_time=start.start_time, duration=1.0, current=previous)
        rendered = self._frame(start, motion, 0.0)
        lut, fit_psnr = _fit_colour_lut(rendered, supplied)
        if fit_psnr < MIN_COLOUR_FIT_PSNR:
            raise ValueError(
                f"the start image differs from the previous segment's next frame beyond a colour change, with a fit "
                f"PSNR of {fit_psnr:.1f} dB; to continue the camera, pass that next frame unedited or only colour-edited"
            )
        start.colour_lut = lut
        # An exact fit has an infinite PSNR, which JSON cannot carry.
        start.colour_fit_psnr = round(min(fit_psnr, MAX_REPORTED_PSNR), 1)
        if fit_psnr < MIN_CLOSE_FIT_PSNR:
            start.warnings.append(
                f"a gain and offset per channel reproduce the edit of the start image only to {fit_psnr:.1f} dB, "
                "so the first frame differs visibly from it"
            )
        return start
