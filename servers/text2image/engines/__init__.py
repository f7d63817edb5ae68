"""Text-to-image engines. `procedural` (CPU, no weights) is the default; `diffusers` loads a model.

The diffusers engine module is imported only when selected, so torch stays unloaded otherwise.
"""

from __future__ import annotations

from servers.shared.errors import InvalidInputError
from servers.shared.settings import Settings
from servers.text2image.engines.base import ImageOutput, ImageRequest, TextToImageEngine

__all__ = ["ENGINE_NAMES", "DEFAULT_ENGINE", "create_engine", "ImageOutput", "ImageRequest", "TextToImageEngine"]

ENGINE_NAMES = ("procedural", "diffusers")
DEFAULT_ENGINE = "procedural"


def create_engine(settings: Settings) -> TextToImageEngine:
    """Build the engine that `settings.engine` names (default: procedural)."""
    name = settings.engine or DEFAULT_ENGINE
    if name == "procedural":
        from servers.text2image.engines.procedural import ProceduralEngine

        return ProceduralEngine()
    if name == "diffusers":
        from servers.text2image.engines.diffusers_engine import DiffusersEngine

        return DiffusersEngine(settings)
    raise InvalidInputError(f"unknown text2image engine {name!r}: use one of {', '.join(ENGINE_NAMES)}")
