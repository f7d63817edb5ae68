"""Settings of the HTTP service, read from command-line options and `REASONING_ACTION_*` variables.

A command-line option wins over the environment, and the environment wins over the
defaults below.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["RateLimit", "WebSettings", "DEFAULT_HOST", "DEFAULT_PORT", "DEFAULT_DATABASE_FILE"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_DATABASE_FILE = "reasoning-action-tasks.db"
ENV_PREFIX = "REASONING_ACTION_"

_RATE_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour|s|m|h)\s*$", re.IGNORECASE)
_PERIOD_SECONDS = {"s": 1.0, "second": 1.0, "m": 60.0, "minute": 60.0, "h": 3600.0, "hour": 3600.0}


@dataclass(frozen=True)
class RateLimit:
    """At most `requests` task creations per client in any window of `period_seconds`."""

    requests: int
    period_seconds: float

    @classmethod
    def parse(cls, text: str) -> RateLimit | None:
        """Parse `30/minute`, `5/s` or `100/hour`; `0` or `off` disables the limit (returns None)."""
        if text.strip().lower() in ("0", "off", "none"):
            return None
        match = _RATE_PATTERN.match(text)
        if match is None:
            raise ValueError(f"rate limit {text!r} is invalid: write it as COUNT/PERIOD, for example 30/minute, or off")
        requests = int(match.group(1))
        if requests <= 0:
            raise ValueError(f"rate limit {text!r} allows no request: use a positive count, or off")
        return cls(requests=requests, period_seconds=_PERIOD_SECONDS[match.group(2).lower()])

    def __str__(self) -> str:
        return f"{self.requests}/{self.period_seconds:g}s"


def _default_database_url() -> str:
    return f"sqlite:///{Path(DEFAULT_DATABASE_FILE).resolve()}"


@dataclass(frozen=True, kw_only=True)
class WebSettings:
    """Settings of one `reasoning-action serve` process.

    The output folder is not here: it comes from the orchestrator config, because
    `/outputs/...` must serve exactly the folder the stage servers write to. `token` is the
    bearer token every API request must carry; None turns authentication off.
    """

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str | None = None
    database_url: str = field(default_factory=_default_database_url)
    max_concurrent_workflows: int = 1
    max_concurrent_tasks: int = 2
    cors_origins: tuple[str, ...] = ()
    rate_limit: RateLimit | None = RateLimit(requests=30, period_seconds=60.0)
    resume_interrupted: bool = True

    def __post_init__(self) -> None:
        if self.max_concurrent_workflows < 1:
            raise ValueError(f"max_concurrent_workflows must be at least 1, got {self.max_concurrent_workflows}")
        if self.max_concurrent_tasks < 1:
            raise ValueError(f"max_concurrent_tasks must be at least 1, got {self.max_concurrent_tasks}")
        if not 0 < self.port < 65536:
            raise ValueError(f"port must be in 1..65535, got {self.port}")
        if self.token is not None and not self.token.strip():
            object.__setattr__(self, "token", None)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> WebSettings:
        """Build settings from the environment, then apply non-None `overrides`."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        if f"{ENV_PREFIX}API_TOKEN" in env:
            values["token"] = env[f"{ENV_PREFIX}API_TOKEN"]
        if f"{ENV_PREFIX}DATABASE_URL" in env:
            values["database_url"] = env[f"{ENV_PREFIX}DATABASE_URL"]
        if f"{ENV_PREFIX}CORS_ORIGINS" in env:
            values["cors_origins"] = tuple(part.strip() for part in env[f"{ENV_PREFIX}CORS_ORIGINS"].split(",") if part.strip())
        if f"{ENV_PREFIX}RATE_LIMIT" in env:
            values["rate_limit"] = RateLimit.parse(env[f"{ENV_PREFIX}RATE_LIMIT"])
        if f"{ENV_PREFIX}MAX_CONCURRENT_WORKFLOWS" in env:
            values["max_concurrent_workflows"] = int(env[f"{ENV_PREFIX}MAX_CONCURRENT_WORKFLOWS"])

        for name, value in overrides.items():
            if value is not None:
                values[name] = value
        return cls(**values)  # type: ignore[arg-type]
