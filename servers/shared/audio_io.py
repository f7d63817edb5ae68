"""Writing and reading audio files: wav and flac with soundfile, mp3 and m4a through ffmpeg.

Samples are float32 arrays of shape (frames, channels) in -1..1. The compressed formats
keep the exact length: LAME writes its encoder delay and padding into the Xing/LAME
header, and the mp4 muxer writes an edit list that hides the ~1024 samples of AAC
priming, so ffmpeg decodes exactly the frames that were written. `write_audio` checks
this on the finished file with `probe`.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import numpy as np

from servers.shared.errors import InvalidInputError, MediaDecodeError
from servers.shared.media import ffmpeg_exe, probe

__all__ = ["AUDIO_FORMATS", "AUDIO_MIME_TYPES", "decode_audio", "write_audio"]

logger = logging.getLogger(__name__)

AUDIO_FORMATS = ("wav", "mp3", "m4a", "flac")
AUDIO_MIME_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".flac": "audio/flac"}

_FFMPEG_CODECS = {
    "mp3": ["-c:a", "libmp3lame", "-b:a", "192k"],
    "m4a": ["-c:a", "aac", "-b:a", "192k", "-movflags", "+faststart"],
}
_SOUNDFILE_SUBTYPES = {"wav": "PCM_16", "flac": "PCM_16"}


def _check_samples(samples: np.ndarray) -> np.ndarray:
    if samples.ndim != 2 or samples.shape[1] not in (1, 2):
        raise ValueError(f"expected samples of shape (frames, 1 or 2), got {samples.shape}")
    if not np.all(np.isfinite(samples)):
        raise ValueError("samples contain NaN or infinite values")
    return np.ascontiguousarray(np.clip(samples, -1.0, 1.0), dtype=np.float32)


def write_audio(path: Path, samples: np.ndarray, sample_rate: int, audio_format: str) -> float:
    """Write `samples` to `path` in `audio_format` and return the file's duration in seconds.

    The duration is read back from the written file, so a container that stores a
    different length than was written shows up as a logged warning and in the return value.
    """
    if audio_format not in AUDIO_FORMATS:
        raise InvalidInputError(f"output_format {audio_format!r} is not supported: use one of {', '.join(AUDIO_FORMATS)}")
    samples = _check_samples(samples)
    frames, channels = samples.shape

    if audio_format in _SOUNDFILE_SUBTYPES:
        import soundfile

        soundfile.write(str(path), samples, sample_rate, subtype=_SOUNDFILE_SUBTYPES[audio_format], format=audio_format.upper())
    else:
        _encode_with_ffmpeg(path, samples, sample_rate, audio_format)

    written = probe(path).audio_duration
    expected = frames / sample_rate
    if written is None or abs(written - expected) > 1.0 / sample_rate:
        logger.warning("%s stores %s s of audio, %s s were written", path.name, written, expected)
    return written if written is not None else expected


def _encode_with_ffmpeg(path: Path, samples: np.ndarray, sample_rate: int, audio_format: str) -> None:
    channels = samples.shape[1]
    command = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "f32le", "-ar", str(sample_rate), "-ac", str(channels), "-i", "pipe:0",
        *_FFMPEG_CODECS[audio_format], str(path),
    ]  # fmt: skip
    completed = subprocess.run(command, input=samples.tobytes(), capture_output=True, check=False)
    if completed.returncode != 0:
        tail = completed.stderr.decode("utf-8", errors="replace").strip().splitlines()[-5:]
        raise MediaDecodeError(f"ffmpeg failed while encoding {path.name} as {audio_format}: {' | '.join(tail) or 'no message'}")


def decode_audio(path: Path, *, sample_rate: int | None = None) -> tuple[np.ndarray, int]:
    """Decode any audio file with ffmpeg to float32 (frames, channels) and return it with its rate.

    ffmpeg applies edit lists and encoder delay, so the result has the length a player
    or muxer sees, unlike a raw packet decode.
    """
    info = probe(path)
    if not info.has_audio or not info.sample_rate or not info.channels:
        raise MediaDecodeError(f"{Path(path).name} has no audio stream")
    rate = sample_rate or info.sample_rate
    command = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
        "-i", str(path), "-vn", "-f", "f32le", "-ar", str(rate), "-ac", str(info.channels), "pipe:1",
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, check=False)
    if completed.returncode != 0:
        tail = completed.stderr.decode("utf-8", errors="replace").strip().splitlines()[-5:]
        raise MediaDecodeError(f"ffmpeg failed while decoding {Path(path).name}: {' | '.join(tail) or 'no message'}")
    samples = np.frombuffer(completed.stdout, dtype=np.float32).reshape(-1, info.channels)
    return samples, rate
