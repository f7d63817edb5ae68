"""Connection settings of the four stage servers, read from an optional TOML file.

By default every stage is a stdio subprocess of the current Python
(`python -m servers.<stage>`), configured through `REASONING_ACTION_*` variables. A config
file can point a stage at a server that is already running (streamable HTTP or SSE), pick
engines and models, and set timeouts and retries:

    output_dir = "outputs"          # shared by every stage and the run folders
    device = "auto"                 # torch device for diffusers engines
    overlap = true                  # score the soundtrack while later segments render

    [stages.image2video]
    engine = "diffusers"
    model = "stabilityai/stable-video-diffusion-img2vid-xt"
    timeout_seconds = 3600
    retries = 2

    [stages.video2audio]
    url = "http://127.0.0.1:8103/mcp"   # streamable HTTP; a URL ending in /sse uses SSE

Unknown keys are rejected, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from servers.shared.settings import DEFAULT_OUTPUT_DIR, DEVICES, DTYPES, ENV_PREFIX, Settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 needs the tomli backport.
    import tomli as tomllib

__all__ = [
    "STAGES",
    "ConfigError",
    "OrchestratorConfig",
    "StageConfig",
    "load_config",
    "normalize_stage",
]

STAGES = ("text2image", "image2video", "video2audio", "av_merge")
Transport = Literal["stdio", "streamable-http", "sse"]

DEFAULT_TIMEOUT_SECONDS = 1800.0
# Below this many cores the windows scored during rendering slow rendering down more than
# they save (measured with bench/bench_orchestrator.py on a 2-core machine).
MIN_CORES_FOR_OVERLAP = 4
DEFAULT_RETRIES = 2
MAX_RETRIES = 10

# Variables a stdio child needs beyond the few the MCP stdio client passes by default
# (HOME, LOGNAME, PATH, SHELL, TERM, USER): model caches, offline switches, GPU selection.
PASSTHROUGH_PREFIXES = (
    ENV_PREFIX,
    "HF_",
    "HUGGINGFACE_",
    "TRANSFORMERS_",
    "DIFFUSERS_",
    "TORCH",
    "PYTORCH_",
    "CUDA_",
    "OMP_",
    "MKL_",
    "XDG_",
    "LC_",
)
PASSTHROUGH_NAMES = ("PYTHONPATH", "VIRTUAL_ENV", "TMPDIR", "LANG", "SYSTEMROOT", "NVIDIA_VISIBLE_DEVICES")


class ConfigError(ValueError):
    """The config file is missing, is not TOML, or contains an invalid value."""


def normalize_stage(name: str) -> str:
    """Return the canonical stage name; `av-merge` and `av_merge` are the same stage."""
    canonical = name.strip().lower().replace("-", "_")
    if canonical not in STAGES:
        raise ConfigError(f"unknown stage {name!r}: use one of {', '.join(STAGES)}")
    return canonical


class StageConfig(BaseModel):
    """How to connect to one stage server and what it runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str | None = Field(
        default=None,
        description="URL of a running server. Without it the server is started as a stdio subprocess.",
    )
    transport: Transport | None = Field(
        default=None,
        description="stdio, streamable-http or sse; inferred from `url` when omitted (a path ending in /sse means sse).",
    )
    command: list[str] | None = Field(
        default=None,
        description="Command that starts the stdio server; default: this Python with `-m servers.<stage>`.",
    )
    engine: str | None = Field(default=None, description="Engine the stdio server uses; default: the server's own default.")
    model: str | None = Field(default=None, description="Model of the diffusers engine: a hub id or a local folder.")
    timeout_seconds: float = Field(
        default=DEFAULT_TIMEOUT_SECONDS,
        gt=0,
        description="Seconds one tool call may take before the server counts as hung and is restarted.",
    )
    retries: int = Field(
        default=DEFAULT_RETRIES,
        ge=0,
        le=MAX_RETRIES,
        description="How many times a call is retried after the server crashed, hung or lost its connection.",
    )
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables of the stdio server.")

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError(f"url must start with http:// or https://, got {url!r}")
        return url

    @field_validator("command")
    @classmethod
    def _check_command(cls, command: list[str] | None) -> list[str] | None:
        if command is not None and not command:
            raise ValueError("command is empty: name the program and its arguments, or drop the key")
        return command

    @model_validator(mode="after")
    def _check_transport(self) -> StageConfig:
        if self.transport in ("streamable-http", "sse") and self.url is None:
            raise ValueError(f"transport {self.transport!r} needs a url, for example http://127.0.0.1:8101/mcp")
        if self.transport == "stdio" and self.url is not None:
            raise ValueError("transport 'stdio' starts a subprocess and takes no url: drop one of the two")
        return self

    @property
    def effective_transport(self) -> Transport:
        """Return the transport in use, inferring it from `url` when not set."""
        if self.transport is not None:
            return self.transport
        if self.url is None:
            return "stdio"
        return "sse" if self.url.rstrip("/").endswith("/sse") else "streamable-http"


