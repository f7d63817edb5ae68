"""Requests and results of video-to-audio engines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from servers.shared.worker import Progress
from servers.video2audio.analysis import VideoAnalysis
from servers.video2audio.scene import Scene

__all__ = ["AudioOutput", "AudioRequest", "VideoToAudioEngine"]


@dataclass(frozen=True, kw_only=True)
class AudioRequest:
    """A validated `video_to_audio` call with the analysed video and its scene."""

    analysis: VideoAnalysis
    scene: Scene
    style: str
    include_sfx: bool
    volume: float
    seed: int
    sample_rate: int

    @property
    def frames(self) -> int:
        """Return the number of audio frames that matches the video's duration."""
        return round(self.analysis.duration * self.sample_rate)


@dataclass
class AudioOutput:
    """Mastered stereo float32 samples of shape (frames, 2), and what the engine did."""

    samples: np.ndarray
    sample_rate: int
    prompt: str
    warnings: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


class VideoToAudioEngine(Protocol):
    """An engine: `name` and `model` are reported in every result."""

    name: str
    model: str | None

    def generate(self, request: AudioRequest, progress: Progress) -> AudioOutput:
        """Render the soundtrack of `request`, calling `progress` per step; runs in a worker thread."""
        ...
