"""Join warnings that several segments repeat word for word into one line.

A workflow collects warnings as `<stage> <segment>: <text>`. A ten-segment run can repeat
one text ten times, for example that the motion engine does not read the prompt, which
buries the warnings that differ. Repeats become `<stage> 1-3, 5: <text>` at the place of
their first occurrence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["merge_repeated"]

_NUMBERED = re.compile(r"^(?P<stage>[a-z0-9_]+(?: [a-z]+)?) (?P<number>\d+): (?P<text>.+)$", re.DOTALL)


def merge_repeated(warnings: Sequence[str]) -> list[str]:
    """Return `warnings` with every repeated numbered text listed once, with all its numbers."""
    numbers: dict[tuple[str, str], list[int]] = {}
    order: list[str | tuple[str, str]] = []
    for warning in warnings:
        match = _NUMBERED.match(warning)
        if match is None:
            order.append(warning)
            continue
        key = (match["stage"], match["text"])
        if key not in numbers:
            numbers[key] = []
            order.append(key)
        numbers[key].append(int(match["number"]))

    merged = []
    for entry in order:
        if isinstance(entry, str):
            merged.append(entry)
        else:
            stage, text = entry
            merged.append(f"{stage} {_ranges(numbers[entry])}: {text}")
    return merged


def _ranges(numbers: list[int]) -> str:
    """Return sorted `numbers` as runs, for example `1-3, 5`."""
    runs: list[list[int]] = []
    for number in sorted(set(numbers)):
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ", ".join(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}" for run in runs)
