"""The fast path: join segments by stream copy with ffmpeg's concat demuxer.

Stream copy only works when every segment was encoded the same way. With any mismatch
in codec, size, pixel format, frame rate, time base or the decoder setup (H.264 SPS/PPS,
stored as codec extradata), ffmpeg still exits 0 but writes a file that shows garbage or
stalls after the first segment. `copy_signature` captures those parameters, and the
caller uses the fast path only when all segments share one signature.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from servers.shared.media import MediaInfo
from servers.shared.mp4_boxes import DisplayMatrix

__all__ = [
    "CopySignature",
    "concat_input_arguments",
    "copy_signature",
    "hidden_frames_blocker",
    "pinned_duration_microseconds",
    "stream_copy_blocker",
    "write_concat_list",
]


@dataclass(frozen=True)
class CopySignature:
    """Codec parameters that must be identical across segments joined by stream copy."""

    codec: str | None
    width: int | None
    height: int | None
    pix_fmt: str | None
    fps: float | None
    time_base: str | None
    profile: str | None
    extradata_sha1: str | None
    display_matrix: DisplayMatrix | None = None


def copy_signature(info: MediaInfo) -> CopySignature:
    """Return the stream-copy signature of a probed video file."""
    return CopySignature(
        codec=info.video_codec,
        width=info.width,
        height=info.height,
        # Extradata (H.264's SPS, for one) fixes the pixel format and profile and is compared by
        # hash. A headers-only probe can leave both unset, so they count only without extradata.
        pix_fmt=None if info.video_extradata_sha1 else info.pix_fmt,
        profile=None if info.video_extradata_sha1 else info.video_profile,
        fps=info.fps,
        time_base=info.time_base,
        extradata_sha1=info.video_extradata_sha1,
        display_matrix=info.display_matrix,
    )


def stream_copy_blocker(
    signatures: Sequence[CopySignature],
    names: Sequence[str],
    *,
    pix_fmt: str | None,
    allowed_codecs: frozenset[str],
    output_format: str,
) -> str | None:
    """Return why the segments cannot be stream-copied into `output_format`, or None if they can.

    `pix_fmt` is the first segment's pixel format, from a full probe.
    """
    first = signatures[0]
    if first.codec not in allowed_codecs:
        return f"{output_format} output needs re-encoding {first.codec} video"
    if pix_fmt != "yuv420p":
        return f"pixel format {pix_fmt} is converted to yuv420p for playback everywhere"
    if (first.width or 0) % 2 or (first.height or 0) % 2:
        return f"odd frame size {first.width}x{first.height} is padded to even sides"
    for index, signature in enumerate(signatures[1:], start=1):
        if signature != first:
            field = _first_difference(first, signature)
            return f"segment {index} ({names[index]!r}) differs from the first segment in {field}"
    return None


def hidden_frames_blocker(infos: Sequence[MediaInfo], names: Sequence[str]) -> str | None:
    """Return why a segment whose stored frames differ from its playing time cannot be copied, or None.

    An mp4 cut with `-c copy` keeps the frames back to its keyframe and hides them with an
    edit list. The concat demuxer does not apply edit lists when it copies, so those frames
    would show.
    """
    for index, info in enumerate(infos):
        if info.hidden_frames:
            return f"segment {index} ({names[index]!r}) stores {info.frame_count} frames and its edit list hides {info.hidden_frames}"
        if not info.frame_count or not info.fps:
            continue
        expected = info.duration * info.fps
        if abs(info.frame_count - expected) > 1:
            return (
                f"segment {index} ({names[index]!r}) stores {info.frame_count} frames, but its duration and frame rate "
                f"give {round(expected)}"
            )
    return None


def _first_difference(first: CopySignature, other: CopySignature) -> str:
    labels = {"extradata_sha1": "encoder setup (SPS/PPS)", "display_matrix": "display rotation (its display matrix)"}
    for name in CopySignature.__dataclass_fields__:
        mine, theirs = getattr(first, name), getattr(other, name)
        if mine != theirs:
            if name in labels:
                return labels[name]
            return f"{name} ({mine} vs {theirs})"
    return "nothing"


def write_concat_list(paths: Sequence[Path], durations: Sequence[float] | None, list_path: Path) -> None:
    """Write a concat demuxer script; each entry's `duration` pins where the next segment starts.

    Without `durations`, the demuxer reads each file's duration from its container.
    """
    if durations is not None and len(durations) != len(paths):
        raise ValueError(f"durations has {len(durations)} entries for {len(paths)} segments: pass one per segment")
    lines = ["ffconcat version 1.0"]
    for index, path in enumerate(paths):
        quoted = str(path).replace("'", "'\\''")
        lines.append(f"file '{quoted}'")
        if durations is not None:
            lines.append(f"duration {durations[index]:.6f}")
    list_path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def pinned_duration_microseconds(duration: float) -> int:
    """Return the duration a concat script pins for a segment of `duration` seconds, in microseconds."""
    return round(float(f"{duration:.6f}") * 1_000_000)


def concat_input_arguments(list_path: Path) -> list[str]:
    """Return the ffmpeg input arguments that read `list_path` with the concat demuxer."""
    return ["-f", "concat", "-safe", "0", "-i", str(list_path)]
