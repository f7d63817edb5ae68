"""The run manifest: every finished step of a run, so a run can resume where it stopped.

A run lives in `<runs_dir>/<run_id>/`. Its `manifest.json` contains the request, the seed,
and one record per finished step (keyframe, each segment, each soundtrack piece, the
soundtrack, the final merge), written atomically after every step. Resuming reuses each
record whose files still exist and redoes the rest.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from orchestrator.models import WorkflowRequest

__all__ = ["MANIFEST_NAME", "RunManifest", "RunNotFoundError", "check_run_id", "new_run_id"]

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class RunNotFoundError(LookupError):
    """No run with the requested id exists, or its manifest is unreadable."""


def new_run_id() -> str:
    """Return a new run id: UTC date and time plus a random suffix, safe as a folder name."""
    return f"{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:6]}"


def check_run_id(run_id: str) -> str:
    """Return `run_id` if it is a plain folder name, else raise ValueError."""
    if not _RUN_ID.match(run_id):
        raise ValueError(
            f"run id {run_id!r} is invalid: use 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit"
        )
    return run_id


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class RunManifest:
    """The manifest of one run, saved to disk after every change."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data

    @property
    def run_id(self) -> str:
        return self.data["run_id"]

    @property
    def run_dir(self) -> Path:
        return self.path.parent

    @property
    def request(self) -> WorkflowRequest:
        return WorkflowRequest.model_validate(self.data["request"])

    @property
    def seed(self) -> int:
        return int(self.data["seed"])

    @classmethod
    def create(cls, runs_dir: Path, run_id: str, request: WorkflowRequest, *, seed: int, overlap: bool) -> RunManifest:
        """Create the run folder and its first manifest; the run id must be new."""
        run_dir = Path(runs_dir) / check_run_id(run_id)
        if (run_dir / MANIFEST_NAME).exists():
            raise ValueError(f"run {run_id!r} already exists in {runs_dir}: resume it, or choose another run id")
        run_dir.mkdir(parents=True, exist_ok=True)
        data = {
            "version": MANIFEST_VERSION,
            "run_id": run_id,
            "status": "running",
            "created_at": _now(),
            "updated_at": _now(),
            "request": request.model_dump(mode="json"),
            "seed": seed,
            "overlap": overlap,
            "attempts": 1,
            "steps": {},
            "error": None,
        }
        manifest = cls(run_dir / MANIFEST_NAME, data)
        manifest.save()
        return manifest

    @classmethod
    def load(cls, runs_dir: Path, run_id: str) -> RunManifest:
        """Read the manifest of run `run_id`, or raise `RunNotFoundError`."""
        path = Path(runs_dir) / check_run_id(run_id) / MANIFEST_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as error:
            raise RunNotFoundError(f"run {run_id!r} not found: no {path}") from error
        except (OSError, ValueError) as error:
            raise RunNotFoundError(f"run {run_id!r} has an unreadable manifest {path}: {error}") from error
        if data.get("version") != MANIFEST_VERSION:
            raise RunNotFoundError(f"run {run_id!r} has manifest version {data.get('version')!r}; expected {MANIFEST_VERSION}")
        return cls(path, data)

    def save(self) -> None:
        """Write the manifest atomically (temporary file, then rename)."""
        self.data["updated_at"] = _now()
        temporary = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex[:8]}")
        try:
            temporary.write_text(json.dumps(self.data, ensure_ascii=False, indent=2), encoding="utf-8")
            os.replace(temporary, self.path)
        finally:
            temporary.unlink(missing_ok=True)

    def set_status(self, status: str, *, error: str | None = None) -> None:
        self.data["status"] = status
        self.data["error"] = error
        self.save()

    def record(self, key: str, value: dict[str, Any]) -> None:
        """Store the record of a finished step under `key` and save."""
        self.data["steps"][key] = value
        self.save()

    def forget(self, keys: Iterable[str]) -> None:
        """Drop the records of `keys`, because an earlier step they depend on is redone."""
        for key in keys:
            self.data["steps"].pop(key, None)
        self.save()

    def step(self, key: str, *, files: Iterable[str] = ("path",)) -> dict[str, Any] | None:
        """Return the record of step `key` if every file it names under `files` still exists."""
        record = self.data["steps"].get(key)
        if record is None:
            return None
        for name in files:
            value = record.get(name)
            if not value or not Path(value).is_file():
                return None
        return record
