"""Video-to-audio engines. `procedural` (CPU, no weights) is the default; `diffusers` loads a model.

The diffusers engine module is imported only when selected, so torch stays unloaded otherwise.
"""

from __future__ import annotations

from servers.shared.errors import InvalidInputError
from servers.shared.settings import Settings
from servers.video2audio.engines.base import AudioOutput, AudioRequest, VideoToAudioEngine

__all__ = ["DEFAULT_ENGINE", "ENGINE_NAMES", "AudioOutput", "AudioRequest", "VideoToAudioEngine", "create_engine"]

ENGINE_NAMES = ("procedural", "diffusers")
DEFAULT_ENGINE = "procedural"


def create_engine(settings: Settings) -> VideoToAudioEngine:
    """Build the engine that `settings.engine` names (default: procedural)."""
    name = settings.engine or DEFAULT_ENGINE
    if name == "procedural":
        from servers.video2audio.engines.procedural import ProceduralEngine

        return ProceduralEngine()
    if name == "diffusers":
        from servers.video2audio.engines.diffusers_engine import DiffusersEngine

        return DiffusersEngine(settings)
    raise InvalidInputError(f"unknown video2audio engine {name!r}: use one of {', '.join(ENGINE_NAMES)}")
