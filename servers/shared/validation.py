"""Parameter checks whose messages name the value and the fix, as tool callers need."""

from __future__ import annotations

import math

from servers.shared.errors import InvalidInputError

__all__ = ["check_range", "check_seed", "check_size", "check_text", "MIN_SIZE", "MAX_SIZE", "SIZE_MULTIPLE", "MAX_SEED"]

MIN_SIZE = 64
MAX_SIZE = 2048
SIZE_MULTIPLE = 8
MAX_SEED = 2**32 - 1


def check_text(name: str, value: str, *, max_chars: int) -> str:
    """Return `value` stripped; reject empty or over-long text."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{name} is empty: describe what you want, for example 'a quiet forest stream at dawn'")
    if len(value) > max_chars:
        raise InvalidInputError(f"{name} has {len(value)} characters: shorten it to at most {max_chars}")
    return value.strip()


def check_size(name: str, value: int, *, minimum: int = MIN_SIZE, maximum: int = MAX_SIZE, multiple: int = SIZE_MULTIPLE) -> int:
    """Check an image side in pixels; the error proposes the nearest valid size."""
    if value < minimum or value > maximum:
        nearest = min(max(value, minimum), maximum)
        raise InvalidInputError(f"{name} {value} is outside {minimum}..{maximum} pixels: use {nearest}")
    if value % multiple:
        nearest = round(value / multiple) * multiple
        nearest = min(max(nearest, minimum), maximum)
        raise InvalidInputError(f"{name} {value} is not a multiple of {multiple}: use {nearest}")
    return value


def check_range(name: str, value: float, minimum: float, maximum: float, *, hint: str = "") -> float:
    """Check `minimum <= value <= maximum` and that `value` is a finite number."""
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInputError(f"{name} must be a finite number, got {value}")
    if value < minimum or value > maximum:
        suffix = f" ({hint})" if hint else ""
        raise InvalidInputError(f"{name} {value} is outside {minimum:g}..{maximum:g}: pass a value in that range{suffix}")
    return value


def check_seed(seed: int) -> int:
    """Check that `seed` fits the unsigned 32-bit range that every engine accepts."""
    if seed < 0 or seed > MAX_SEED:
        raise InvalidInputError(f"seed {seed} is outside 0..{MAX_SEED}: pass a value in that range, or omit it for a random one")
    return seed
