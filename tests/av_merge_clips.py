"""Small real media files for the av_merge tests, generated once per test session.

Video clips are encoded with `VideoEncoder` (H.264 yuv420p, the same path the image2video
server uses), audio with ffmpeg's sine source. Each clip's frames are a flat grey level
plus a moving bar, so a test can tell segments apart and measure blends between them.
"""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from mcp import Client

from servers.av_merge.server import build_server
from servers.shared.media import VideoEncoder, ffmpeg_exe, run_ffmpeg
from servers.shared.settings import Settings

__all__ = [
    "Clips",
    "call",
    "clips",
    "decoded_audio_samples",
    "decoded_audio_seconds",
    "frame_levels",
    "make_av_settings",
    "partial_files",
    "server",
]


@dataclass(frozen=True)
class Clips:
    """Paths of the generated inputs; `folder` is an allowed input root."""

    folder: Path
    light: Path  # 64x48, 30 fps, 30 frames, grey 200
    dark: Path  # 64x48, 30 fps, 30 frames, grey 60
    mid: Path  # 64x48, 30 fps, 45 frames, grey 130
    large: Path  # 128x96, 25 fps, 25 frames, grey 100
    other_crf: Path  # 64x48, 30 fps, 30 frames, encoded at another CRF (different PPS)
    full_range: Path  # 64x48, 30 fps, 30 frames, H.264 yuvj420p (full range)
    yuv444: Path  # 64x48, 30 fps, 30 frames, H.264 yuv444p
    edit_list_cut: Path  # 64x48, 30 fps, plays 1 s but stores the frames back to its keyframe, hidden by an edit list
    rotated: Path  # light.mp4 stream-copied with a 90 degree display rotation
    near_keyframe_cut: Path  # cut 1 frame past a keyframe with -c copy: its edit list hides 1 or 2 frames
    with_audio: Path  # 64x48, 30 fps, 2 s, AAC sine at 330 Hz
    vp9: Path  # 64x48, 30 fps, 1 s VP9 webm
    short_audio: Path  # 1.3 s sine wav, 44.1 kHz mono
    long_audio: Path  # 5 s sine wav, 44.1 kHz mono
    not_video: Path  # text renamed to .mp4
    empty: Path  # 0 bytes
    truncated_moov: Path  # mp4 with its index at the end, cut before the index
    truncated_data: Path  # faststart mp4 cut in the middle of its frame data


def _write_clip(path: Path, *, width: int, height: int, fps: float, frames: int, level: int, crf: int = 18) -> Path:
    with VideoEncoder(path, width=width, height=height, fps=fps, crf=crf) as encoder:
        for index in range(frames):
            frame = np.full((height, width, 3), level, np.uint8)
            bar = (index * 2) % max(1, width - 4)
            frame[:4, bar : bar + 4] = 255
            encoder.write(frame)
    return path


