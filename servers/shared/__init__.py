"""Shared core imported by every ReasoningACTION server.

Nothing here imports torch or diffusers at module level, so a server that only uses
CPU engines starts fast.
"""

from __future__ import annotations

__all__ = ["package_version"]


def package_version() -> str:
    """Return the installed version of the `reasoning-action` distribution."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("reasoning-action")
    except PackageNotFoundError:
        return "0.0.0"