class OrchestratorConfig(BaseModel):
    """Settings of one orchestrator: where outputs go and how each stage is reached."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    output_dir: Path = Field(
        default_factory=lambda: Path(os.environ.get(f"{ENV_PREFIX}OUTPUT_DIR", DEFAULT_OUTPUT_DIR)),
        validate_default=True,
        description="Folder for every stage's outputs and the run folders (`<output_dir>/runs/<run_id>`).",
    )
    input_roots: tuple[Path, ...] = Field(default=(), description="Extra folders the servers may read inputs from.")
    device: str = Field(default="auto", description="Torch device of diffusers engines: " + ", ".join(DEVICES))
    dtype: str = Field(default="auto", description="Torch dtype of diffusers engines: " + ", ".join(DTYPES))
    log_level: str = Field(default="INFO", description="Log level of the stdio servers.")
    overlap: bool | None = Field(
        default=None,
        description="Score soundtrack windows while later segments render (true), or the whole soundtrack in one "
        "call at the end (false). Unset: on when this machine has at least 4 CPU cores or the segments render "
        "elsewhere (diffusers engine or a remote image2video server), because on fewer busy cores the extra "
        "scoring competes with rendering.",
    )
    stages: dict[str, StageConfig] = Field(default_factory=dict, description="Per-stage settings, keyed by stage name.")

    @field_validator("output_dir")
    @classmethod
    def _resolve_output_dir(cls, output_dir: Path) -> Path:
        return Path(output_dir).expanduser().resolve()

    @field_validator("device")
    @classmethod
    def _check_device(cls, device: str) -> str:
        if device not in DEVICES:
            raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
        return device

    @field_validator("dtype")
    @classmethod
    def _check_dtype(cls, dtype: str) -> str:
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        return dtype

    @field_validator("stages", mode="before")
    @classmethod
    def _normalize_stage_names(cls, stages: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(stages, Mapping):
            return stages  # type: ignore[return-value]
        return {normalize_stage(name): value for name, value in stages.items()}

    @property
    def overlap_enabled(self) -> bool:
        """Return whether soundtrack windows are scored while segments render (see `overlap`)."""
        if self.overlap is not None:
            return self.overlap
        image2video = self.stage("image2video")
        renders_elsewhere = image2video.engine == "diffusers" or image2video.url is not None
        return (os.cpu_count() or 1) >= MIN_CORES_FOR_OVERLAP or renders_elsewhere

    @property
    def runs_dir(self) -> Path:
        """Return the folder of run manifests, inside the output folder so servers can read run files."""
        return self.output_dir / "runs"

    @property
    def log_dir(self) -> Path:
        """Return the folder where each stdio server's stderr log is written."""
        return self.output_dir / "logs"

    def stage(self, name: str) -> StageConfig:
        """Return the settings of stage `name`, defaults when the file does not mention it."""
        return self.stages.get(normalize_stage(name)) or StageConfig()

    def with_overrides(self, **changes: Any) -> OrchestratorConfig:
        """Return a copy with top-level fields replaced; None values are ignored."""
        values = self.model_dump()
        values.update({key: value for key, value in changes.items() if value is not None})
        return OrchestratorConfig.model_validate(values)

    def with_stage(self, name: str, **changes: Any) -> OrchestratorConfig:
        """Return a copy where stage `name` has `changes` applied; None values are ignored."""
        stage = normalize_stage(name)
        current = self.stage(stage).model_dump()
        current.update({key: value for key, value in changes.items() if value is not None})
        stages = {key: value.model_dump() for key, value in self.stages.items()}
        stages[stage] = current
        return self.with_overrides(stages=stages)

    def server_settings(self, name: str) -> Settings:
        """Return the settings a stdio server of stage `name` is started with."""
        stage = self.stage(name)
        return Settings(
            stage=normalize_stage(name),
            output_dir=self.output_dir,
            input_roots=self.input_roots,
            engine=stage.engine,
            model=stage.model,
            device=self.device,
            dtype=self.dtype,
            log_level=self.log_level,
        )

    def server_environment(self, name: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
        """Return the environment of the stdio server of stage `name`.

        It contains the pass-through variables of `environ` (model caches, offline switches,
        GPU selection), then the stage's settings, then the stage's own `env` table.
        """
        source = os.environ if environ is None else environ
        env = {
            key: value
            for key, value in source.items()
            if key.startswith(PASSTHROUGH_PREFIXES) or key in PASSTHROUGH_NAMES
        }
        env.update(self.server_settings(name).to_env())
        env.update(self.stage(name).env)
        return env


def load_config(path: Path | None) -> OrchestratorConfig:
    """Read the TOML config at `path`; None gives the defaults.

    Relative paths in the file (`output_dir`, `input_roots`) are taken relative to the
    folder of the file, not to the current directory.
    """
    if path is None:
        return OrchestratorConfig()

    path = Path(path).expanduser()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(f"config file {path} not found: check the path given to --config") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from error

    base = path.resolve().parent
    if "output_dir" in data:
        data["output_dir"] = base / Path(data["output_dir"]).expanduser()
    if "input_roots" in data:
        data["input_roots"] = [base / Path(root).expanduser() for root in data["input_roots"]]

    try:
        return OrchestratorConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(f"config file {path} has invalid values: {_describe(error)}") from error
    except ConfigError as error:
        raise ConfigError(f"config file {path}: {error}") from error


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"])
        parts.append(f"{location}: {item['msg']}")
    return "; ".join(parts)
