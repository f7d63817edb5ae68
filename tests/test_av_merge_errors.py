"""Bad input over real MCP sessions: clear errors naming the file, no partial output, server keeps serving."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import imageio_ffmpeg
import pytest
from mcp import Client, StdioServerParameters

from servers.av_merge.__main__ import EXIT_ENGINE_UNAVAILABLE, main
from servers.av_merge.server import build_server
from servers.shared.errors import EngineUnavailableError
from servers.shared.media import ffmpeg_exe
from servers.shared.settings import Settings
from tests.av_merge_clips import (  # noqa: F401 (fixtures)
    Clips,
    call,
    clips,
    make_av_settings,
    partial_files,
    server,
)

pytestmark = pytest.mark.anyio


def bad_segment_cases(clips: Clips) -> list[tuple[str, str, str]]:
    """(case, segment reference, text the error must contain)."""
    return [
        ("missing", str(clips.folder / "missing.mp4"), "video_segments[1] '" + str(clips.folder / "missing.mp4") + "' not found"),
        ("not_video", str(clips.not_video), "video_segments[1] 'notes.mp4' cannot be read as media"),
        ("empty", str(clips.empty), "is an empty file (0 bytes)"),
        ("truncated_moov", str(clips.truncated_moov), "moov atom not found"),
        ("truncated_data", str(clips.truncated_data), "video_segments[1] 'truncated-data.mp4' is truncated: its boxes declare"),
        ("audio_only", str(clips.short_audio), "video_segments[1] 'short.wav' has no video stream"),
        ("outside_roots", "/etc/hostname", "is outside the allowed folders"),
    ]


CASE_NAMES = ["missing", "not_video", "empty", "truncated_moov", "truncated_data", "audio_only", "outside_roots"]


@pytest.mark.parametrize("case", CASE_NAMES)
async def test_merge_bad_segment_reported(server, clips: Clips, make_av_settings: Settings, case: str) -> None:
    _, reference, expected = next(item for item in bad_segment_cases(clips) if item[0] == case)

    async with Client(server) as client:
        failed = await client.call_tool("merge_videos", {"video_segments": [str(clips.light), reference]})
        recovered = await client.call_tool("merge_videos", {"video_segments": [str(clips.light)]})

    assert failed.is_error is True
    assert expected in failed.content[0].text
    assert recovered.is_error is False
    assert list(partial_files(make_av_settings.output_dir)) == []


async def test_merge_empty_list_rejected(server) -> None:
    result = await call(server, "merge_videos", {"video_segments": []})

    assert result.is_error is True
    assert "video_segments is empty" in result.content[0].text


async def test_merge_gif_with_audio_rejected(server, clips: Clips) -> None:
    result = await call(
        server, "merge_videos", {"video_segments": [str(clips.light)], "audio_url": str(clips.short_audio), "output_format": "gif"}
    )

    assert result.is_error is True
    assert "gif has no audio track" in result.content[0].text


async def test_merge_transition_too_long_rejected(server, clips: Clips) -> None:
    arguments = {
        "video_segments": [str(clips.light), str(clips.dark), str(clips.mid)],
        "transition_type": "fade",
        "transition_duration": 0.6,
    }
    result = await call(server, "merge_videos", arguments)

    assert result.is_error is True
    assert "transition_duration 0.6 s is too long for segment 1 ('dark.mp4', 1 s)" in result.content[0].text
    assert "below 0.5 s" in result.content[0].text


async def test_merge_unknown_format_rejected(server, clips: Clips) -> None:
    result = await call(server, "merge_videos", {"video_segments": [str(clips.light)], "output_format": "avi"})

    assert result.is_error is True
    assert "output_format" in result.content[0].text


async def test_merge_bad_audio_named(server, clips: Clips) -> None:
    result = await call(server, "merge_videos", {"video_segments": [str(clips.light)], "audio_url": str(clips.not_video)})

    assert result.is_error is True
    assert "audio_url 'notes.mp4' cannot be read as media" in result.content[0].text


async def test_probe_media_truncated_named(server, clips: Clips) -> None:
    result = await call(server, "probe_media", {"path": str(clips.truncated_moov)})

    assert result.is_error is True
    assert "'truncated-moov.mp4'" in result.content[0].text
    assert "moov atom not found" in result.content[0].text


async def test_probe_media_warns_truncated_data(server, clips: Clips) -> None:
    result = await call(server, "probe_media", {"path": str(clips.truncated_data)})
    probed = result.structured_content

    assert result.is_error is False
    assert len(probed["warnings"]) == 1
    assert probed["warnings"][0].startswith("the file is truncated: its boxes declare ")
    assert probed["warnings"][0].endswith("bytes more than it has, so its duration and frame counts come from its header and overstate what plays; re-create it")
    assert ". Warning: the file is truncated" in result.content[0].text


async def test_probe_media_complete_file_no_warning(server, clips: Clips) -> None:
    result = await call(server, "probe_media", {"path": str(clips.light)})

    assert result.structured_content["warnings"] == []


async def test_stdio_server_bad_input_then_serves(clips: Clips, make_av_settings: Settings) -> None:
    environment = {**make_av_settings.to_env(), "PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "")}
    parameters = StdioServerParameters(
        command=sys.executable, args=["-m", "servers.av_merge"], env=environment, cwd=str(Path(__file__).parents[1])
    )

    async with Client(parameters) as client:
        failed = await client.call_tool("merge_videos", {"video_segments": [str(clips.truncated_moov)]})
        merged = await client.call_tool("merge_videos", {"video_segments": [str(clips.light), str(clips.dark)]})

    assert failed.is_error is True
    assert "moov atom not found" in failed.content[0].text
    assert merged.is_error is False
    assert merged.structured_content["frame_count"] == 60
    assert list(partial_files(make_av_settings.output_dir)) == []


@pytest.fixture
def ffmpeg_missing(monkeypatch: pytest.MonkeyPatch):
    def lookup_fails() -> str:
        raise RuntimeError("No ffmpeg exe could be found")

    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", lookup_fails)
    ffmpeg_exe.cache_clear()
    yield
    ffmpeg_exe.cache_clear()


def test_build_server_without_ffmpeg_raises(ffmpeg_missing, make_av_settings: Settings) -> None:
    with pytest.raises(EngineUnavailableError, match="ffmpeg not found .*pip install --force-reinstall imageio-ffmpeg"):
        build_server(make_av_settings)


def test_main_without_ffmpeg_exits(ffmpeg_missing, make_av_settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    exit_code = main(["--output-dir", str(make_av_settings.output_dir), "call", "probe_media", "path=x.mp4"])
    captured = capsys.readouterr()

    assert exit_code == EXIT_ENGINE_UNAVAILABLE
    assert "reasoning-action-av-merge cannot start: ffmpeg not found" in captured.err
    assert captured.out == ""


async def test_merge_first_bad_segment_named(server, clips: Clips) -> None:
    segments = [str(clips.light), str(clips.not_video), str(clips.truncated_data), str(clips.dark)]
    result = await call(server, "merge_videos", {"video_segments": segments})

    assert result.is_error is True
    assert "video_segments[1] 'notes.mp4'" in result.content[0].text


async def test_merge_rejects_png_renamed_to_mp4(server, clips: Clips, tmp_path) -> None:
    from PIL import Image

    picture = clips.light.parent / "picture.mp4"
    Image.new("RGB", (64, 48), (200, 100, 50)).save(picture, format="PNG")
    result = await call(server, "merge_videos", {"video_segments": [str(clips.light), str(picture)]})

    assert result.is_error is True
    assert "video_segments[1] 'picture.mp4' is a still image" in result.content[0].text
    assert "image_to_video" in result.content[0].text
