"""The diffusers engine on a tiny random-weight Stable Audio pipeline, saved and loaded back."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile
from mcp import Client

from servers.shared.settings import Settings
from servers.video2audio.engines import create_engine
from servers.video2audio.engines.diffusers_engine import DiffusersEngine
from servers.video2audio.server import build_server
from tests.pipelines.stable_audio import TINY_SAMPLE_RATE, TINY_WINDOW_SECONDS, build_tiny_stable_audio
from tests.video2audio_clips import moving, write_clip, write_manifest

pytestmark = pytest.mark.diffusers

FOREST_PROMPT = "宁静的森林中流淌的溪水"
STEPS = 2


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_stable_audio(tmp_path_factory.mktemp("tiny-stable-audio"))


@pytest.fixture
def settings(make_settings: Callable[..., Settings], tiny_model: Path) -> Settings:
    return make_settings("video2audio", engine="diffusers", model=str(tiny_model), device="cpu")


@pytest.fixture(scope="session")
def engine(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> DiffusersEngine:
    settings = Settings.from_env("video2audio", environ={}, output_dir=tmp_path_factory.mktemp("unused"), model=str(tiny_model), device="cpu")
    return DiffusersEngine(settings, num_inference_steps=STEPS)


@pytest.mark.anyio
@pytest.mark.parametrize(("fps", "frames"), [(24, 24), (25, 125), (30, 219)])
async def test_diffusers_length_matches_video(settings: Settings, engine: DiffusersEngine, output_dir: Path, fps: int, frames: int) -> None:
    clip = write_clip(output_dir / f"clip-{fps}.mp4", moving(), fps=fps, frames=frames)
    async with Client(build_server(settings, engine=engine)) as client:
        result = await client.call_tool("video_to_audio", {"video_url": str(clip), "seed": 3, "include_sfx": False})
    assert not result.is_error, result.content[0].text
    samples, rate = soundfile.read(result.structured_content["path"], dtype="float32")
    assert samples.shape == (round(frames / fps * rate), 2)
    assert result.structured_content["engine"] == "diffusers"
    assert result.structured_content["model"] == str(settings.model)


@pytest.mark.anyio
async def test_diffusers_long_video_uses_crossfaded_windows(settings: Settings, engine: DiffusersEngine, output_dir: Path) -> None:
    clip = write_clip(output_dir / "long.mp4", moving(), fps=24, frames=120)
    updates: list[tuple[float, float | None]] = []
    messages: list[str] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        updates.append((done, total))
        messages.append(message or "")

    async with Client(build_server(settings, engine=engine)) as client:
        result = await client.call_tool("video_to_audio", {"video_url": str(clip), "seed": 4}, progress_callback=on_progress)
    assert not result.is_error, result.content[0].text
    manifest = json.loads(Path(result.structured_content["path"] + ".json").read_text(encoding="utf-8"))
    windows = manifest["windows"]
    assert len(windows) == 3
    assert all(length <= TINY_WINDOW_SECONDS for _, length in windows)
    assert windows[-1][0] + windows[-1][1] == pytest.approx(5.0, abs=1e-3)
    assert manifest["crossfade_seconds"] == pytest.approx(TINY_WINDOW_SECONDS / 4, abs=1e-3)
    assert manifest["model_sample_rate"] == TINY_SAMPLE_RATE
    values = [done for done, _ in updates]
    assert values == sorted(values)
    assert any(message.startswith("window ") for message in messages)
    assert updates[-1] == (100.0, 100.0)


@pytest.mark.anyio
async def test_diffusers_prompt_from_provenance(settings: Settings, engine: DiffusersEngine, output_dir: Path) -> None:
    image = output_dir / "forest.png"
    write_manifest(image, {"tool": "text_to_image", "prompt": FOREST_PROMPT, "parents": []})
    clip = write_clip(output_dir / "forest.mp4", moving(), fps=24, frames=48)
    write_manifest(clip, {"tool": "image_to_video", "parameters": {}, "parents": [str(image)]})
    async with Client(build_server(settings, engine=engine)) as client:
        result = await client.call_tool("video_to_audio", {"video_url": str(clip), "audio_style": "nature", "seed": 1})
    data = result.structured_content
    assert data["scene_source"] == "provenance"
    assert data["prompt"].startswith("nature field recording")
    assert "flowing stream water" in data["prompt"]
    assert "birdsong" in data["prompt"]
    assert "gentle, peaceful" in data["prompt"]
    assert any("include_sfx was ignored" in warning for warning in data["warnings"])


@pytest.mark.anyio
async def test_diffusers_output_is_mastered(settings: Settings, engine: DiffusersEngine, output_dir: Path) -> None:
    clip = write_clip(output_dir / "clip.mp4", moving(), fps=24, frames=72)
    async with Client(build_server(settings, engine=engine)) as client:
        full = await client.call_tool("video_to_audio", {"video_url": str(clip), "seed": 2, "volume": 1.0})
        half = await client.call_tool("video_to_audio", {"video_url": str(clip), "seed": 2, "volume": 0.5})
    loud, _ = soundfile.read(full.structured_content["path"], dtype="float32")
    quiet, _ = soundfile.read(half.structured_content["path"], dtype="float32")
    assert np.abs(loud).max() <= 0.9
    assert np.abs(loud[0]).max() < 1e-3
    assert np.sqrt(np.mean(quiet**2)) / np.sqrt(np.mean(loud**2)) == pytest.approx(0.5, rel=0.02)


def test_diffusers_engine_created_from_settings(settings: Settings) -> None:
    engine = create_engine(settings)
    assert isinstance(engine, DiffusersEngine)
    assert engine.model == str(settings.model)


@pytest.mark.anyio
async def test_diffusers_missing_model_folder_is_clear(make_settings: Callable[..., Settings], output_dir: Path) -> None:
    clip = write_clip(output_dir / "clip.mp4", moving(), fps=24, frames=24)
    settings = make_settings("video2audio", engine="diffusers", model=str(output_dir / "no-such-model"), device="cpu")
    engine = DiffusersEngine(settings, num_inference_steps=STEPS)
    async with Client(build_server(settings, engine=engine)) as client:
        result = await client.call_tool("video_to_audio", {"video_url": str(clip)})
    assert result.is_error
    assert "cannot load text-to-audio model" in result.content[0].text
