"""Video analysis over time: motion energy, brightness, colour and cuts, read with PyAV.

Frames are decoded and subsampled to a thumbnail about 32 pixels wide straight from the
decoder's planes, so an 80 s 1024x768 clip costs about as much as decoding it. Motion is the mean absolute luma difference between
consecutive thumbnails, in 0..1 of full scale. A cut is a frame whose difference is
far above both its neighbours and above an absolute floor.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from servers.shared.errors import InvalidInputError, MediaDecodeError
from servers.shared.media import MediaInfo, is_still_image, probe
from servers.shared.worker import Progress

__all__ = ["ANALYSIS_WIDTH", "MAX_VIDEO_SECONDS", "VideoAnalysis", "analyse_video", "probe_video"]

logger = logging.getLogger(__name__)

ANALYSIS_WIDTH = 64
MAX_VIDEO_SECONDS = 600.0
# A difference of 8 % of full scale between consecutive frames is already hard motion,
# such as a camera whip or a large object crossing. It maps to motion level 1.
FULL_MOTION = 0.08
CUT_MIN_DIFFERENCE = 0.12
CUT_NEIGHBOUR_RATIO = 3.0
# Frames decoded must cover this share of the duration in the header, else the file is truncated.
MIN_DECODED_SHARE = 0.9


@dataclass
class VideoAnalysis:
    """Per-frame curves of a video and the events found in them; times in seconds."""

    duration: float
    fps: float
    width: int
    height: int
    frame_times: np.ndarray
    motion: np.ndarray
    brightness: np.ndarray
    saturation: np.ndarray
    mean_colour: tuple[float, float, float]
    cuts: list[float] = field(default_factory=list)
    motion_peaks: list[float] = field(default_factory=list)

    def motion_level(self) -> np.ndarray:
        """Return motion mapped to 0..1, where 1 is hard motion (`FULL_MOTION`)."""
        return np.clip(self.motion / FULL_MOTION, 0.0, 1.0)

    @property
    def mean_motion(self) -> float:
        return float(self.motion_level().mean()) if self.motion.size else 0.0

    @property
    def mood(self) -> str:
        """Return `still`, `gentle`, `lively` or `intense` from the mean motion level and the cuts."""
        cut_rate = len(self.cuts) / max(self.duration, 1e-6)
        level = self.mean_motion + 0.2 * min(cut_rate, 1.0)
        if level < 0.05:
            return "still"
        if level < 0.25:
            return "gentle"
        if level < 0.55:
            return "lively"
        return "intense"

    @property
    def light(self) -> str:
        mean = float(self.brightness.mean()) if self.brightness.size else 0.0
        if mean < 0.3:
            return "dark"
        if mean > 0.65:
            return "bright"
        return "medium"

    @property
    def tint(self) -> str:
        """Return the dominant colour cast: `warm`, `cool`, `green` or `neutral`."""
        red, green, blue = self.mean_colour
        if max(red, green, blue) - min(red, green, blue) < 0.04:
            return "neutral"
        if green >= red and green >= blue:
            return "green"
        return "warm" if red > blue else "cool"

    def curve_at_rate(self, values: np.ndarray, rate: int, frames: int, smoothing_seconds: float = 0.3) -> np.ndarray:
        """Resample a per-frame curve to one value per audio frame, smoothed by a one-pole filter.

        The smoothing runs at 100 Hz before interpolation, which keeps it cheap for long clips.
        """
        from scipy.signal import lfilter

        control_rate = 100
        control_times = np.arange(int(frames / rate * control_rate) + 2) / control_rate
        control = np.interp(control_times, self.frame_times, values).astype(np.float64)
        coefficient = np.exp(-1.0 / (smoothing_seconds * control_rate)) if smoothing_seconds > 0 else 0.0
        smoothed, _ = lfilter([1 - coefficient], [1, -coefficient], control, zi=[control[0] * coefficient])
        audio_times = np.arange(frames) / rate
        return np.interp(audio_times, control_times, smoothed).astype(np.float32)

    def summary(self) -> dict[str, Any]:
        """Return the analysis as JSON-ready values for the tool result and manifest."""
        level = self.motion_level()
        return {
            "duration": round(self.duration, 4),
            "fps": round(self.fps, 3),
            "width": self.width,
            "height": self.height,
            "frames_analysed": int(self.frame_times.size),
            "motion_mean": round(self.mean_motion, 4),
            "motion_max": round(float(level.max()) if level.size else 0.0, 4),
            "brightness_mean": round(float(self.brightness.mean()) if self.brightness.size else 0.0, 4),
            "saturation_mean": round(float(self.saturation.mean()) if self.saturation.size else 0.0, 4),
            "mean_colour_rgb": [round(value, 4) for value in self.mean_colour],
            "mood": self.mood,
            "light": self.light,
            "tint": self.tint,
            "cuts": [round(time, 3) for time in self.cuts],
            "motion_peaks": [round(time, 3) for time in self.motion_peaks],
        }


def probe_video(path: Path, *, what: str = "video_url") -> MediaInfo:
    """Probe `path` and check it is a video with a duration; raise errors that name the fix."""
    if path.stat().st_size == 0:
        raise MediaDecodeError(f"{what} {path.name!r} is an empty file (0 bytes): pass a finished video such as an mp4")
    try:
        info = probe(path)
    except MediaDecodeError as error:
        raise MediaDecodeError(f"{what} {path.name!r} is not a readable video ({error}): pass an mp4, mov, webm or mkv file") from error

    if not info.has_video:
        kind = "audio only" if info.has_audio else "no video stream (or the file is truncated)"
        raise InvalidInputError(f"{what} {path.name!r} has {kind}: pass a video file (mp4, mov, webm or mkv)")
    if is_still_image(info) or (info.frame_count or 0) <= 1:
        raise InvalidInputError(
            f"{what} {path.name!r} is a still image ({info.format_name}), not a video: "
            "animate it first with the image2video server's image_to_video tool"
        )
    if not info.duration or info.duration <= 0:
        raise MediaDecodeError(f"{what} {path.name!r} reports no duration: re-export the video, for example as H.264 mp4")
    if info.duration > MAX_VIDEO_SECONDS:
        raise InvalidInputError(
            f"{what} {path.name!r} lasts {info.duration:.1f} s, longer than {MAX_VIDEO_SECONDS:g} s: cut it into shorter parts"
        )
    return info


def _plane(frame: Any, index: int, rows: int, columns: int) -> np.ndarray:
    plane = frame.planes[index]
    return np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[:rows, :columns]


def _yuv420_thumbnail(frame: Any, step: int) -> np.ndarray:
    """Build a small RGB thumbnail straight from the Y, U and V planes, without libswscale.

    Luma is sampled on the chroma grid (every second pixel times `step`), so the three
    planes line up; BT.601 limited-range coefficients convert to RGB.
    """
    chroma_rows, chroma_columns = (frame.height + 1) // 2, (frame.width + 1) // 2
    luma = _plane(frame, 0, frame.height, frame.width)[:: 2 * step, :: 2 * step]
    blue_difference = _plane(frame, 1, chroma_rows, chroma_columns)[::step, ::step]
    red_difference = _plane(frame, 2, chroma_rows, chroma_columns)[::step, ::step]
    rows = min(luma.shape[0], blue_difference.shape[0])
    columns = min(luma.shape[1], blue_difference.shape[1])
    y = (luma[:rows, :columns].astype(np.float32) - 16.0) * 1.164
    u = blue_difference[:rows, :columns].astype(np.float32) - 128.0
    v = red_difference[:rows, :columns].astype(np.float32) - 128.0
    rgb = np.stack([y + 1.596 * v, y - 0.392 * u - 0.813 * v, y + 2.017 * u], axis=2)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def _decode_thumbnails(path: Path, info: MediaInfo, progress: Progress) -> tuple[np.ndarray, np.ndarray]:
    """Decode every frame as a small RGB thumbnail about `ANALYSIS_WIDTH` / 2 pixels wide.

    yuv420p (what H.264 encoders write) is subsampled from its planes directly; other
    pixel formats go through libswscale. Either way decoding dominates the cost.
    """
    import av

    width = info.width or ANALYSIS_WIDTH
    step = max(1, width // ANALYSIS_WIDTH)
    thumbnail_width = max(2, ANALYSIS_WIDTH // 2)
    thumbnail_height = max(2, round(thumbnail_width * (info.height or width) / max(width, 1)))
    expected_frames = info.frame_count or round(info.duration * (info.fps or 25))
    times: list[float] = []
    frames: list[np.ndarray] = []
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                times.append(float(frame.time) if frame.time is not None else len(times) / (info.fps or 25))
                if frame.format.name == "yuv420p":
                    frames.append(_yuv420_thumbnail(frame, step))
                else:
                    frames.append(frame.to_ndarray(width=thumbnail_width, height=thumbnail_height, format="rgb24"))
                if len(frames) % 50 == 0:
                    progress(len(frames), expected_frames, "analysing video frames")
    except av.error.FFmpegError as error:
        if not frames:
            raise MediaDecodeError(f"video_url {path.name!r} cannot be decoded ({error}): the file is corrupted or truncated; re-export or re-download it") from error
        logger.warning("Decoding %s stopped after %d frames: %s", path.name, len(frames), error)

    if not frames:
        raise MediaDecodeError(f"video_url {path.name!r} contains no decodable frames: the file is corrupted or truncated; re-export or re-download it")
    return np.asarray(times, dtype=np.float64), np.stack(frames)


def _find_cuts(motion: np.ndarray, times: np.ndarray) -> list[float]:
    cuts = []
    for index in range(1, motion.size):
        before = motion[index - 1]
        after = motion[index + 1] if index + 1 < motion.size else before
        neighbours = max(before, after, 1e-3)
        if motion[index] > CUT_MIN_DIFFERENCE and motion[index] > CUT_NEIGHBOUR_RATIO * neighbours:
            cuts.append(float(times[index]))
    return cuts


def _find_motion_peaks(level: np.ndarray, times: np.ndarray, fps: float, cuts: list[float]) -> list[float]:
    """Return times where smoothed motion rises to a local maximum well above its surroundings."""
    from scipy.signal import find_peaks

    if level.size < 3:
        return []
    window = max(1, round(fps * 0.25))
    smoothed = np.convolve(level, np.ones(window) / window, mode="same")
    indices, _ = find_peaks(smoothed, height=0.35, prominence=0.2, distance=max(1, round(fps * 0.75)))
    peaks = [float(times[index]) for index in indices]
    return [time for time in peaks if all(abs(time - cut) > 0.3 for cut in cuts)]


def _video_duration(info: MediaInfo, decoded_frames: int, fps: float) -> float:
    """Return frames / fps for a constant-rate video, else the duration in the header.

    MP4 stream durations are rounded to the track's time base, for example 2.31201 s for
    37 frames at 16 fps in a 1/16384 time base, while a player shows exactly frames / fps.
    The header wins only when the two differ by more than a frame, as with a variable
    frame rate.
    """
    counted = decoded_frames / fps
    if abs(counted - info.duration) <= 1.0 / fps:
        return counted
    return info.duration


def analyse_video(path: Path, info: MediaInfo, progress: Progress) -> VideoAnalysis:
    """Decode `path` and measure motion, brightness, colour and cuts per frame."""
    times, frames = _decode_thumbnails(path, info, progress)
    decoded_span = float(times[-1] - times[0]) + 1.0 / (info.fps or 25)
    if decoded_span < MIN_DECODED_SHARE * info.duration:
        raise MediaDecodeError(
            f"video_url {Path(path).name!r} is truncated: its header says {info.duration:.2f} s but only "
            f"{decoded_span:.2f} s of frames decode; re-export or re-download the video"
        )

    rgb = frames.astype(np.float32) / 255.0
    luma = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    brightness = luma.mean(axis=(1, 2))
    saturation = (rgb.max(axis=3) - rgb.min(axis=3)).mean(axis=(1, 2))
    motion = np.zeros(len(frames), dtype=np.float32)
    if len(frames) > 1:
        motion[1:] = np.abs(np.diff(luma, axis=0)).mean(axis=(1, 2))
    mean_colour = tuple(float(value) for value in rgb.mean(axis=(0, 1, 2)))

    fps = info.fps or (len(frames) / info.duration)
    duration = _video_duration(info, len(frames), fps)
    cuts = _find_cuts(motion, times)
    level = np.clip(motion / FULL_MOTION, 0.0, 1.0)
    peaks = _find_motion_peaks(level, times, fps, cuts)
    return VideoAnalysis(
        duration=duration,
        fps=fps,
        width=info.width or 0,
        height=info.height or 0,
        frame_times=times - times[0],
        motion=motion,
        brightness=brightness,
        saturation=saturation,
        mean_colour=mean_colour,  # type: ignore[arg-type]
        cuts=cuts,
        motion_peaks=peaks,
    )
