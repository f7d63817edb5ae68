"""The request an image-to-video engine receives and the output it returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from servers.shared.frames import LoadedImage
from servers.shared.media import YuvFrame
from servers.shared.worker import Progress

__all__ = ["FrameWriter", "ImageToVideoEngine", "VideoOutput", "VideoRequest"]

# Takes RGB arrays, or `YuvFrame`s when the writer's `pixel_format` attribute is "yuv420p".
FrameWriter = Callable[[np.ndarray | YuvFrame], None]


@dataclass(frozen=True, kw_only=True)
class VideoRequest:
    """A validated `image_to_video` call with its decoded start image.

    `continuation` is the record that an earlier segment stored beside `image_path` when
    that image is its `next_frame_path`; None when the image starts a new chain.
    """

    image_path: Path
    image: LoadedImage
    motion_scale: float
    fps: float
    frame_count: int
    seed: int
    prompt: str | None
    num_inference_steps: int | None
    last_segment: bool
    continuation: dict[str, Any] | None
    input_roots: tuple[Path, ...]

    @property
    def width(self) -> int:
        return self.image.image.width

    @property
    def height(self) -> int:
        return self.image.image.height

    @property
    def duration(self) -> float:
        """Exact length of the segment in seconds: `frame_count / fps`."""
        return self.frame_count / self.fps


@dataclass
class VideoOutput:
    """The frame after the segment's last one, the engine's chain state, and warnings.

    `next_frame` is what the next segment must show first. `chain_state` is stored in the
    manifest of that frame's PNG, so an engine can continue its motion from it.
    """

    next_frame: np.ndarray
    chain_state: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


class ImageToVideoEngine(Protocol):
    """An engine: `name` and `model` are reported in every result."""

    name: str
    model: str | None

    def render(self, request: VideoRequest, write_frame: FrameWriter, progress: Progress) -> VideoOutput:
        """Write exactly `request.frame_count` frames in order, then return the next frame.

        Runs in a worker thread; calls `progress` as it goes, which raises once cancelled.
        """
        ...
