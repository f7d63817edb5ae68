"""Run one ffmpeg job with progress reports and cancellation.

ffmpeg writes `key=value` progress blocks to stdout (`-progress pipe:1`) every
`-stats_period` seconds. Each `out_time_us` value becomes a progress report in seconds
of output written. The cancellation check runs at every block, so a cancelled request
kills ffmpeg within about a quarter of a second; the caller's artifact store then removes
the partial file.
"""

from __future__ import annotations

import logging
import subprocess
import tempfile
import time

from servers.shared.errors import EngineUnavailableError, MediaDecodeError
from servers.shared.media import ffmpeg_exe
from servers.shared.worker import Progress

__all__ = ["STATS_PERIOD_SECONDS", "check_ffmpeg", "run_ffmpeg_job"]

logger = logging.getLogger(__name__)

STATS_PERIOD_SECONDS = 0.25
_LOG_TAIL_LINES = 6
_VERSION_TIMEOUT_SECONDS = 15


def check_ffmpeg() -> str:
    """Return the first line of `ffmpeg -version`; raise `EngineUnavailableError` if ffmpeg cannot run."""
    executable = ffmpeg_exe()
    try:
        completed = subprocess.run(
            [executable, "-hide_banner", "-version"], capture_output=True, timeout=_VERSION_TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise EngineUnavailableError(
            f"ffmpeg at {executable} cannot run ({error}): reinstall with `pip install --force-reinstall imageio-ffmpeg`"
        ) from error
    if completed.returncode != 0:
        raise EngineUnavailableError(
            f"ffmpeg at {executable} exited with status {completed.returncode} on -version: "
            "reinstall with `pip install --force-reinstall imageio-ffmpeg`"
        )
    return completed.stdout.decode("utf-8", errors="replace").splitlines()[0]


def run_ffmpeg_job(
    arguments: list[str],
    *,
    what: str,
    total_seconds: float,
    progress: Progress,
    message: str,
) -> None:
    """Run ffmpeg with `arguments`, reporting seconds written out of `total_seconds`.

    Raises `MediaDecodeError` with the end of ffmpeg's log when it fails, and
    `GenerationCancelledError` (after killing ffmpeg) when the request is cancelled.
    """
    command = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-progress", "pipe:1", "-nostats", "-stats_period", str(STATS_PERIOD_SECONDS),
        *arguments,
    ]  # fmt: skip
    logger.debug("Running %s", " ".join(command))
    started = time.perf_counter()

    with tempfile.TemporaryFile() as error_log:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=error_log)
        try:
            _follow_progress(process, total_seconds, progress, message)
            return_code = process.wait()
        except BaseException:
            process.kill()
            process.wait()
            logger.info("Stopped ffmpeg (pid %d) while %s", process.pid, what)
            raise

        if return_code != 0:
            error_log.seek(0)
            lines = error_log.read().decode("utf-8", errors="replace").strip().splitlines()
            tail = " | ".join(lines[-_LOG_TAIL_LINES:]) or f"exit status {return_code}"
            raise MediaDecodeError(f"ffmpeg failed while {what}: {tail}")

    progress(total_seconds, total_seconds, message)
    logger.debug("ffmpeg finished %s in %.2f s", what, time.perf_counter() - started)


def _follow_progress(process: subprocess.Popen[bytes], total_seconds: float, progress: Progress, message: str) -> None:
    assert process.stdout is not None
    for raw_line in process.stdout:
        key, _, value = raw_line.decode("ascii", errors="replace").strip().partition("=")
        if key == "out_time_us" and value.lstrip("-").isdigit():
            written = min(max(int(value) / 1_000_000, 0.0), total_seconds)
            progress(written, total_seconds, message)
        else:
            progress.check_cancelled()
