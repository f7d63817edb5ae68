"""The diffusers engine on tiny random-weight SVD and LTX pipelines, loaded with from_pretrained."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import av
import numpy as np
import pytest
from mcp import Client
from PIL import Image

from servers.image2video.engines.diffusers_engine import anchor_weights, clip_frame
from servers.image2video.engines.families import FAMILIES, motion_phrase
from servers.image2video.server import build_server
from servers.shared.frames import psnr
from servers.shared.media import probe
from tests.pipelines.svd import TINY_SVD_FRAMES
from tests.test_image2video_server import textured_image

pytestmark = [pytest.mark.diffusers, pytest.mark.anyio]

WIDTH, HEIGHT = 64, 48


@pytest.fixture(scope="session")
def tiny_svd(tmp_path_factory) -> Path:
    from tests.pipelines.svd import build_tiny_svd

    return build_tiny_svd(tmp_path_factory.mktemp("tiny-svd"))


@pytest.fixture(scope="session")
def tiny_ltx(tmp_path_factory) -> Path:
    from tests.pipelines.ltx import build_tiny_ltx

    return build_tiny_ltx(tmp_path_factory.mktemp("tiny-ltx"))


@pytest.fixture(scope="session")
def svd_server(tiny_svd, tmp_path_factory):
    from servers.shared.settings import Settings

    output_dir = tmp_path_factory.mktemp("svd-outputs")
    settings = Settings.from_env("image2video", environ={}, output_dir=output_dir, engine="diffusers", model=str(tiny_svd))
    return build_server(settings), output_dir


@pytest.fixture(scope="session")
def ltx_server(tiny_ltx, tmp_path_factory):
    from servers.shared.settings import Settings

    output_dir = tmp_path_factory.mktemp("ltx-outputs")
    settings = Settings.from_env("image2video", environ={}, output_dir=output_dir, engine="diffusers", model=str(tiny_ltx))
    return build_server(settings), output_dir


def write_image(output_dir: Path, name: str = "start.png") -> Path:
    path = output_dir / name
    Image.fromarray(textured_image(WIDTH, HEIGHT)).save(path)
    return path


def decode_frames(path: str) -> list[np.ndarray]:
    with av.open(path) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


async def call(server, progress_callback=None, **arguments):
    async with Client(server) as client:
        return await client.call_tool("image_to_video", arguments, progress_callback=progress_callback)


def test_clip_frame_spans_segment():
    clip = np.arange(5, dtype=np.float32).reshape(5, 1, 1, 1) * np.ones((5, 2, 2, 3), np.float32)

    assert clip_frame(clip, 0, 8)[0, 0, 0] == 0.0
    assert clip_frame(clip, 1, 8)[0, 0, 0] == pytest.approx(0.5)
    assert clip_frame(clip, 8, 8)[0, 0, 0] == 4.0


def test_anchor_weights_ease_out():
    weights = anchor_weights(24, 24.0)

    assert weights[0] == 1.0
    assert weights[12:].max() == 0.0
    assert np.all(np.diff(weights) <= 0)


@pytest.mark.parametrize(
    ("family", "duration", "expected_frames"),
    [("LTXImageToVideoPipeline", 4.0, 97), ("LTXImageToVideoPipeline", 1.0, 25), ("WanImageToVideoPipeline", 4.0, 65), ("WanImageToVideoPipeline", 30.0, 81)],
)
def test_family_plan_frame_counts(family, duration, expected_frames):
    class Pipeline:  # Real checkpoints' compression ratios, as the pipelines expose them.
        vae_temporal_compression_ratio = 8 if family.startswith("LTX") else None
        vae_scale_factor_temporal = 4
        vae_spatial_compression_ratio = 32 if family.startswith("LTX") else None
        vae_scale_factor_spatial = 8
        transformer_spatial_patch_size = 1 if family.startswith("LTX") else 2

    plan = FAMILIES[family].plan(Pipeline(), duration=duration, width=1024, height=768, steps=None)

    assert plan.num_frames == expected_frames
    assert plan.width * plan.height <= FAMILIES[family].max_pixels * 1.05
    assert plan.width % FAMILIES[family].size_multiple == 0


def test_motion_phrase_levels():
    assert "static" in motion_phrase(0.0)
    assert "dynamic" in motion_phrase(4.0)


@pytest.mark.parametrize(("fps", "duration", "expected_frames"), [(8, 1.0, 8), (24, 1.0, 24), (30, 0.5, 15)])
async def test_svd_exact_frames_and_duration(svd_server, fps, duration, expected_frames):
    server, output_dir = svd_server
    image = write_image(output_dir)

    result = await call(server, image_url=str(image), fps=fps, duration=duration, num_inference_steps=2, seed=1, transition_type="none")

    assert not result.is_error, result.content[0].text
    info = probe(result.structured_content["path"])
    assert info.frame_count == expected_frames
    assert info.duration == pytest.approx(expected_frames / fps, abs=1e-6)
    assert (info.width, info.height) == (WIDTH, HEIGHT)
    assert result.structured_content["engine"] == "diffusers"
    assert result.structured_content["model"] is not None


async def test_svd_manifest_records_family(svd_server):
    server, output_dir = svd_server
    image = write_image(output_dir)

    result = await call(server, image_url=str(image), fps=8, duration=1.0, num_inference_steps=2, seed=2, motion_scale=3.0)

    path = Path(result.structured_content["path"])
    manifest = json.loads(path.with_name(path.name + ".json").read_text())
    assert manifest["family"] == "svd"
    assert manifest["generated_frames"] == TINY_SVD_FRAMES


async def test_svd_chain_three_segments(svd_server):
    server, output_dir = svd_server
    image_url = str(write_image(output_dir, "chain-start.png"))
    contents = []
    for index in range(3):
        result = await call(server, image_url=image_url, fps=8, duration=1.0, num_inference_steps=2, seed=index, transition_type="none")
        assert not result.is_error, result.content[0].text
        contents.append(result.structured_content)
        image_url = result.structured_content["next_frame_path"]

    videos = [decode_frames(content["path"]) for content in contents]
    for index in range(2):
        continuation = np.asarray(Image.open(contents[index]["next_frame_path"]))
        assert psnr(videos[index + 1][0], continuation) > 25.0, f"segment {index + 1} does not start at the next frame"
        assert psnr(videos[index + 1][0], continuation) > psnr(videos[index][-1], continuation), f"boundary {index} repeats a frame"
    assert [content["segment_index"] for content in contents] == [0, 1, 2]
    assert sum(probe(content["path"]).duration for content in contents) == pytest.approx(3.0, abs=1e-6)


async def test_svd_progress_reports_denoising(svd_server):
    server, output_dir = svd_server
    messages: list[str] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        messages.append(message or "")

    await call(server, on_progress, image_url=str(write_image(output_dir)), fps=8, duration=1.0, num_inference_steps=2)

    assert "denoising step 1/2" in messages
    assert "denoising step 2/2" in messages
    assert messages[-1] == "rendered"


async def test_svd_cancel_leaves_no_file(svd_server):
    server, output_dir = svd_server
    image = write_image(output_dir, "cancel.png")
    videos = output_dir / "videos"
    before = set(videos.iterdir()) if videos.exists() else set()

    async with Client(server) as client:
        with anyio.move_on_after(60) as scope:

            async def cancel_on_progress(done: float, total: float | None, message: str | None) -> None:
                scope.cancel()

            arguments = {"image_url": str(image), "fps": 8, "duration": 1.0, "num_inference_steps": 3}
            await client.call_tool("image_to_video", arguments, progress_callback=cancel_on_progress)
        assert scope.cancelled_caught

    for _ in range(200):
        leftovers = (set(videos.iterdir()) if videos.exists() else set()) - before
        if not leftovers:
            break
        await anyio.sleep(0.05)
    assert leftovers == set()


@pytest.mark.parametrize(("fps", "duration", "expected_frames"), [(8, 1.0, 8), (24, 0.5, 12), (30, 0.5, 15)])
async def test_ltx_exact_frames_with_chinese_prompt(ltx_server, fps, duration, expected_frames):
    server, output_dir = ltx_server
    image = write_image(output_dir)

    result = await call(
        server, image_url=str(image), fps=fps, duration=duration, num_inference_steps=2, seed=3, prompt="宁静的森林中流淌的溪水"
    )

    assert not result.is_error, result.content[0].text
    info = probe(result.structured_content["path"])
    assert info.frame_count == expected_frames
    assert info.duration == pytest.approx(expected_frames / fps, abs=1e-6)
    path = Path(result.structured_content["path"])
    manifest = json.loads(path.with_name(path.name + ".json").read_text())
    assert manifest["family"] == "ltx"
    assert (manifest["generated_frames"] - 1) % 4 == 0


async def test_diffusers_rejects_text_to_image_model(make_settings, tmp_path):
    folder = tmp_path / "not-video"
    folder.mkdir()
    (folder / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    server = build_server(make_settings("image2video", engine="diffusers", model=str(folder)))
    image = write_image(make_settings("image2video").output_dir)

    result = await call(server, image_url=str(image), fps=8, duration=1.0)

    assert result.is_error
    assert "StableDiffusionPipeline, not an image-to-video pipeline" in result.content[0].text


def test_diffusers_requires_model(make_settings):
    from servers.shared.errors import EngineUnavailableError

    with pytest.raises(EngineUnavailableError, match="needs a model"):
        build_server(make_settings("image2video", engine="diffusers"))
