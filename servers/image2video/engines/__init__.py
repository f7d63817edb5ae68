"""Image-to-video engines. `motion` (CPU, no weights) is the default; `diffusers` loads a model.

The diffusers engine module is imported only when selected, so torch stays unloaded otherwise.
"""

from __future__ import annotations

from servers.image2video.engines.base import FrameWriter, ImageToVideoEngine, VideoOutput, VideoRequest
from servers.shared.errors import InvalidInputError
from servers.shared.settings import Settings

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINE_NAMES",
    "FrameWriter",
    "ImageToVideoEngine",
    "VideoOutput",
    "VideoRequest",
    "create_engine",
]

ENGINE_NAMES = ("motion", "diffusers")
DEFAULT_ENGINE = "motion"


def create_engine(settings: Settings) -> ImageToVideoEngine:
    """Build the engine that `settings.engine` names (default: motion)."""
    name = settings.engine or DEFAULT_ENGINE
    if name == "motion":
        from servers.image2video.engines.motion import MotionEngine

        return MotionEngine()
    if name == "diffusers":
        from servers.image2video.engines.diffusers_engine import DiffusersEngine

        return DiffusersEngine(settings)
    raise InvalidInputError(f"unknown image2video engine {name!r}: use one of {', '.join(ENGINE_NAMES)}")
