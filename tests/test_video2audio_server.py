"""The video_to_audio tool over an in-memory MCP session, with the procedural engine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import pytest
import soundfile
from mcp import Client

from servers.shared.audio_io import decode_audio
from servers.shared.media import probe
from servers.shared.settings import Settings
from servers.video2audio.mastering import PEAK_CEILING
from servers.video2audio.server import build_server
from servers.video2audio.styles import STYLES
from tests.video2audio_clips import cut_at, moving, still_then_moving, write_clip, write_manifest

FOREST_PROMPT = "宁静的森林中流淌的溪水"


async def _call(settings: Settings, **arguments: Any) -> Any:
    async with Client(build_server(settings)) as client:
        return await client.call_tool("video_to_audio", arguments)


def _structured(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content[0].text
    return result.structured_content


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def _power_centroid(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.mean(axis=1))) ** 2
    frequencies = np.fft.rfftfreq(samples.shape[0], 1 / rate)
    return float((spectrum * frequencies).sum() / spectrum.sum())


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings("video2audio")


@pytest.fixture
def still_moving_clip(output_dir: Path) -> Path:
    return write_clip(output_dir / "still-moving.mp4", still_then_moving(2.0), fps=24, frames=96)


@pytest.mark.anyio
@pytest.mark.parametrize(("fps", "frames"), [(16, 16), (16, 37), (24, 96), (25, 101), (30, 45), (30, 2400), (24, 1920)])
async def test_video_to_audio_length_matches_video(settings: Settings, output_dir: Path, fps: int, frames: int) -> None:
    clip = write_clip(output_dir / f"clip-{fps}-{frames}.mp4", moving(), fps=fps, frames=frames)
    header_duration = probe(clip).duration
    data = _structured(await _call(settings, video_url=str(clip), include_sfx=False, seed=1))
    samples, rate = soundfile.read(data["path"], dtype="float32")
    assert samples.shape[0] == round(frames / fps * rate)
    assert data["duration"] == pytest.approx(frames / fps, abs=1 / rate)
    assert data["video_duration"] == pytest.approx(frames / fps, abs=1e-6)
    assert abs(samples.shape[0] / rate - header_duration) < 1 / fps
    assert samples.shape[1] == 2


@pytest.mark.anyio
@pytest.mark.parametrize("output_format", ["mp3", "m4a", "flac"])
@pytest.mark.parametrize("sample_rate", [44100, 48000])
async def test_video_to_audio_compressed_length_matches_video(
    settings: Settings, output_dir: Path, output_format: str, sample_rate: int
) -> None:
    clip = write_clip(output_dir / "clip.mp4", moving(), fps=25, frames=77)
    data = _structured(
        await _call(settings, video_url=str(clip), output_format=output_format, sample_rate=sample_rate, seed=3)
    )
    samples, rate = decode_audio(Path(data["path"]))
    info = probe(data["path"])
    assert Path(data["path"]).suffix == f".{output_format}"
    assert rate == sample_rate
    assert info.channels == 2
    assert abs(samples.shape[0] / rate - 77 / 25) <= 1 / rate
    assert abs(info.audio_duration - 77 / 25) <= 1 / rate


@pytest.mark.anyio
@pytest.mark.parametrize("style", list(STYLES))
async def test_video_to_audio_louder_when_video_moves(settings: Settings, still_moving_clip: Path, style: str) -> None:
    data = _structured(await _call(settings, video_url=str(still_moving_clip), audio_style=style, include_sfx=False, seed=5))
    samples, rate = soundfile.read(data["path"], dtype="float32")
    still = samples[int(0.2 * rate) : int(1.8 * rate)]
    busy = samples[int(2.4 * rate) : int(3.6 * rate)]
    assert 20 * np.log10(_rms(busy) / _rms(still)) > 3.0


@pytest.mark.anyio
async def test_video_to_audio_styles_differ(settings: Settings, output_dir: Path) -> None:
    clip = write_clip(output_dir / "clip.mp4", moving(), fps=24, frames=144)
    centroids = {}
    for style in STYLES:
        data = _structured(await _call(settings, video_url=str(clip), audio_style=style, include_sfx=False, seed=7))
        samples, rate = soundfile.read(data["path"], dtype="float32")
        centroids[style] = _power_centroid(samples, rate)
    ordered = sorted(centroids.values())
    ratios = [higher / lower for lower, higher in zip(ordered, ordered[1:])]
    assert min(ratios) > 1.15, centroids
    assert min(centroids, key=centroids.get) == "calm"


@pytest.mark.anyio
@pytest.mark.parametrize("style", list(STYLES))
async def test_video_to_audio_no_clipping_or_clicks(settings: Settings, still_moving_clip: Path, style: str) -> None:
    data = _structured(await _call(settings, video_url=str(still_moving_clip), audio_style=style, volume=1.0, seed=9))
    samples, rate = soundfile.read(data["path"], dtype="float32")
    assert np.abs(samples).max() <= PEAK_CEILING + 1 / 32768
    assert np.abs(samples[:2]).max() <= 2 / 32768
    assert np.abs(samples[-2:]).max() <= 2 / 32768
    assert np.abs(np.diff(samples[: int(0.01 * rate)], axis=0)).max() < 0.05


@pytest.mark.anyio
async def test_video_to_audio_volume_scales_loudness(settings: Settings, still_moving_clip: Path) -> None:
    levels = {}
    for volume in (1.0, 0.5, 0.25):
        data = _structured(await _call(settings, video_url=str(still_moving_clip), volume=volume, seed=11))
        samples, _ = soundfile.read(data["path"], dtype="float32")
        levels[volume] = _rms(samples)
        assert data["volume"] == volume
    assert levels[0.5] / levels[1.0] == pytest.approx(0.5, rel=0.02)
    assert levels[0.25] / levels[1.0] == pytest.approx(0.25, rel=0.02)


@pytest.mark.anyio
async def test_video_to_audio_volume_zero_is_silent(settings: Settings, still_moving_clip: Path) -> None:
    data = _structured(await _call(settings, video_url=str(still_moving_clip), volume=0.0, seed=11))
    samples, _ = soundfile.read(data["path"], dtype="float32")
    assert np.abs(samples).max() == 0.0
    assert any("silent" in warning for warning in data["warnings"])


@pytest.mark.anyio
async def test_video_to_audio_uses_provenance_prompt(settings: Settings, output_dir: Path) -> None:
    image = output_dir / "images" / "forest.png"
    image.parent.mkdir()
    write_manifest(image, {"tool": "text_to_image", "prompt": FOREST_PROMPT, "parameters": {"prompt": FOREST_PROMPT}, "parents": []})
    clip = write_clip(output_dir / "forest.mp4", moving(), fps=24, frames=48)
    write_manifest(clip, {"tool": "image_to_video", "parameters": {"image_url": str(image)}, "parents": [str(image)]})
    data = _structured(await _call(settings, video_url=str(clip), audio_style="nature", seed=2))
    assert data["scene"] == FOREST_PROMPT
    assert data["scene_source"] == "provenance"
    assert {"water", "birds", "wind"} <= set(data["sound_elements"])
    assert "flowing stream water" in data["prompt"]
    assert data["warnings"] == []


@pytest.mark.anyio
async def test_video_to_audio_description_sets_elements(settings: Settings, output_dir: Path) -> None:
    clip = write_clip(output_dir / "clip.mp4", moving(), fps=24, frames=48)
    data = _structured(await _call(settings, video_url=str(clip), description="海边的夜晚", seed=2))
    assert data["scene_source"] == "description"
    assert set(data["sound_elements"]) == {"waves", "crickets"}


@pytest.mark.anyio
async def test_video_to_audio_warns_without_scene(settings: Settings, output_dir: Path) -> None:
    clip = write_clip(output_dir / "clip.mp4", moving(), fps=24, frames=48)
    data = _structured(await _call(settings, video_url=str(clip), seed=2))
    assert data["scene_source"] == "none"
    assert any("pass description" in warning for warning in data["warnings"])


@pytest.mark.anyio
async def test_video_to_audio_same_seed_same_audio(settings: Settings, still_moving_clip: Path) -> None:
    first = _structured(await _call(settings, video_url=str(still_moving_clip), seed=21))
    second = _structured(await _call(settings, video_url=str(still_moving_clip), seed=21))
    other = _structured(await _call(settings, video_url=str(still_moving_clip), seed=22))
    first_samples, _ = soundfile.read(first["path"], dtype="int16")
    second_samples, _ = soundfile.read(second["path"], dtype="int16")
    other_samples, _ = soundfile.read(other["path"], dtype="int16")
    assert np.array_equal(first_samples, second_samples)
    assert not np.array_equal(first_samples, other_samples)


@pytest.mark.anyio
async def test_video_to_audio_sfx_mark_cut(settings: Settings, output_dir: Path) -> None:
    clip = write_clip(output_dir / "cut.mp4", cut_at(2.0), fps=24, frames=96)
    with_sfx = _structured(await _call(settings, video_url=str(clip), audio_style="calm", include_sfx=True, seed=4))
    without = _structured(await _call(settings, video_url=str(clip), audio_style="calm", include_sfx=False, seed=4))
    loud, rate = soundfile.read(with_sfx["path"], dtype="float32")
    quiet, _ = soundfile.read(without["path"], dtype="float32")
    after_cut = slice(int(2.0 * rate), int(2.3 * rate))
    before_cut = slice(int(0.5 * rate), int(1.5 * rate))
    assert with_sfx["analysis"]["cuts"] == pytest.approx([2.0], abs=1 / 24)
    assert _rms(loud[after_cut]) / _rms(loud[before_cut]) > 1.5 * _rms(quiet[after_cut]) / _rms(quiet[before_cut])


@pytest.mark.anyio
async def test_video_to_audio_writes_manifest_and_resource(settings: Settings, still_moving_clip: Path) -> None:
    async with Client(build_server(settings)) as client:
        result = await client.call_tool("video_to_audio", {"video_url": still_moving_clip.as_uri(), "seed": 8})
        data = _structured(result)
        resource = await client.read_resource(data["resource_uri"])
    manifest_path = Path(data["path"] + ".json")
    import json

    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert manifest["parents"] == [str(still_moving_clip)]
    assert manifest["prompt"] == data["prompt"]
    assert manifest["analysis"]["duration"] == pytest.approx(4.0)
    assert resource.contents[0].blob
    assert result.content[-1].uri == data["resource_uri"]


@pytest.mark.anyio
async def test_video_to_audio_reports_progress(settings: Settings, still_moving_clip: Path) -> None:
    updates: list[tuple[float, float | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        updates.append((done, total))

    async with Client(build_server(settings)) as client:
        result = await client.call_tool("video_to_audio", {"video_url": str(still_moving_clip)}, progress_callback=on_progress)
    _structured(result)
    values = [done for done, _ in updates]
    assert len(updates) >= 3
    assert values == sorted(values)
    assert updates[-1] == (100.0, 100.0)


@pytest.mark.anyio
async def test_video_to_audio_cancel_leaves_nothing(settings: Settings, output_dir: Path) -> None:
    from mcp import MCPError

    clip = write_clip(output_dir / "long.mp4", moving(), fps=30, frames=1800)
    async with Client(build_server(settings)) as client:
        with pytest.raises(MCPError):
            await client.call_tool("video_to_audio", {"video_url": str(clip), "seed": 1}, read_timeout_seconds=0.3)
        await anyio.sleep(3.0)
        retry = await client.call_tool("video_to_audio", {"video_url": str(clip), "seed": 1, "audio_style": "calm"})
    assert not retry.is_error
    written = sorted(path.name for path in (output_dir / "audio").iterdir())
    assert written == [Path(retry.structured_content["path"]).name, Path(retry.structured_content["path"]).name + ".json"]