def _build_clips(folder: Path) -> Clips:
    folder.mkdir(parents=True, exist_ok=True)
    light = _write_clip(folder / "light.mp4", width=64, height=48, fps=30, frames=30, level=200)
    dark = _write_clip(folder / "dark.mp4", width=64, height=48, fps=30, frames=30, level=60)
    mid = _write_clip(folder / "mid.mp4", width=64, height=48, fps=30, frames=45, level=130)
    large = _write_clip(folder / "large.mp4", width=128, height=96, fps=25, frames=25, level=100)
    other_crf = _write_clip(folder / "other-crf.mp4", width=64, height=48, fps=30, frames=30, level=90, crf=35)
    full_range, yuv444 = folder / "full-range.mp4", folder / "yuv444.mp4"
    for path, pixel_format in ((full_range, "yuvj420p"), (yuv444, "yuv444p")):
        run_ffmpeg(
            ["-i", str(light), "-c:v", "libx264", "-crf", "18", "-preset", "veryfast", "-pix_fmt", pixel_format, str(path)],
            what=f"making a {pixel_format} clip",
        )
    three_seconds, edit_list_cut = folder / "three-seconds.mp4", folder / "edit-list-cut.mp4"
    run_ffmpeg(
        ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=30:duration=3", "-c:v", "libx264", "-preset", "medium", "-g", "60",
         "-pix_fmt", "yuv420p", str(three_seconds)],
        what="making a clip to cut",
    )  # fmt: skip
    run_ffmpeg(["-ss", "0.5", "-i", str(three_seconds), "-t", "1", "-c", "copy", str(edit_list_cut)], what="cutting a clip by stream copy")
    near_keyframe_cut = folder / "near-keyframe-cut.mp4"
    run_ffmpeg(["-ss", "2.034", "-i", str(three_seconds), "-t", "0.5", "-c", "copy", str(near_keyframe_cut)], what="cutting near a keyframe")
    rotated = folder / "rotated.mp4"
    run_ffmpeg(["-display_rotation", "90", "-i", str(light), "-c", "copy", str(rotated)], what="rotating a clip")

    with_audio = folder / "with-audio.mp4"
    run_ffmpeg(
        ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=30:duration=2", "-f", "lavfi", "-i", "sine=frequency=330:duration=2",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(with_audio)],
        what="making a clip with audio",
    )  # fmt: skip
    vp9 = folder / "clip.webm"
    run_ffmpeg(
        ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=30:duration=1", "-c:v", "libvpx-vp9", "-pix_fmt", "yuv420p", str(vp9)],
        what="making a VP9 clip",
    )
    short_audio = folder / "short.wav"
    long_audio = folder / "long.wav"
    for path, seconds in ((short_audio, 1.3), (long_audio, 5)):
        run_ffmpeg(["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-ar", "44100", str(path)], what="making audio")

    not_video = folder / "notes.mp4"
    not_video.write_text("these are notes, not a video\n", encoding="utf-8")
    empty = folder / "empty.mp4"
    empty.write_bytes(b"")

    index_at_end = folder / "index-at-end.mp4"
    run_ffmpeg(
        ["-f", "lavfi", "-i", "testsrc=size=128x96:rate=30:duration=2", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(index_at_end)],
        what="making an mp4 with its index at the end",
    )
    truncated_moov = folder / "truncated-moov.mp4"
    truncated_moov.write_bytes(index_at_end.read_bytes()[: index_at_end.stat().st_size // 2])
    long_clip = _write_clip(folder / "long-clip.mp4", width=128, height=96, fps=30, frames=60, level=50)
    truncated_data = folder / "truncated-data.mp4"
    truncated_data.write_bytes(long_clip.read_bytes()[: int(long_clip.stat().st_size * 0.6)])

    return Clips(
        folder=folder, light=light, dark=dark, mid=mid, large=large, other_crf=other_crf, full_range=full_range,
        yuv444=yuv444, edit_list_cut=edit_list_cut, rotated=rotated, near_keyframe_cut=near_keyframe_cut, with_audio=with_audio, vp9=vp9,
        short_audio=short_audio, long_audio=long_audio, not_video=not_video, empty=empty,
        truncated_moov=truncated_moov, truncated_data=truncated_data,
    )  # fmt: skip


@functools.cache
def _cached_clips(folder: str) -> Clips:
    return _build_clips(Path(folder))


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Clips:
    """Build the clips once per session, even when several modules import this fixture."""
    return _cached_clips(str(tmp_path_factory.getbasetemp() / "av-merge-clips"))


@pytest.fixture
def make_av_settings(make_settings: Callable[..., Settings], clips: Clips) -> Settings:
    return make_settings("av_merge", input_roots=[clips.folder])


@pytest.fixture
def server(make_av_settings: Settings) -> Any:
    return build_server(make_av_settings)


async def call(server: Any, tool: str, arguments: dict[str, Any], **options: Any) -> Any:
    """Call `tool` over an in-memory MCP session and return the CallToolResult."""
    async with Client(server) as client:
        return await client.call_tool(tool, arguments, **options)


def frame_levels(path: Path) -> list[float]:
    """Return the mean luma of every decoded frame, below the moving bar's rows."""
    levels = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            luma = frame.to_ndarray(format="gray")
            levels.append(float(luma[8:].mean()))
    return levels


def decoded_audio_samples(path: Path) -> np.ndarray:
    """Return the mono 48 kHz samples of `path`'s audio as ffmpeg decodes them, encoder priming and padding removed."""
    command = [ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:a:0", "-f", "s16le", "-ac", "1", "-ar", "48000", "-"]
    pcm = subprocess.run(command, capture_output=True, check=True).stdout
    return np.frombuffer(pcm, dtype=np.int16).astype(np.float64)


def decoded_audio_seconds(path: Path) -> float:
    """Return the audio length in seconds as ffmpeg decodes it."""
    return len(decoded_audio_samples(path)) / 48_000


def partial_files(output_dir: Path) -> Iterator[Path]:
    """Yield files the server left in `output_dir` other than finished outputs and manifests."""
    for path in output_dir.rglob("*"):
        if path.is_file() and path.name.startswith(".partial-"):
            yield path
