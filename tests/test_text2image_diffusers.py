"""The diffusers text2image engine, on a tiny random-weight pipeline loaded with `from_pretrained`."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import anyio
import pytest
from mcp import Client
from PIL import Image

from servers.shared.errors import EngineUnavailableError, GenerationCancelledError
from servers.shared.worker import Progress
from servers.text2image.engines import ImageRequest
from servers.text2image.server import build_server

pytest.importorskip("diffusers")
pytestmark = [pytest.mark.diffusers]


@pytest.fixture(scope="session")
def tiny_sd_model(tmp_path_factory) -> Path:
    from tests.pipelines.stable_diffusion import build_tiny_stable_diffusion

    return build_tiny_stable_diffusion(tmp_path_factory.mktemp("tiny-sd"))


@pytest.fixture(scope="session")
def diffusers_server(tiny_sd_model, tmp_path_factory):
    from servers.shared.settings import Settings

    output_dir = tmp_path_factory.mktemp("diffusers-outputs")
    settings = Settings.from_env("text2image", environ={}, output_dir=output_dir, engine="diffusers", model=str(tiny_sd_model))
    return build_server(settings), output_dir


@pytest.fixture(scope="session")
def tiny_engine(diffusers_server, tiny_sd_model):
    from servers.shared.settings import Settings
    from servers.text2image.engines.diffusers_engine import DiffusersEngine

    _, output_dir = diffusers_server
    return DiffusersEngine(Settings.from_env("text2image", environ={}, output_dir=output_dir, model=str(tiny_sd_model)))


def _request(**changes) -> ImageRequest:
    values = dict(prompt="a lake", negative_prompt=None, width=64, height=64, guidance_scale=7.5, num_inference_steps=3, seed=1)
    values.update(changes)
    return ImageRequest(**values)


@pytest.mark.anyio
async def test_diffusers_server_generates_with_step_progress(diffusers_server, tiny_sd_model):
    server, _ = diffusers_server
    updates = []

    async def on_progress(done, total, message):
        updates.append((done, total, message))

    async with Client(server) as client:
        result = await client.call_tool(
            "text_to_image",
            {"prompt": "a quiet lake", "width": 96, "height": 64, "num_inference_steps": 3, "seed": 11},
            progress_callback=on_progress,
        )

    assert not result.is_error, result.content
    structured = result.structured_content
    assert structured["engine"] == "diffusers"
    assert structured["model"] == str(tiny_sd_model)
    assert structured["warnings"] == []
    with Image.open(structured["path"]) as image:
        assert image.size == (96, 64)
    step_messages = [message for _, _, message in updates if message and message.startswith("denoising")]
    assert step_messages == ["denoising step 1/3", "denoising step 2/3", "denoising step 3/3"]


@pytest.mark.anyio
async def test_diffusers_same_seed_same_image(diffusers_server):
    server, _ = diffusers_server
    arguments = {"prompt": "a lake", "width": 64, "height": 64, "num_inference_steps": 2, "seed": 5}
    async with Client(server) as client:
        first = await client.call_tool("text_to_image", arguments)
        second = await client.call_tool("text_to_image", arguments)

    with Image.open(first.structured_content["path"]) as a, Image.open(second.structured_content["path"]) as b:
        assert a.tobytes() == b.tobytes()


def test_diffusers_long_prompt_warns_truncation(tiny_engine):
    output = tiny_engine.generate(_request(prompt="the river " * 60), Progress.noop())

    assert any("reads only 77" in warning for warning in output.warnings)


def test_diffusers_chinese_prompt_warns_bilingual_model(tiny_engine):
    output = tiny_engine.generate(_request(prompt="宁静的森林中流淌的溪水"), Progress.noop())

    assert len(output.warnings) == 1
    assert "Chinese" in output.warnings[0]
    assert "Kolors" in output.warnings[0]


def test_diffusers_cancel_stops_between_steps(tiny_engine):
    cancel = threading.Event()
    steps = []

    def send(done, total, message):
        steps.append(done)
        if done == 2:
            cancel.set()

    with pytest.raises(GenerationCancelledError):
        tiny_engine.generate(_request(num_inference_steps=20), Progress(send, cancel))
    assert max(steps) == 2


def test_diffusers_engine_requires_model(make_settings):
    from servers.text2image.engines.diffusers_engine import DiffusersEngine

    with pytest.raises(EngineUnavailableError, match="needs a model: pass --model"):
        DiffusersEngine(make_settings("text2image", engine="diffusers"))


@pytest.mark.anyio
async def test_diffusers_broken_model_folder_reports_error(make_settings, tmp_path):
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}', encoding="utf-8")
    server = build_server(make_settings("text2image", engine="diffusers", model=str(broken)))

    async with Client(server) as client:
        result = await client.call_tool("text_to_image", {"prompt": "lake", "width": 64, "height": 64})
        tools = await client.list_tools()

    assert result.is_error
    assert f"cannot load text-to-image model {str(broken)!r}" in result.content[0].text
    assert [tool.name for tool in tools.tools] == ["text_to_image"]


@pytest.mark.anyio
async def test_cancelled_call_leaves_no_partial_file(diffusers_server):
    server, output_dir = diffusers_server
    images = output_dir / "images"
    before = set(images.glob("*")) if images.exists() else set()
    started = anyio.Event()

    async def on_progress(done, total, message):
        if message and message.startswith("denoising"):
            started.set()

    async with Client(server) as client:
        async with anyio.create_task_group() as group:

            async def long_call():
                await client.call_tool(
                    "text_to_image",
                    {"prompt": "lake", "width": 128, "height": 128, "num_inference_steps": 150, "seed": 1},
                    progress_callback=on_progress,
                )

            group.start_soon(long_call)
            with anyio.fail_after(60):
                await started.wait()
            group.cancel_scope.cancel()

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and list(images.glob(".partial-*")):
            await anyio.sleep(0.1)
        follow_up = await client.call_tool("text_to_image", {"prompt": "lake", "width": 64, "height": 64, "num_inference_steps": 1})

    assert not follow_up.is_error
    created = set(images.glob("*")) - before
    assert not [path for path in created if path.name.startswith(".partial-")]
    assert len([path for path in created if path.suffix == ".png"]) == 1

