"""Run one ffmpeg job with progress reports and cancellation.

ffmpeg writes `key=value` progress blocks to stdout (`-progress pipe:1`) every
`-stats_period` seconds. Each `out_time_us` value becomes a progress report in seconds
of output written. The cancellation check runs at every block, so a cancelled request
kills ffmpeg within about a quarter of a second. The caller's artifact store then removes
the partial file.
"""

from __future__ import annotations

import logging
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from typing import IO

from servers.shared.errors import EngineUnavailableError, MediaDecodeError
from servers.shared.media import ffmpeg_exe
from servers.shared.worker import Progress

__all__ = ["STATS_PERIOD_SECONDS", "FfmpegJob", "check_ffmpeg", "run_ffmpeg_job"]

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
    feeders: Sequence[list[str]] = (),
) -> None:
    """Run ffmpeg with `arguments`, reporting seconds written out of `total_seconds`.

    With `feeders`, ffmpeg's stdin is a pipe, and each feeder (the arguments of another
    ffmpeg that writes to stdout) runs in turn with its stdout on that pipe. Raises
    `MediaDecodeError` with the end of the failing ffmpeg's log, and
    `GenerationCancelledError` (after killing every ffmpeg) when the request is cancelled.
    """
    FfmpegJob(arguments, what=what, feeders=feeders).wait(total_seconds=total_seconds, progress=progress, message=message)


class FfmpegJob:
    """One ffmpeg process, started at construction and followed by `wait`, or killed by `stop`.

    Until `wait` runs, ffmpeg's progress pipe is not read. ffmpeg writes about 200 bytes per
    stats period, so by estimate it runs about a minute before a 64 KiB pipe fills and pauses it.
    """

    def __init__(self, arguments: list[str], *, what: str, feeders: Sequence[list[str]] = ()) -> None:
        self.what = what
        self._started = time.perf_counter()
        self._error_log = tempfile.TemporaryFile()
        stdin = subprocess.PIPE if feeders else subprocess.DEVNULL
        self._process = subprocess.Popen(
            _command(arguments, progress=True), stdin=stdin, stdout=subprocess.PIPE, stderr=self._error_log
        )
        self._feeding = _Feeding(feeders, self._process, what) if feeders else None

    def wait(self, *, total_seconds: float, progress: Progress, message: str) -> None:
        """Follow ffmpeg to its end, reporting seconds written; raise if it fails or the request is cancelled."""
        try:
            _follow_progress(self._process, total_seconds, progress, message)
            return_code = self._process.wait()
        except BaseException:
            self.stop()
            raise
        if self._feeding is not None:
            self._feeding.join()

        try:
            if return_code != 0:
                raise MediaDecodeError(f"ffmpeg failed while {self.what}: {_log_tail(self._error_log, return_code)}")
            if self._feeding is not None and self._feeding.error is not None:
                raise self._feeding.error
        finally:
            self._close()
        progress(total_seconds, total_seconds, message)
        logger.debug("ffmpeg finished %s in %.2f s", self.what, time.perf_counter() - self._started)

    def stop(self) -> None:
        """Kill ffmpeg and its feeders, and wait for them to exit."""
        if self._feeding is not None:
            self._feeding.stop()
        if self._process.poll() is None:
            self._process.kill()
            logger.info("Stopped ffmpeg (pid %d) while %s", self._process.pid, self.what)
        self._process.wait()
        if self._feeding is not None:
            self._feeding.join()
        self._close()

    def _close(self) -> None:
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._error_log.close()


def _command(arguments: Sequence[str], *, progress: bool) -> list[str]:
    command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    if progress:
        command += ["-progress", "pipe:1", "-nostats", "-stats_period", str(STATS_PERIOD_SECONDS)]
    command += arguments
    logger.debug("Running %s", " ".join(command))
    return command


def _log_tail(error_log: IO[bytes], return_code: int) -> str:
    error_log.seek(0)
    lines = error_log.read().decode("utf-8", errors="replace").strip().splitlines()
    return " | ".join(lines[-_LOG_TAIL_LINES:]) or f"exit status {return_code}"


def _follow_progress(process: subprocess.Popen[bytes], total_seconds: float, progress: Progress, message: str) -> None:
    assert process.stdout is not None
    for raw_line in process.stdout:
        key, _, value = raw_line.decode("ascii", errors="replace").strip().partition("=")
        if key == "out_time_us" and value.lstrip("-").isdigit():
            written = min(max(int(value) / 1_000_000, 0.0), total_seconds)
            progress(written, total_seconds, message)
        else:
            progress.check_cancelled()


class _Feeding:
    """Runs feeder ffmpeg processes one after another in a thread, each writing into `consumer`'s stdin."""

    def __init__(self, feeders: Sequence[list[str]], consumer: subprocess.Popen[bytes], what: str) -> None:
        assert consumer.stdin is not None
        self._feeders = feeders
        self._pipe = consumer.stdin
        self._what = what
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._current: subprocess.Popen[bytes] | None = None
        self.error: MediaDecodeError | None = None
        self._thread = threading.Thread(target=self._run, name="ffmpeg-feeder", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for index, arguments in enumerate(self._feeders):
                if not self._run_one(index, arguments):
                    return
        finally:
            self._pipe.close()

    def _run_one(self, index: int, arguments: list[str]) -> bool:
        with tempfile.TemporaryFile() as error_log:
            with self._lock:
                if self._stopped.is_set():
                    return False
                self._current = subprocess.Popen(
                    _command(arguments, progress=False), stdin=subprocess.DEVNULL, stdout=self._pipe, stderr=error_log
                )
            return_code = self._current.wait()
            if return_code != 0 and not self._stopped.is_set():
                self.error = MediaDecodeError(
                    f"ffmpeg failed while {self._what} (part {index + 1} of {len(self._feeders)}): "
                    f"{_log_tail(error_log, return_code)}"
                )
                return False
        return not self._stopped.is_set()

    def stop(self) -> None:
        """Kill the running feeder and start no more."""
        with self._lock:
            self._stopped.set()
            if self._current is not None and self._current.poll() is None:
                self._current.kill()

    def join(self) -> None:
        self._thread.join()
