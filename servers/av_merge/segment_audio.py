"""Join the segments' own audio tracks with the same cuts and transitions as their video.

Used when every segment has audio and no soundtrack is given. Each track is first fitted
to its segment's exact video length (padded with silence or cut), so the joined audio
ends with the joined video. A crossfade becomes an `acrossfade` of the same length, and a
fade through black becomes a fade-out and fade-in of the same halves. The result is a
48 kHz PCM file that the join then lays under the video like a soundtrack.

Audio decoders are small, so unlike the video this opens all segments in one ffmpeg.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from servers.av_merge.export import AUDIO_SAMPLE_RATE
from servers.av_merge.transitions import Timeline

__all__ = ["segment_audio_arguments"]


def segment_audio_arguments(segments: Sequence[Path], timeline: Timeline, output: Path) -> list[str]:
    """Return ffmpeg arguments that write the joined segment audio of `timeline` to the wav file `output`."""
    arguments: list[str] = []
    for path in segments:
        arguments += ["-i", str(path)]

    graph = [_fitted_track(index, timeline) for index in range(len(segments))]
    labels = [f"track{index}" for index in range(len(segments))]
    graph.append(_join_tracks(timeline, labels, "joined"))
    return [*arguments, "-filter_complex", ";".join(graph), "-map", "[joined]", "-c:a", "pcm_s16le", str(output)]


def _samples(frames: int, timeline: Timeline) -> int:
    return round(frames / timeline.fps * AUDIO_SAMPLE_RATE)


def _fitted_track(index: int, timeline: Timeline) -> str:
    samples = _samples(timeline.segment_frames[index], timeline)
    steps = [
        f"[{index}:a:0]asetpts=PTS-STARTPTS",
        f"aresample={AUDIO_SAMPLE_RATE}",
        "aformat=channel_layouts=stereo",
        f"apad=whole_len={samples}",
        f"atrim=end_sample={samples}",
    ]
    if timeline.transition_type == "fade_black":
        steps += _black_fades(index, timeline)
    return ",".join(steps) + f"[track{index}]"


def _black_fades(index: int, timeline: Timeline) -> list[str]:
    """Return the audio fades matching the video's dip to black at each boundary of segment `index`."""
    fade_out = _samples(timeline.transition_frames // 2, timeline)
    fade_in = _samples(timeline.transition_frames - timeline.transition_frames // 2, timeline)
    total = _samples(timeline.segment_frames[index], timeline)
    fades = []
    if index > 0:
        fades.append(f"afade=t=in:ss=0:ns={fade_in}")
    if index < len(timeline.segment_frames) - 1 and fade_out:
        fades.append(f"afade=t=out:ss={total - fade_out}:ns={fade_out}")
    return fades


def _join_tracks(timeline: Timeline, labels: Sequence[str], output: str) -> str:
    if timeline.transition_type != "fade" or len(labels) < 2:
        inputs = "".join(f"[{label}]" for label in labels)
        return f"{inputs}concat=n={len(labels)}:v=0:a=1[{output}]"

    overlap = _samples(timeline.transition_frames, timeline)
    steps = []
    previous = labels[0]
    for index in range(1, len(labels)):
        label = output if index == len(labels) - 1 else f"crossfaded{index}"
        steps.append(f"[{previous}][{labels[index]}]acrossfade=ns={overlap}:c1=tri:c2=tri[{label}]")
        previous = label
    return ";".join(steps)
