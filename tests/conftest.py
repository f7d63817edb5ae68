"""Fixtures shared by every test module: settings on a temporary output folder, anyio on asyncio."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
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


@pytest.fixture(autouse=True)
def _restore_root_log_handlers() -> Iterator[None]:
    """Drop root log handlers that an in-process `main()` added during a test.

    `logging.basicConfig(stream=sys.stderr)` binds pytest's capture stream, which is closed
    after the test; a later record would then fail with "I/O operation on closed file".
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
