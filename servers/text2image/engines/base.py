"""Requests and results of text-to-image engines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from servers.shared.worker import Progress

__all__ = ["ImageRequest", "ImageOutput", "TextToImageEngine"]


@dataclass(frozen=True, kw_only=True)
class ImageRequest:
    """A validated `text_to_image` call."""

    prompt: str
    negative_prompt: str | None
    width: int
    height: int
    guidance_scale: float
    num_inference_steps: int
    seed: int


@dataclass
class ImageOutput:
    """The generated picture (a PIL image) and what the caller should be warned about."""

    image: Any
    warnings: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


class TextToImageEngine(Protocol):
    """An engine: `name` and `model` are reported in every result."""

    name: str
    model: str | None

    def generate(self, request: ImageRequest, progress: Progress) -> ImageOutput:
        """Paint `request`, calling `progress` after each step; runs in a worker thread."""
        ...
