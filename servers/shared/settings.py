"""Server settings, read from command-line options and `REASONING_ACTION_*` variables.

Every variable is listed in `docs/configuration.md`. A command-line option wins over the
environment, and the environment wins over the defaults below.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from servers.shared.errors import InvalidInputError

__all__ = ["Settings", "ENV_PREFIX", "DEVICES", "DTYPES"]

ENV_PREFIX = "REASONING_ACTION_"
DEVICES = ("auto", "cuda", "mps", "cpu")
DTYPES = ("auto", "float32", "float16", "bfloat16")
DEFAULT_OUTPUT_DIR = "outputs"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Settings of one server process.

    `stage` names the server (`text2image`, `image2video`, ...) and selects the
    stage-specific variables `REASONING_ACTION_<STAGE>_ENGINE` and `..._MODEL`.
    """

    stage: str
    output_dir: Path
    input_roots: tuple[Path, ...] = ()
    engine: str | None = None
    model: str | None = None
    device: str = "auto"
    dtype: str = "auto"
    log_level: str = "INFO"
    extra: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.device not in DEVICES:
            raise InvalidInputError(f"device must be one of {', '.join(DEVICES)}, got {self.device!r}")
        if self.dtype not in DTYPES:
            raise InvalidInputError(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")

        output_dir = Path(self.output_dir).expanduser().resolve()
        object.__setattr__(self, "output_dir", output_dir)

        # The output folder is always readable as input, so one stage can consume another's result.
        roots = [Path(root).expanduser().resolve() for root in self.input_roots]
        if output_dir not in roots:
            roots.insert(0, output_dir)
        object.__setattr__(self, "input_roots", tuple(roots))

    @classmethod
    def from_env(cls, stage: str, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings for `stage` from the environment, then apply non-None `overrides`."""
        env = os.environ if environ is None else environ
        stage_prefix = f"{ENV_PREFIX}{stage.upper()}_"

        roots_text = env.get(f"{ENV_PREFIX}INPUT_ROOTS", "")
        values: dict[str, object] = {
            "stage": stage,
            "output_dir": env.get(f"{ENV_PREFIX}OUTPUT_DIR", DEFAULT_OUTPUT_DIR),
            "input_roots": tuple(Path(part) for part in roots_text.split(os.pathsep) if part),
            "engine": env.get(f"{stage_prefix}ENGINE") or None,
            "model": env.get(f"{stage_prefix}MODEL") or None,
            "device": env.get(f"{ENV_PREFIX}DEVICE", "auto"),
            "dtype": env.get(f"{ENV_PREFIX}DTYPE", "auto"),
            "log_level": env.get(f"{ENV_PREFIX}LOG_LEVEL", "INFO").upper(),
        }
        for name, value in overrides.items():
            if value is None:
                continue
            if name == "input_roots":
                value = values["input_roots"] + tuple(Path(root) for root in value)  # type: ignore[operator]
            values[name] = value
        return cls(**values)  # type: ignore[arg-type]

    def ensure_output_dir(self) -> Path:
        """Create the output folder if needed; raise `InvalidInputError` when it cannot be used."""
        try:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            probe = self.output_dir / f".write-check-{os.getpid()}"
            probe.touch()
            probe.unlink()
        except OSError as error:
            raise InvalidInputError(
                f"output folder {self.output_dir} cannot be used ({error.strerror or error}): "
                "pass --output-dir (or REASONING_ACTION_OUTPUT_DIR) naming a writable folder"
            ) from error
        return self.output_dir

    def replace(self, **changes: object) -> Settings:
        """Return a copy with `changes` applied."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def to_env(self) -> dict[str, str]:
        """Return the variables that recreate these settings in a child process."""
        stage_prefix = f"{ENV_PREFIX}{self.stage.upper()}_"
        env = {
            f"{ENV_PREFIX}OUTPUT_DIR": str(self.output_dir),
            f"{ENV_PREFIX}INPUT_ROOTS": os.pathsep.join(str(root) for root in self.input_roots),
            f"{ENV_PREFIX}DEVICE": self.device,
            f"{ENV_PREFIX}DTYPE": self.dtype,
            f"{ENV_PREFIX}LOG_LEVEL": self.log_level,
        }
        if self.engine:
            env[f"{stage_prefix}ENGINE"] = self.engine
        if self.model:
            env[f"{stage_prefix}MODEL"] = self.model
        return env
