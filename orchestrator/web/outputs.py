"""Mapping between files in the output folder and their `/outputs/...` URLs."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlparse

__all__ = ["OUTPUTS_PREFIX", "OutputFiles"]

OUTPUTS_PREFIX = "/outputs/"


class OutputFiles:
    """The output folder in URL form: file paths become URLs, URLs become paths, nothing outside."""

    def __init__(self, output_dir: Path) -> None:
        self.root = Path(output_dir).resolve()

    def resolve(self, relative: str) -> Path | None:
        """Return the file under the root named by a URL path, or None when it is not servable.

        Symbolic links are resolved before the check, so a link cannot lead outside the
        root. Hidden names, such as `.partial-*` files still being written, are rejected.
        """
        relative = unquote(relative)
        if "\x00" in relative:
            return None
        parts = Path(relative).parts
        if not parts or any(part.startswith(".") or part in ("/", "\\") for part in parts):
            return None
        candidate = (self.root / relative).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None
        return candidate

    def url_for(self, path: str | Path) -> str | None:
        """Return the `/outputs/...` URL of a file under the root, None for one outside it."""
        resolved = Path(path).resolve()
        if not resolved.is_relative_to(self.root):
            return None
        return OUTPUTS_PREFIX + quote(resolved.relative_to(self.root).as_posix())

    def to_input(self, reference: str) -> str:
        """Turn an `/outputs/...` URL (relative or absolute) into the file path a tool reads.

        Anything else (a path, a `file://` URI) passes through unchanged: the stage server
        confines inputs to its allowed folders itself.
        """
        parsed = urlparse(reference)
        if parsed.scheme in ("http", "https", "") and parsed.path.startswith(OUTPUTS_PREFIX):
            if parsed.scheme == "" and not reference.startswith(OUTPUTS_PREFIX):
                return reference
            relative = unquote(parsed.path[len(OUTPUTS_PREFIX) :])
            return str(self.root / relative)
        return reference

    def publish(self, value: Any) -> Any:
        """Return a copy of a tool result with every local file path replaced by its URL.

        Strings that are absolute paths or `file://` URIs under the root become
        `/outputs/...` URLs, so no server folder reaches the browser. Paths outside the root
        are left as they are.
        """
        if isinstance(value, dict):
            return {key: self.publish(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.publish(item) for item in value]
        if isinstance(value, str):
            return self._publish_text(value)
        return value

    def publish_message(self, message: str | None) -> str | None:
        """Return a progress message with the output folder's path shown as `/outputs/`."""
        if not message:
            return message
        return message.replace(f"{self.root}/", OUTPUTS_PREFIX)

    def _publish_text(self, text: str) -> str:
        if text.startswith("file://"):
            path = unquote(urlparse(text).path)
        elif text.startswith("/") and not text.startswith(OUTPUTS_PREFIX):
            path = text
        else:
            return text
        url = self.url_for(path)
        return url if url is not None else text
