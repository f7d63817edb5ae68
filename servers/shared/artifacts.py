"""Artifact store: where outputs are written, and how input references are resolved.

Each output is written under a temporary name in its final folder and renamed into place
only when complete, so a reader never sees a half-written file and a failed or cancelled
call leaves nothing behind. Beside each output lies a JSON manifest (`<file>.json`) that
records how it was made and from which parent artifacts, which later stages read as
provenance.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import time
import unicodedata
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlparse

from servers.shared.errors import InputNotFoundError, InvalidInputError

__all__ = [
    "Artifact",
    "ArtifactStore",
    "MANIFEST_SUFFIX",
    "MAX_NAME_BYTES",
    "PARTIAL_PREFIX",
    "STALE_PARTIAL_SECONDS",
    "make_file_name",
    "read_manifest",
    "resolve_input_path",
    "source_label",
]

logger = logging.getLogger(__name__)

MANIFEST_SUFFIX = ".json"
PARTIAL_PREFIX = ".partial-"
# A temporary output untouched for this long was left by a process that died mid-write.
STALE_PARTIAL_SECONDS = 24 * 3600
MAX_NAME_BYTES = 120  # Far below the 255-byte limit of common file systems, leaving room for suffixes.
_SLUG_BYTES = 60
_UNSAFE = re.compile(r"[^\w\-]+", re.UNICODE)
_STORED_NAME = re.compile(r"^(?P<prefix>(?:[a-z]+-)*?)\d{8}-\d{6}-(?P<label>.+)-[0-9a-f]{8}$")


@dataclass(frozen=True)
class Artifact:
    """A finished output file and the resource URI that serves it."""

    path: Path
    resource_uri: str

    @property
    def uri(self) -> str:
        """Return the `file://` URI of the artifact."""
        return self.path.as_uri()

    @property
    def manifest_path(self) -> Path:
        return self.path.with_name(self.path.name + MANIFEST_SUFFIX)


def _truncate_utf8(text: str, max_bytes: int) -> str:
    encoded = text.encode("utf-8")[:max_bytes]
    return encoded.decode("utf-8", errors="ignore")


def make_file_name(hint: str, suffix: str, *, now: float | None = None) -> str:
    """Build a unique, file-system-safe name from a free-text `hint` such as a prompt.

    Letters of any script are kept (a Chinese prompt stays readable); everything else
    becomes `-`. The slug is capped in UTF-8 bytes, not characters, so a long Chinese
    prompt can never produce "File name too long".
    """
    normalized = unicodedata.normalize("NFKC", hint).lower()
    slug = _UNSAFE.sub("-", normalized).strip("-_")
    slug = _truncate_utf8(slug, _SLUG_BYTES).strip("-_") or "output"

    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    name = f"{stamp}-{slug}-{uuid.uuid4().hex[:8]}{suffix}"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise InvalidInputError(f"suffix {suffix!r} is too long for a file name")
    return name


def source_label(path: Path) -> str:
    """Return the descriptive part of a stored file's name, without its timestamp and id.

    Names of outputs made from other outputs stay short this way:
    `merged-<label>` instead of `merged-<stamp>-<label>-<id>` nested once per stage.
    """
    match = _STORED_NAME.match(Path(path).stem)
    return match.group("label") if match else Path(path).stem


def read_manifest(path: Path) -> dict[str, Any] | None:
    """Return the manifest beside `path`, or None when there is none or it is unreadable."""
    manifest_path = path.with_name(path.name + MANIFEST_SUFFIX)
    try:
        return json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        logger.warning("Ignoring unreadable manifest %s: %s", manifest_path, error)
        return None


def resolve_input_path(reference: str, roots: Sequence[Path], *, what: str = "input") -> Path:
    """Turn a path or `file://` URI into an existing file inside one of `roots`.

    Relative paths are taken relative to the first root (the output folder). Symbolic
    links are resolved before the check, so a link cannot lead outside the roots.
    """
    if not isinstance(reference, str) or not reference.strip():
        raise InvalidInputError(f"{what} is empty: pass a file path or a file:// URI")
    text = reference.strip()

    parsed = urlparse(text)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise InvalidInputError(f"{what} {text!r} names host {parsed.netloc!r}: only local file:// URIs are accepted")
        candidate = Path(unquote(parsed.path))
    elif parsed.scheme and len(parsed.scheme) > 1:
        raise InvalidInputError(
            f"{what} {text!r} uses scheme {parsed.scheme!r}: pass a local file path or a file:// URI"
        )
    else:
        candidate = Path(text).expanduser()
    if "\x00" in str(candidate):
        raise InvalidInputError(f"{what} {text!r} contains a NUL byte")

    if not candidate.is_absolute():
        candidate = roots[0] / candidate
    resolved = candidate.resolve()

    if not any(resolved == root or resolved.is_relative_to(root) for root in roots):
        allowed = ", ".join(str(root) for root in roots)
        raise InvalidInputError(
            f"{what} {text!r} is outside the allowed folders ({allowed}): move the file into one of them, "
            "or start the server with --input-root pointing at its folder"
        )
    if not resolved.exists():
        raise InputNotFoundError(f"{what} {text!r} not found (looked at {resolved})")
    if not resolved.is_file():
        raise InvalidInputError(f"{what} {text!r} is not a regular file ({resolved})")
    return resolved


class ArtifactStore:
    """Writes one server's outputs atomically under `<output_dir>/<kind>/`.

    `resource_prefix` is the URI prefix of the server's resource template, for example
    `artifact://text2image/`, so each artifact can be read over MCP by its file name.
    """

    def __init__(self, output_dir: Path, *, kind: str, resource_prefix: str) -> None:
        if not kind or "/" in kind or kind.startswith("."):
            raise ValueError(f"kind must be a plain folder name, got {kind!r}")
        self.folder = Path(output_dir) / kind
        self.resource_prefix = resource_prefix
        self.remove_stale_partials()

    def remove_stale_partials(self, max_age_seconds: float = STALE_PARTIAL_SECONDS) -> list[Path]:
        """Delete temporary outputs not modified for `max_age_seconds`, and return their paths.

        A server killed mid-write never renames or removes its temporary file. A temporary
        file exists only while a call writes it, so one untouched for a day belongs to no call.
        """
        if not self.folder.is_dir():
            return []
        cutoff = time.time() - max_age_seconds
        removed = []
        for path in self.folder.glob(f"{PARTIAL_PREFIX}*"):
            try:
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed.append(path)
            except OSError as error:
                logger.warning("Failed to remove the stale temporary output %s: %s", path, error)
        if removed:
            logger.info("Removed %d stale temporary outputs from %s", len(removed), self.folder)
        return removed

    def artifact_for(self, path: Path) -> Artifact:
        return Artifact(path=path, resource_uri=self.resource_prefix + quote(path.name))

    def find(self, name: str) -> Path:
        """Return the stored file called `name`, rejecting anything that is not a plain name."""
        if not name or name != Path(name).name or name.startswith("."):
            raise InvalidInputError(f"artifact name {name!r} is not a plain file name")
        path = self.folder / name
        if not path.is_file():
            raise InputNotFoundError(f"artifact {name!r} not found in {self.folder}")
        return path

    @contextlib.contextmanager
    def create(self, hint: str, suffix: str) -> Iterator[tuple[Path, Path]]:
        """Reserve an output: yields `(temporary_path, final_path)`.

        The caller writes the temporary path; on a clean exit it is renamed to the final
        path, and on any exception it is removed and the exception propagates.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        final_path = self.folder / make_file_name(hint, suffix)
        # The temporary name keeps the real suffix because encoders pick the format from it.
        temporary_path = final_path.with_name(f"{PARTIAL_PREFIX}{uuid.uuid4().hex[:8]}-{final_path.name}")
        try:
            yield temporary_path, final_path
        except BaseException:
            temporary_path.unlink(missing_ok=True)
            raise
        if not temporary_path.exists():
            raise RuntimeError(f"nothing was written to {temporary_path}")
        os.replace(temporary_path, final_path)

    def write_manifest(self, artifact_path: Path, manifest: Mapping[str, Any]) -> Path:
        """Write the JSON sidecar of `artifact_path` atomically and return its path."""
        manifest_path = artifact_path.with_name(artifact_path.name + MANIFEST_SUFFIX)
        temporary_path = manifest_path.with_name(f"{PARTIAL_PREFIX}{uuid.uuid4().hex[:8]}-{manifest_path.name}")
        try:
            temporary_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
            os.replace(temporary_path, manifest_path)
        finally:
            temporary_path.unlink(missing_ok=True)
        return manifest_path
