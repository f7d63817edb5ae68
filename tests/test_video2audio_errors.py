"""Bad input to video_to_audio over real MCP sessions: clear errors, no partial files, still serving."""

from __future__ import annotations

import os
import struct
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
from mcp import Client, StdioServerParameters

from servers.shared.settings import Settings
from servers.video2audio.server import build_server
from tests.video2audio_clips import moving, write_clip

STYLE_LIST = "cinematic, nature, ambient, electronic, calm"


def _png_bytes(width: int = 8, height: int = 8) -> bytes:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80" * (width * 3) for _ in range(height))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings("video2audio")


@pytest.fixture
def clip(output_dir: Path) -> Path:
    return write_clip(output_dir / "clip.mp4", moving(), fps=24, frames=48)


def _bad_file(output_dir: Path, clip: Path, case: str) -> Path:
    """Write one kind of unusable input and return its path."""
    if case == "wav":
        path = output_dir / "tone.wav"
        soundfile.write(str(path), np.zeros((4410, 2), np.float32), 44100)
    elif case == "png":
        path = output_dir / "still.png"
        path.write_bytes(_png_bytes())
    elif case == "empty":
        path = output_dir / "empty.mp4"
        path.write_bytes(b"")
    elif case == "garbage":
        path = output_dir / "garbage.mp4"
        path.write_bytes(b"not a video at all " * 64)
    elif case == "truncated":
        path = output_dir / "truncated.mp4"
        data = clip.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif case == "cut-short":
        path = output_dir / "cut-short.mp4"
        long_clip = write_clip(output_dir / "long.mp4", moving(), fps=24, frames=240)
        data = long_clip.read_bytes()
        path.write_bytes(data[: len(data) * 6 // 10])
    else:
        raise ValueError(case)
    return path


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("wav", "has audio only: pass a video file"),
        ("png", "is a still image"),
        ("empty", "is an empty file (0 bytes)"),
        ("garbage", "is not a readable video"),
        ("truncated", "truncated; re-export or re-download it"),
        ("cut-short", "is truncated: its header says 10.00 s but only"),
    ],
)
async def test_video_to_audio_rejects_bad_file(settings: Settings, output_dir: Path, clip: Path, case: str, expected: str) -> None:
    path = _bad_file(output_dir, clip, case)
    async with Client(build_server(settings)) as client:
        result = await client.call_tool("video_to_audio", {"video_url": str(path)})
        retry = await client.call_tool("video_to_audio", {"video_url": str(clip), "seed": 1})
    assert result.is_error
    assert expected in result.content[0].text
    assert path.name in result.content[0].text
    assert not retry.is_error
    assert sorted(item.suffix for item in (output_dir / "audio").iterdir()) == [".json", ".wav"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"volume": 1.5}, "volume 1.5 is outside 0..1"),
        ({"volume": -0.1}, "volume -0.1 is outside 0..1"),
        ({"audio_style": "jazz"}, f"audio_style 'jazz' is unknown: use one of {STYLE_LIST}"),
        ({"output_format": "ogg"}, "output_format 'ogg' is not supported: use one of wav, mp3, m4a, flac"),
        ({"sample_rate": 22050}, "sample_rate 22050 is not supported: use 44100 or 48000"),
        ({"seed": -1}, "seed -1 is outside 0..4294967295"),
    ],
)
async def test_video_to_audio_rejects_bad_parameter(settings: Settings, clip: Path, arguments: dict[str, Any], expected: str) -> None:
    async with Client(build_server(settings)) as client:
        result = await client.call_tool("video_to_audio", {"video_url": str(clip), **arguments})
    assert result.is_error
    assert expected in result.content[0].text
    assert not (settings.output_dir / "audio").exists()


@pytest.mark.anyio
async def test_video_to_audio_rejects_path_outside_roots(settings: Settings, tmp_path: Path) -> None:
    outside = write_clip(tmp_path / "elsewhere.mp4", moving(), fps=24, frames=24)
    async with Client(build_server(settings)) as client:
        result = await client.call_tool("video_to_audio", {"video_url": str(outside)})
    assert result.is_error
    assert "is outside the allowed folders" in result.content[0].text
    assert "--input-root" in result.content[0].text


@pytest.mark.anyio
async def test_video_to_audio_rejects_missing_file(settings: Settings, output_dir: Path) -> None:
    async with Client(build_server(settings)) as client:
        result = await client.call_tool("video_to_audio", {"video_url": str(output_dir / "missing.mp4")})
    assert result.is_error
    assert "not found" in result.content[0].text


@pytest.mark.anyio
async def test_video_to_audio_schema_lists_styles_and_formats(settings: Settings) -> None:
    async with Client(build_server(settings)) as client:
        tools = await client.list_tools()
    schema = next(tool for tool in tools.tools if tool.name == "video_to_audio").input_schema
    assert schema["properties"]["audio_style"]["enum"] == STYLE_LIST.split(", ")
    assert schema["properties"]["output_format"]["enum"] == ["wav", "mp3", "m4a", "flac"]
    assert "calm: soft, low, slow" in schema["properties"]["audio_style"]["description"]
    assert schema["required"] == ["video_url"]


@pytest.mark.anyio
async def test_video_to_audio_over_stdio(settings: Settings, clip: Path, output_dir: Path) -> None:
    environment = {**settings.to_env(), "PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", ""), "HF_HUB_OFFLINE": "1"}
    parameters = StdioServerParameters(command=sys.executable, args=["-m", "servers.video2audio"], env=environment, cwd=str(Path.cwd()))
    async with Client(parameters) as client:
        bad = await client.call_tool("video_to_audio", {"video_url": str(clip), "audio_style": "jazz"})
        good = await client.call_tool(
            "video_to_audio",
            {"video_url": str(clip), "description": "宁静的森林中流淌的溪水", "output_format": "m4a", "seed": 5},
        )
    assert bad.is_error
    assert STYLE_LIST in bad.content[0].text
    assert not good.is_error
    assert good.structured_content["duration"] == pytest.approx(2.0, abs=1 / 44100)
    assert Path(good.structured_content["path"]).parent == output_dir / "audio"
    assert "water" in good.structured_content["sound_elements"]
