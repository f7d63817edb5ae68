"""Transitions between segments and the exact length of the joined video.

- `none`: segments follow each other; the length is the sum of the segments.
- `fade`: a crossfade (`xfade`). Each pair of neighbours overlaps by the transition
  duration, so the length is the sum minus one overlap per boundary.
- `fade_black`: the outgoing segment fades to black over the first half of the transition
  and the next one fades in from black over the second half. Nothing overlaps, so the
  length stays the sum of the segments.

Transition lengths are whole frames of the output rate. A requested duration that is not
a whole number of frames is rounded to the nearest frame, and the result reports the
value used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from servers.av_merge.normalise import Canvas, normalise_filter
from servers.shared.errors import InvalidInputError

__all__ = [
    "MAX_TRANSITION_SECONDS",
    "TRANSITIONS",
    "Timeline",
    "TransitionType",
    "needs_next_segment",
    "plan_timeline",
    "segment_piece_filter",
]

TransitionType = Literal["none", "fade", "fade_black"]
TRANSITIONS: tuple[TransitionType, ...] = ("none", "fade", "fade_black")
MAX_TRANSITION_SECONDS = 10.0


@dataclass(frozen=True)
class Timeline:
    """Frame counts of the segments at the output rate, and the transition between them."""

    fps: Fraction
    segment_frames: tuple[int, ...]
    transition_type: TransitionType
    transition_frames: int

    @property
    def boundaries(self) -> int:
        return len(self.segment_frames) - 1

    @property
    def overlap_frames(self) -> int:
        """Frames removed from the sum of the segments by crossfades."""
        return self.transition_frames * self.boundaries if self.transition_type == "fade" else 0

    @property
    def total_frames(self) -> int:
        return sum(self.segment_frames) - self.overlap_frames

    @property
    def duration(self) -> float:
        return float(self.total_frames / self.fps)

    @property
    def transition_seconds(self) -> float:
        return float(self.transition_frames / self.fps)

    @property
    def overlap_seconds(self) -> float:
        return float(self.overlap_frames / self.fps)


def plan_timeline(
    segment_frames: Sequence[int],
    fps: Fraction,
    transition_type: TransitionType,
    transition_duration: float,
    *,
    segment_names: Sequence[str],
) -> Timeline:
    """Validate the transition against the segments and return the timeline of the join."""
    if transition_type not in TRANSITIONS:
        raise InvalidInputError(f"transition_type {transition_type!r} is unknown: use one of {', '.join(TRANSITIONS)}")
    if transition_type == "none" or len(segment_frames) < 2:
        return Timeline(fps, tuple(segment_frames), "none" if len(segment_frames) < 2 else transition_type, 0)

    if not 0 < transition_duration <= MAX_TRANSITION_SECONDS:
        raise InvalidInputError(
            f"transition_duration {transition_duration} is outside 0..{MAX_TRANSITION_SECONDS:g} seconds: "
            f"pass a positive value such as 0.5, or transition_type 'none'"
        )
    transition_frames = max(1, round(transition_duration * fps))
    timeline = Timeline(fps, tuple(segment_frames), transition_type, transition_frames)
    _check_segments_long_enough(timeline, segment_names)
    return timeline


def _check_segments_long_enough(timeline: Timeline, segment_names: Sequence[str]) -> None:
    """Reject a transition longer than a segment can give: inner segments give at both ends.

    A crossfade takes the whole transition from each side of a boundary; a fade through
    black takes half of it from each side.
    """
    per_side = timeline.transition_frames if timeline.transition_type == "fade" else (timeline.transition_frames + 1) // 2
    last = len(timeline.segment_frames) - 1
    for index, frames in enumerate(timeline.segment_frames):
        sides = 1 if index in (0, last) else 2
        if per_side * sides < frames:
            continue
        seconds = frames / timeline.fps
        limit = float(seconds / sides) if timeline.transition_type == "fade" else float(2 * seconds / sides)
        raise InvalidInputError(
            f"transition_duration {timeline.transition_seconds:g} s is too long for segment {index} "
            f"({segment_names[index]!r}, {float(seconds):g} s): with '{timeline.transition_type}' it must be "
            f"below {limit:g} s so part of the segment shows on its own"
        )


def segment_piece_filter(timeline: Timeline, index: int, canvas: Canvas, output: str) -> str:
    """Return the filter graph that renders segment `index`'s part of the joined video.

    The part contains the segment's frames from the end of the previous crossfade up to and
    including the crossfade into the next segment, so the parts of all segments laid end
    to end give the joined video. Input 0 is segment `index`; with a crossfade after it,
    input 1 is the next segment, of which only the first transition's frames are decoded.
    """
    frames = timeline.segment_frames[index]
    last = index == len(timeline.segment_frames) - 1
    if timeline.transition_type == "fade_black":
        return normalise_filter("0:v:0", canvas, frames, "normalised") + ";" + _fade_black_filter(timeline, index, "normalised", output)
    if timeline.transition_type != "fade":
        return normalise_filter("0:v:0", canvas, frames, output)

    transition = timeline.transition_frames
    head = transition if index > 0 else 0
    own_label = "own" if not last else output
    graph = [normalise_filter("0:v:0", canvas, frames, "normalised")]
    graph.append(f"[normalised]trim=start_frame={head},setpts=PTS-STARTPTS[{own_label}]")
    if last:
        return ";".join(graph)

    graph.append(normalise_filter("1:v:0", canvas, transition, "next"))
    offset = _seconds_text(frames - head - transition, timeline.fps)
    duration = _seconds_text(transition, timeline.fps)
    graph.append(f"[own][next]xfade=transition=fade:duration={duration}:offset={offset}[{output}]")
    return ";".join(graph)


def needs_next_segment(timeline: Timeline, index: int) -> bool:
    """Tell whether segment `index`'s part also reads the next segment (for a crossfade)."""
    return timeline.transition_type == "fade" and index < len(timeline.segment_frames) - 1


def _fade_black_filter(timeline: Timeline, index: int, source: str, output: str) -> str:
    """Fade segment `index` in from black (all but the first) and out to black (all but the last)."""
    fade_out_frames = timeline.transition_frames // 2
    fade_in_frames = timeline.transition_frames - fade_out_frames
    frames = timeline.segment_frames[index]
    fades = []
    if index > 0:
        fades.append(f"fade=t=in:s=0:n={fade_in_frames}")
    if index < len(timeline.segment_frames) - 1 and fade_out_frames:
        fades.append(f"fade=t=out:s={frames - fade_out_frames}:n={fade_out_frames}")
    return f"[{source}]{','.join(fades) or 'null'}[{output}]"


def _seconds_text(frames: int, fps: Fraction) -> str:
    return f"{float(frames / fps):.6f}"
