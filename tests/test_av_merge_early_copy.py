"""The stream copy that merge_videos starts before its checks: kept only when it equals the plan."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import pytest

from servers.av_merge.inputs import inspect_videos
from servers.av_merge.merge import plan_merge, run_merge
from servers.shared.media import probe, run_ffmpeg
from servers.shared.worker import Progress
from tests.av_merge_clips import Clips, call, clips, make_av_settings, partial_files, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.anyio

DISCARDED = "discarded the stream copy started before the checks"


@pytest.fixture
def merge_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="servers.av_merge")
    return caplog


@pytest.fixture(scope="module")
def long_audio_pair(clips: Clips) -> tuple[Path, Path]:  # noqa: F811
    """Two 1 s clips with one x264 setup; the first also contains 1.5 s of audio, so its container lasts 1.5 s."""
    folder = clips.folder
    video = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"]
    with_audio, silent = folder / "with-long-audio.mp4", folder / "silent.mp4"
    run_ffmpeg(
        ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=30:duration=1", "-f", "lavfi", "-i", "sine=duration=1.5",
         *video, "-c:a", "aac", str(with_audio)],
        what="making a clip with longer audio",
    )  # fmt: skip
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc=size=64x48:rate=30:duration=1", *video, str(silent)], what="making a silent clip")
    return with_audio, silent


def planned_copy(segments: list[Path], output: Path) -> bytes:
    """Write the join the way the plan alone runs it, with pinned durations, and return its bytes."""
    infos = inspect_videos(segments, whats=[path.name for path in segments])
    plan = plan_merge(
        segments, infos, output_format="mp4", quality="medium", transition_type="none", transition_duration=0.5,
        allow_stream_copy=True,
    )  # fmt: skip
    run_merge(plan, output, Progress.noop())
    return output.read_bytes()


def early_folders() -> list[Path]:
    return list(Path(tempfile.gettempdir()).glob("av-merge-early-*"))


async def test_early_copy_kept_equals_planned_copy(server, clips: Clips, merge_log, tmp_path: Path) -> None:
    segments = [clips.light, clips.dark, clips.mid]

    result = await call(server, "merge_videos", {"video_segments": [str(path) for path in segments]})

    assert not result.is_error, result.content[0].text
    assert result.structured_content["method"] == "stream_copy"
    assert DISCARDED not in merge_log.text
    assert Path(result.structured_content["path"]).read_bytes() == planned_copy(segments, tmp_path / "planned.mp4")


async def test_early_copy_discarded_for_other_setup(server, clips: Clips, merge_log, make_av_settings) -> None:
    result = await call(server, "merge_videos", {"video_segments": [str(clips.light), str(clips.other_crf)], "quality": "low"})

    assert not result.is_error, result.content[0].text
    assert result.structured_content["method"] == "re_encode"
    assert result.structured_content["frame_count"] == 60
    assert DISCARDED in merge_log.text
    assert list(partial_files(make_av_settings.output_dir)) == []


async def test_early_copy_discarded_when_container_outlasts_video(server, long_audio_pair, merge_log) -> None:
    with_audio, silent = long_audio_pair
    assert probe(with_audio).container_duration == pytest.approx(1.5, abs=0.05)

    result = await call(server, "merge_videos", {"video_segments": [str(with_audio), str(silent)]})
    merged = result.structured_content

    assert not result.is_error, result.content[0].text
    assert merged["method"] == "stream_copy"
    # Had the copy used the container's 1.5 s, the second clip would start half a second late.
    assert merged["duration_seconds"] == pytest.approx(2.0, abs=1e-6)
    assert merged["frame_count"] == 60
    assert DISCARDED in merge_log.text


async def test_early_copy_stopped_when_checks_fail(server, clips: Clips, merge_log, make_av_settings) -> None:
    before = early_folders()

    result = await call(server, "merge_videos", {"video_segments": [str(clips.light), str(clips.truncated_data)]})

    assert result.is_error
    assert "video_segments[1] 'truncated-data.mp4' is truncated" in result.content[0].text
    assert DISCARDED in merge_log.text
    assert list(partial_files(make_av_settings.output_dir)) == []
    assert early_folders() == before
