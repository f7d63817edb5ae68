"""The `procedural` engine: paints a landscape from the prompt's words, on the CPU, without weights.

It reads light, landscape elements, season and painting style from English or Chinese words
(see `servers.text2image.procedural.scene`) and paints them with numpy and Pillow. The same
prompt, seed and size always give the same bytes. It ignores `guidance_scale` and
`num_inference_steps`, which only mean something to diffusion models.
"""

from __future__ import annotations

import logging
import time

from servers.shared.worker import Progress
from servers.text2image.engines.base import ImageOutput, ImageRequest
from servers.text2image.procedural import paint_scene, parse_prompt
from servers.text2image.procedural.scene import fallback_scene

__all__ = ["ProceduralEngine", "UNRECOGNISED_PROMPT_WARNING"]

logger = logging.getLogger(__name__)

UNRECOGNISED_PROMPT_WARNING = (
    "The procedural engine paints landscapes only and recognised no landscape element in this prompt "
    "(such as mountains, forest, lake, sea, city, desert, sunset, night; 山, 森林, 湖, 海, 城市, 日落, 夜), "
    "so it painted a landscape chosen by the seed. For arbitrary subjects use the diffusers engine "
    "(--engine diffusers with a --model)."
)


class ProceduralEngine:
    """Landscape painter that needs no model: CPU only, deterministic per seed."""

    name = "procedural"
    model: str | None = None

    def generate(self, request: ImageRequest, progress: Progress) -> ImageOutput:
        """Paint the scene the prompt describes at the requested size."""
        started = time.perf_counter()
        scene = parse_prompt(request.prompt, request.negative_prompt)
        warnings: list[str] = []
        if not scene.recognised:
            scene = fallback_scene(scene, request.seed)
            warnings.append(UNRECOGNISED_PROMPT_WARNING)

        image = paint_scene(scene, request.width, request.height, request.seed, progress)
        logger.info(
            "Painted %dx%d %s scene %s in %.2f s",
            request.width,
            request.height,
            scene.time,
            ",".join(scene.elements) or "-",
            time.perf_counter() - started,
        )
        return ImageOutput(image=image, warnings=warnings, details={"scene": scene.describe()})
