"""Resolve and inspect input files, turning every way a file can be unusable into a clear error.

Probing reads headers only, which a file cut short while being written can still pass (an
mp4 with its index at the front). `inspect_video` therefore also checks that the file is
complete: for mp4 and mov it reads the top-level box headers, and for other formats it
counts the stored packets and compares them with the header.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from servers.shared.artifacts import resolve_input_path
from servers.shared.errors import MediaDecodeError
from servers.shared.media import MediaInfo, ffmpeg_exe, is_iso_media, is_still_image, probe
from servers.shared.mp4_boxes import missing_box_bytes

__all__ = [
    "audio_length",
    "inspect_audio",
    "inspect_media",
    "inspect_video",
    "inspect_videos",
    "resolve_media",
    "truncation_warnings",
]

_DIAGNOSE_TIMEOUT_SECONDS = 20
_MAX_PROBE_THREADS = 4
_LOG_CONTEXT = re.compile(r"^(\[[^\]]*\]\s*)+")  # ffmpeg's "[in#0 @ 0x55d0...] " prefix


def resolve_media(reference: str, roots: Sequence[Path], *, what: str) -> Path:
    """Resolve `reference` inside `roots` and reject empty files."""
    path = resolve_input_path(reference, roots, what=what)
    if path.stat().st_size == 0:
        raise MediaDecodeError(f"{what} {reference!r} is an empty file (0 bytes): re-create it or remove it from the request")
    return path


def inspect_media(path: Path, *, what: str, headers_only: bool = False, count_hidden_frames: bool = False) -> MediaInfo:
    """Probe `path`; on failure the error quotes ffmpeg's own diagnosis (e.g. "moov atom not found")."""
    try:
        return probe(path, headers_only=headers_only, count_hidden_frames=count_hidden_frames)
    except MediaDecodeError as error:
        reason = _ffmpeg_diagnosis(path) or str(error)
        raise MediaDecodeError(
            f"{what} {path.name!r} cannot be read as media ({reason}): the file is damaged, truncated "
            "or not a media file; re-create or re-download it"
        ) from error


def inspect_video(path: Path, *, what: str, headers_only: bool = False, count_hidden_frames: bool = False) -> MediaInfo:
    """Probe `path` and check that it contains a complete, non-empty video stream."""
    info = inspect_media(path, what=what, headers_only=headers_only, count_hidden_frames=count_hidden_frames)
    if not info.has_video:
        raise MediaDecodeError(f"{what} {path.name!r} has no video stream: pass a video file (mp4, webm, mov, gif)")
    if is_still_image(info):
        raise MediaDecodeError(
            f"{what} {path.name!r} is a still image ({info.format_name}), not a video: "
            "animate it first with the image2video server's image_to_video tool"
        )
    if not info.frame_count or info.duration <= 0:
        raise MediaDecodeError(f"{what} {path.name!r} contains no video frames: re-create it")
    if not info.fps or not info.width or not info.height:
        raise MediaDecodeError(f"{what} {path.name!r} stores no frame rate or frame size: re-encode it with a fixed frame rate")

    if is_iso_media(info.format_name):
        missing = missing_box_bytes(path)
        if missing:
            raise MediaDecodeError(
                f"{what} {path.name!r} is truncated: its boxes declare {missing} bytes more than the file has; re-create it"
            )
        return info

    # NOTE: probe() counts WebM and GIF frames from the packets themselves, so for those
    # formats this finds only a cut inside a packet; a WebM cut between clusters passes as a shorter clip.
    stored = _count_stored_packets(path, what=what)
    if stored < info.frame_count:
        raise MediaDecodeError(
            f"{what} {path.name!r} is truncated: its header lists {info.frame_count} frames but the file "
            f"contains only {stored}; re-create it"
        )
    return info


def inspect_videos(paths: Sequence[Path], *, whats: Sequence[str]) -> list[MediaInfo]:
    """Inspect several videos at once; the first failing one in order raises its error.

    Only the first video is probed in full. The others are read from their headers, which
    give everything a join compares except the pixel format. For the codecs that mp4 and
    mov stream-copy, the pixel format is part of the decoder setup, which is compared by
    hash. PyAV releases the GIL while it opens a file, so a few threads share the work.
    """
    headers_only = [False] + [True] * (len(paths) - 1)
    workers = max(1, min(_MAX_PROBE_THREADS, os.cpu_count() or 1, len(paths)))
    if workers == 1:
        return [_inspect_one(*arguments) for arguments in zip(paths, whats, headers_only, strict=True)]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="probe") as executor:
        return list(executor.map(_inspect_one, paths, whats, headers_only))


def _inspect_one(path: Path, what: str, headers_only: bool) -> MediaInfo:
    # A join must know the frames an edit list hides, because the concat demuxer shows them.
    return inspect_video(path, what=what, headers_only=headers_only, count_hidden_frames=True)


def inspect_audio(path: Path, *, what: str) -> MediaInfo:
    """Probe `path` and check that it contains an audio stream of positive length."""
    info = inspect_media(path, what=what)
    if not info.has_audio:
        raise MediaDecodeError(f"{what} {path.name!r} has no audio stream: pass an audio file (wav, mp3, m4a, ogg, ...) or a video with sound")
    if audio_length(info) <= 0:
        raise MediaDecodeError(f"{what} {path.name!r} has an empty audio stream: re-create it")
    return info


def truncation_warnings(path: Path, info: MediaInfo) -> list[str]:
    """Return a warning when an mp4 or mov file is shorter than its boxes declare, else nothing."""
    if not is_iso_media(info.format_name):
        return []
    missing = missing_box_bytes(path)
    if not missing:
        return []
    return [
        f"the file is truncated: its boxes declare {missing} bytes more than it has, so its duration and frame counts come from "
        "its header and overstate what plays; re-create it"
    ]


def audio_length(info: MediaInfo) -> float:
    """Return the audio stream's length in seconds, falling back to the container duration."""
    return info.audio_duration if info.audio_duration else info.duration


def _count_stored_packets(path: Path, *, what: str) -> int:
    """Count video packets whose data lies inside the file, without decoding them."""
    import av

    size = path.stat().st_size
    count = 0
    try:
        with av.open(str(path)) as container:
            for packet in container.demux(video=0):
                if packet.size == 0:
                    continue
                if packet.pos is not None and packet.pos >= 0 and packet.pos + packet.size > size:
                    break
                count += 1
    except av.error.FFmpegError as error:
        raise MediaDecodeError(f"{what} {path.name!r} is damaged: reading its packets failed ({error}); re-create it") from error
    return count


def _ffmpeg_diagnosis(path: Path) -> str | None:
    """Return the last line ffmpeg logs when it opens `path`, which names the actual defect."""
    command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path)]
    try:
        completed = subprocess.run(command, capture_output=True, timeout=_DIAGNOSE_TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = [line.strip() for line in completed.stderr.decode("utf-8", errors="replace").splitlines() if line.strip()]
    defects = [line for line in lines if "At least one output file must be specified" not in line]
    if not defects:
        return None
    return _LOG_CONTEXT.sub("", defects[0]).replace(str(path), path.name)

