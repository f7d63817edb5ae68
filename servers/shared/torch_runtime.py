"""Loading diffusers pipelines: device and dtype choice, `from_pretrained`, step callbacks.

torch and diffusers are imported inside these functions only, so importing this module
costs nothing and servers on CPU engines never load torch.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from servers.shared.errors import EngineUnavailableError
from servers.shared.settings import Settings
from servers.shared.worker import Progress

__all__ = [
    "DIFFUSERS_INSTALL_HINT",
    "PipelineSlot",
    "import_torch",
    "load_pipeline",
    "make_generator",
    "select_device",
    "select_dtype",
    "step_callback",
]

logger = logging.getLogger(__name__)

DIFFUSERS_INSTALL_HINT = "install the extra with `pip install torch==2.13.0` then `pip install 'reasoning-action[diffusers]'`"


def import_torch() -> Any:
    """Import torch, or raise `EngineUnavailableError` naming the install command."""
    try:
        import torch
    except ImportError as error:
        raise EngineUnavailableError(f"the diffusers engine needs torch ({error}): {DIFFUSERS_INSTALL_HINT}") from error
    return torch


def select_device(preference: str = "auto") -> str:
    """Pick `cuda`, then `mps`, then `cpu` for `auto`; check an explicit choice exists."""
    torch = import_torch()
    has_mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    available = {"cuda": torch.cuda.is_available(), "mps": has_mps, "cpu": True}
    if preference == "auto":
        return next(name for name in ("cuda", "mps", "cpu") if available[name])
    if not available.get(preference, False):
        raise EngineUnavailableError(f"device {preference!r} is not available on this machine: use --device auto or cpu")
    return preference


def select_dtype(preference: str, device: str) -> Any:
    """Return the torch dtype: float32 on CPU and MPS, bfloat16 or float16 on CUDA for `auto`.

    Half precision on CPU runs but real models produce NaNs there, so `auto` never picks it.
    """
    torch = import_torch()
    if preference != "auto":
        return getattr(torch, preference)
    if device == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def load_pipeline(loader: Any, model: str, settings: Settings, *, what: str) -> tuple[Any, str, Any]:
    """Load `model` with `loader.from_pretrained` and move it to the chosen device.

    `model` may be a hub id or a local folder. A local folder is loaded with
    `local_files_only=True`, so a typo never turns into a slow hub lookup. Returns
    `(pipeline, device, dtype)`.
    """
    device = select_device(settings.device)
    dtype = select_dtype(settings.dtype, device)
    folder = Path(model).expanduser()
    is_local = folder.is_dir()
    source = str(folder.resolve()) if is_local else model

    started = time.perf_counter()
    options: dict[str, Any] = {"dtype": dtype}
    if is_local:
        options["local_files_only"] = True
    try:
        pipeline = loader.from_pretrained(source, **options)
    except (OSError, ValueError) as error:
        if is_local:
            hint = "check the folder contains model_index.json and the component folders it names"
        else:
            hint = (
                "check the hub id; on a machine without hub access (HF_HUB_OFFLINE=1 or no network), "
                "download the model elsewhere, copy its folder here and pass the folder's path"
            )
        reason = str(error).strip().rstrip(".")
        raise EngineUnavailableError(f"cannot load {what} model {model!r}: {reason}. Fix: {hint}") from error

    pipeline = pipeline.to(device)
    if hasattr(pipeline, "set_progress_bar_config"):
        pipeline.set_progress_bar_config(disable=True)
    logger.info("Loaded %s model %s on %s (%s) in %.1f s", what, model, device, dtype, time.perf_counter() - started)
    return pipeline, device, dtype


def make_generator(seed: int, device: str) -> Any:
    """Return a torch generator seeded with `seed`; CPU generators keep results stable across devices."""
    torch = import_torch()
    generator_device = "cpu" if device == "mps" else device
    return torch.Generator(device=generator_device).manual_seed(seed)


def step_callback(progress: Progress, total_steps: int, label: str = "denoising") -> Callable[..., dict[str, Any]]:
    """Build a `callback_on_step_end` that reports each step and stops when cancelled."""

    def on_step_end(pipeline: Any, step: int, timestep: Any, callback_kwargs: dict[str, Any]) -> dict[str, Any]:
        progress(step + 1, total_steps, f"{label} step {step + 1}/{total_steps}", throttle=False)
        return callback_kwargs

    return on_step_end


class PipelineSlot:
    """One warm pipeline and the lock that lets a single generation use it at a time.

    Concurrent calls wait on the lock in their worker threads, so none is lost.
    """

    def __init__(self, load: Callable[[], Any]) -> None:
        self._load = load
        self._pipeline: Any = None
        self._load_lock = threading.Lock()
        self.run_lock = threading.Lock()

    def get(self) -> Any:
        with self._load_lock:
            if self._pipeline is None:
                self._pipeline = self._load()
            return self._pipeline
