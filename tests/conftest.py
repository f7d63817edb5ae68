"""Fixtures shared by every test module: settings on a temporary output folder, anyio on asyncio."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from servers.shared.settings import Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def output_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "outputs"
    folder.mkdir()
    return folder


@pytest.fixture
def make_settings(output_dir: Path) -> Callable[..., Settings]:
    """Return a factory of settings for a stage, with outputs under a temporary folder."""

    def factory(stage: str, **overrides: object) -> Settings:
        return Settings.from_env(stage, environ={}, output_dir=output_dir, **overrides)

    return factory
