"""The `diffusers` text-to-image engine: any pipeline `AutoPipelineForText2Image` can load.

Works with a hub id or a local folder: Stable Diffusion 1.5/2.x/Turbo, SDXL, SD3, FLUX,
Kolors, HunyuanDiT and others. The pipeline is loaded on the first call and kept warm;
one generation runs at a time and concurrent calls wait for it.
"""

from __future__ import annotations

import inspect
import logging
import re
from typing import Any

from servers.shared.errors import EngineUnavailableError
from servers.shared.settings import Settings
from servers.shared.torch_runtime import DIFFUSERS_INSTALL_HINT, PipelineSlot, load_pipeline, make_generator, step_callback
from servers.shared.worker import Progress
from servers.text2image.engines.base import ImageOutput, ImageRequest

__all__ = ["DiffusersEngine", "prompt_warnings"]

logger = logging.getLogger(__name__)

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Text encoders trained on English text only; a Chinese prompt reaches them as unknown tokens.
_ENGLISH_ONLY_ENCODERS = {"CLIPTextModel", "CLIPTextModelWithProjection", "T5EncoderModel"}
_BILINGUAL_MODELS = "Kwai-Kolors/Kolors-diffusers or Tencent-Hunyuan/HunyuanDiT-v1.2-Diffusers"
_TOKENIZER_ATTRIBUTES = ("tokenizer", "tokenizer_2", "tokenizer_3")
_TEXT_ENCODER_ATTRIBUTES = ("text_encoder", "text_encoder_2", "text_encoder_3")


def _import_auto_pipeline() -> Any:
    try:
        from diffusers import AutoPipelineForText2Image
    except ImportError as error:
        raise EngineUnavailableError(f"the diffusers engine needs diffusers ({error}): {DIFFUSERS_INSTALL_HINT}") from error
    return AutoPipelineForText2Image


def _token_window_warnings(pipeline: Any, prompt: str) -> list[str]:
    warnings = []
    for attribute in _TOKENIZER_ATTRIBUTES:
        tokenizer = getattr(pipeline, attribute, None)
        window = getattr(tokenizer, "model_max_length", None)
        if tokenizer is None or not window or window > 100_000:
            continue
        token_count = len(tokenizer(prompt, truncation=False).input_ids)
        if token_count > window:
            warnings.append(
                f"the prompt has {token_count} tokens but {attribute} ({type(tokenizer).__name__}) reads only "
                f"{window}: the words past that limit are ignored; shorten the prompt or put the key words first"
            )
    return warnings


def _language_warnings(pipeline: Any, prompt: str, model: str) -> list[str]:
    if not _CJK.search(prompt):
        return []
    encoders = [getattr(pipeline, attribute, None) for attribute in _TEXT_ENCODER_ATTRIBUTES]
    encoder_names = {type(encoder).__name__ for encoder in encoders if encoder is not None}
    if not encoder_names or not encoder_names <= _ENGLISH_ONLY_ENCODERS:
        return []
    return [
        f"the prompt is in Chinese but {model}'s text encoder ({', '.join(sorted(encoder_names))}) was trained on "
        f"English only, so the image may ignore the prompt: translate it to English or use a bilingual model "
        f"such as {_BILINGUAL_MODELS}"
    ]


def prompt_warnings(pipeline: Any, prompt: str, model: str) -> list[str]:
    """Return warnings about prompt truncation and prompt language for this pipeline."""
    return _token_window_warnings(pipeline, prompt) + _language_warnings(pipeline, prompt, model)


class DiffusersEngine:
    """Generates images with a diffusers pipeline loaded through `from_pretrained`."""

    name = "diffusers"

    def __init__(self, settings: Settings) -> None:
        if not settings.model:
            raise EngineUnavailableError(
                "the diffusers engine needs a model: pass --model with a hub id such as stabilityai/sd-turbo "
                "or a local folder saved with save_pretrained (env REASONING_ACTION_TEXT2IMAGE_MODEL)"
            )
        self.model: str | None = settings.model
        self._settings = settings
        self._slot = PipelineSlot(self._load)
        self._device = "cpu"

    def _load(self) -> Any:
        pipeline, self._device, _ = load_pipeline(_import_auto_pipeline(), self.model or "", self._settings, what="text-to-image")
        return pipeline

    def generate(self, request: ImageRequest, progress: Progress) -> ImageOutput:
        progress(0, request.num_inference_steps, "loading model")
        pipeline = self._slot.get()
        warnings = prompt_warnings(pipeline, request.prompt, self.model or "")

        accepted = inspect.signature(pipeline.__call__).parameters
        arguments: dict[str, Any] = {
            "prompt": request.prompt,
            "negative_prompt": request.negative_prompt,
            "width": request.width,
            "height": request.height,
            "guidance_scale": request.guidance_scale,
            "num_inference_steps": request.num_inference_steps,
            "generator": make_generator(request.seed, self._device),
            "output_type": "pil",
            "callback_on_step_end": step_callback(progress, request.num_inference_steps),
        }
        if request.negative_prompt is not None and "negative_prompt" not in accepted:
            warnings.append(f"{type(pipeline).__name__} takes no negative_prompt: it was ignored")
        arguments = {key: value for key, value in arguments.items() if key in accepted}

        with self._slot.run_lock:
            progress.check_cancelled()
            output = pipeline(**arguments)
        image = output.images[0]
        if image.size != (request.width, request.height):
            warnings.append(f"the model returned {image.width}x{image.height} instead of {request.width}x{request.height}")
        return ImageOutput(image=image, warnings=warnings, details={"pipeline": type(pipeline).__name__})
