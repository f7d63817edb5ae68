"""Progress notifications and cancellation of long ffmpeg jobs."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from servers.av_merge import runner
from servers.av_merge.runner import run_ffmpeg_job
from servers.shared.artifacts import ArtifactStore
from servers.shared.errors import GenerationCancelledError
from servers.shared.media import run_ffmpeg
from servers.shared.settings import Settings
from servers.shared.worker import Progress
from tests.av_merge_clips import (  # noqa: F401 (fixtures)
    Clips,
    clips,
    make_av_settings,
    partial_files,
    server,
)

SLOW_JOB_SECONDS = 8.0


def slow_encode_arguments(output: Path) -> list[str]:
    """An encode that takes about a second of CPU time: 8 s of 320x240 test pattern at x264 `medium`."""
    return [
        "-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=30:duration={SLOW_JOB_SECONDS}",
        "-c:v", "libx264", "-preset", "medium", str(output),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def slow_segments(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("slow-segments")
    paths = (folder / "pattern-a.mp4", folder / "pattern-b.mp4")
    for path in paths:
        run_ffmpeg(
            ["-f", "lavfi", "-i", "testsrc2=size=640x480:rate=30:duration=6",
             "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)],
            what="making a test-pattern clip",
        )  # fmt: skip
    return paths


class RecordingPopen(subprocess.Popen):
    """Popen that remembers its instances, so a test can check how ffmpeg ended."""

    instances: list[subprocess.Popen] = []

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        RecordingPopen.instances.append(self)


def test_runner_reports_increasing_progress(tmp_path: Path) -> None:
    reports: list[tuple[float, float | None, str | None]] = []
    progress = Progress(lambda done, total, message: reports.append((done, total, message)))

    run_ffmpeg_job(slow_encode_arguments(tmp_path / "out.mp4"), what="encoding noise", total_seconds=SLOW_JOB_SECONDS,
                   progress=progress, message="encoding")  # fmt: skip
    done_values = [done for done, _, _ in reports]

    assert len(reports) >= 3
    assert done_values == sorted(done_values)
    assert reports[-1] == (SLOW_JOB_SECONDS, SLOW_JOB_SECONDS, "encoding")


def test_runner_cancel_kills_ffmpeg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner.subprocess, "Popen", RecordingPopen)
    RecordingPopen.instances.clear()
    cancel_event = threading.Event()
    progress = Progress(lambda done, total, message: cancel_event.set(), cancel_event)
    store = ArtifactStore(tmp_path, kind="merged", resource_prefix="artifact://av_merge/")

    with pytest.raises(GenerationCancelledError):
        with store.create("cancelled", ".mp4") as (temporary_path, _):
            run_ffmpeg_job(slow_encode_arguments(temporary_path), what="encoding noise",
                           total_seconds=SLOW_JOB_SECONDS, progress=progress, message="encoding")  # fmt: skip

    assert RecordingPopen.instances[0].returncode == -9
    assert list(store.folder.iterdir()) == []


def test_runner_failure_quotes_ffmpeg(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="ffmpeg failed while encoding nothing: .*No such file"):
        run_ffmpeg_job(["-i", str(tmp_path / "absent.mp4"), str(tmp_path / "out.mp4")], what="encoding nothing",
                       total_seconds=1.0, progress=Progress.noop(), message="encoding")  # fmt: skip


@pytest.mark.anyio
async def test_merge_sends_progress_notifications(server, slow_segments: tuple[Path, Path], make_av_settings: Settings) -> None:
    reports: list[tuple[float, float | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        reports.append((done, total))

    settings_roots = [*make_av_settings.input_roots]
    assert slow_segments[0].parent not in settings_roots
    folder_server = _server_reading(make_av_settings, slow_segments[0].parent)
    async with Client(folder_server) as client:
        result = await client.call_tool(
            "merge_videos",
            {"video_segments": [str(path) for path in slow_segments], "transition_type": "fade", "transition_duration": 1.0,
             "quality": "low"},
            progress_callback=on_progress,
        )  # fmt: skip

    assert result.is_error is False
    assert result.structured_content["duration_seconds"] == pytest.approx(11.0, abs=1 / 30)
    assert len(reports) >= 2
    assert reports[-1] == (pytest.approx(11.0), pytest.approx(11.0))


@pytest.mark.anyio
async def test_merge_cancelled_leaves_no_partial(slow_segments: tuple[Path, Path], make_av_settings: Settings) -> None:
    folder_server = _server_reading(make_av_settings, slow_segments[0].parent)
    # VP9 at quality high encodes 11 s of 640x480 far slower than the 1 s timeout, even on many cores.
    arguments = {"video_segments": [str(path) for path in slow_segments], "transition_type": "fade", "quality": "high",
                 "output_format": "webm"}  # fmt: skip

    async with Client(folder_server) as client:
        with pytest.raises(MCPError, match="[Tt]imed out"):
            await client.call_tool("merge_videos", arguments, read_timeout_seconds=1.0)
        saw_partial = any(partial_files(make_av_settings.output_dir))
        for _ in range(50):
            if not any(partial_files(make_av_settings.output_dir)):
                break
            await anyio.sleep(0.1)
        probe_after = await client.call_tool("probe_media", {"path": str(slow_segments[0])})

    assert saw_partial is True
    assert list(partial_files(make_av_settings.output_dir)) == []
    assert list((make_av_settings.output_dir / "merged").glob("*.webm")) == []
    assert probe_after.is_error is False


def _server_reading(settings: Settings, folder: Path):
    from servers.av_merge.server import build_server

    return build_server(settings.replace(input_roots=(*settings.input_roots, folder)))


def test_runner_feeder_failure_named(tmp_path: Path) -> None:
    encoder = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-video_size", "64x48", "-framerate", "30", "-i", "pipe:0",
               "-c:v", "libx264", str(tmp_path / "out.mp4")]  # fmt: skip
    feeders = [
        ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=30:duration=1", "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1"],
        ["-i", str(tmp_path / "absent.mp4"), "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1"],
    ]

    with pytest.raises(Exception, match=r"ffmpeg failed while joining \(part 2 of 2\): .*No such file"):
        run_ffmpeg_job(encoder, what="joining", total_seconds=2.0, progress=Progress.noop(), message="joining", feeders=feeders)
