"""The image2video server over real MCP sessions: exact frame counts, chaining, bad input."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import anyio
import av
import numpy as np
import pytest
from mcp import Client, StdioServerParameters
from PIL import Image

from servers.image2video.server import build_server
from servers.shared.frames import psnr
from servers.shared.media import probe, rgb_to_yuv420

pytestmark = pytest.mark.anyio

WIDTH, HEIGHT = 128, 96
REPOSITORY_ROOT = Path(__file__).resolve().parents[1]


def textured_image(width: int = WIDTH, height: int = HEIGHT, seed: int = 0) -> np.ndarray:
    """A smooth picture with detail at several scales, so motion and seams are measurable."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    channels = []
    for _ in range(3):
        fx, fy, phase = rng.uniform(0.05, 0.25), rng.uniform(0.05, 0.25), rng.uniform(0, 2 * np.pi)
        channels.append(128 + 60 * np.sin(fx * x + phase) * np.cos(fy * y) + 50 * (x / width - y / height))
    return np.clip(np.stack(channels, axis=-1), 0, 255).astype(np.uint8)


def decode_frames(path: str | Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def mean_difference(first: np.ndarray, second: np.ndarray) -> float:
    return float(np.mean(np.abs(first.astype(np.float64) - second.astype(np.float64))))


def decode_luma(path: str | Path) -> list[np.ndarray]:
    """Decode the Y plane of every frame, untouched by a conversion back to RGB."""
    with av.open(str(path)) as container:
        return [frame.reformat(format="yuv420p").to_ndarray()[: frame.height] for frame in container.decode(video=0)]


@pytest.fixture
def input_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "inputs"
    folder.mkdir()
    return folder


@pytest.fixture
def image_path(input_dir: Path) -> Path:
    path = input_dir / "still.png"
    Image.fromarray(textured_image()).save(path)
    return path


@pytest.fixture
def detailed_image_path(input_dir: Path) -> Path:
    """A still with fine grain, so a sub-pixel camera step changes pixels well above codec noise."""
    grain = np.random.default_rng(5).normal(0, 30, (HEIGHT, WIDTH, 1))
    path = input_dir / "detailed.png"
    Image.fromarray(np.clip(textured_image() + grain, 0, 255).astype(np.uint8)).save(path)
    return path


@pytest.fixture
def settings(make_settings, input_dir):
    return make_settings("image2video", input_roots=[input_dir])


@pytest.fixture
def server(settings):
    return build_server(settings)


async def call(server, **arguments):
    async with Client(server) as client:
        return await client.call_tool("image_to_video", arguments)


async def test_list_tools_schema_defaults(server):
    async with Client(server) as client:
        tools = (await client.list_tools()).tools
    properties = tools[0].input_schema["properties"]
    assert properties["motion_scale"]["default"] == 1.5
    assert properties["fps"]["default"] == 30.0
    assert properties["duration"]["default"] == 4.0
    assert properties["transition_type"]["enum"] == ["fade", "none"]
    assert "next_frame_path" in tools[0].output_schema["properties"]


@pytest.mark.parametrize(("fps", "duration", "expected_frames"), [(8, 4.0, 32), (24, 1.5, 36), (30, 1.0, 30), (30, 0.55, 17)])
async def test_image_to_video_exact_frames_and_duration(server, image_path, fps, duration, expected_frames):
    result = await call(server, image_url=str(image_path), fps=fps, duration=duration, seed=1)

    assert not result.is_error, result.content[0].text
    content = result.structured_content
    info = probe(content["path"])
    assert content["frames"] == expected_frames
    assert info.frame_count == expected_frames
    assert len(decode_frames(content["path"])) == expected_frames
    assert info.duration == pytest.approx(expected_frames / fps, abs=1e-6)
    assert content["duration"] == pytest.approx(expected_frames / fps, abs=1e-9)
    assert info.fps == pytest.approx(fps)
    assert (info.width, info.height) == (WIDTH, HEIGHT)
    assert info.video_codec == "h264"
    assert info.pix_fmt == "yuv420p"


async def test_image_to_video_first_frame_is_input(server, image_path):
    result = await call(server, image_url=str(image_path), fps=24, duration=1.0, transition_type="none", seed=5)

    first = decode_frames(result.structured_content["path"])[0]
    assert psnr(first, np.asarray(Image.open(image_path))) > 32.0


async def test_image_to_video_next_frame_is_lossless_png(server, image_path):
    result = await call(server, image_url=str(image_path), fps=24, duration=1.0, seed=5)

    next_frame = Path(result.structured_content["next_frame_path"])
    assert next_frame.suffix == ".png"
    with Image.open(next_frame) as image:
        assert image.format == "PNG"
        assert image.mode == "RGB"
        assert image.size == (WIDTH, HEIGHT)
    manifest = json.loads(next_frame.with_name(next_frame.name + ".json").read_text())
    assert manifest["continuation"]["segment_index"] == 1
    assert manifest["continuation"]["chain_time"] == pytest.approx(1.0)


async def test_image_to_video_same_seed_same_frames(server, image_path):
    first = await call(server, image_url=str(image_path), fps=8, duration=1.0, seed=11)
    second = await call(server, image_url=str(image_path), fps=8, duration=1.0, seed=11)

    first_next = np.asarray(Image.open(first.structured_content["next_frame_path"]))
    second_next = np.asarray(Image.open(second.structured_content["next_frame_path"]))
    assert np.array_equal(first_next, second_next)


async def test_image_to_video_motion_warns_unused_prompt(server, image_path):
    result = await call(server, image_url=str(image_path), fps=8, duration=0.5, prompt="宁静的森林中流淌的溪水", num_inference_steps=4)

    warnings = result.structured_content["warnings"]
    assert any("does not read text" in warning for warning in warnings)
    assert any("num_inference_steps" in warning for warning in warnings)
    assert "宁静的森林中流淌的溪水" in Path(result.structured_content["path"]).name


async def test_image_to_video_motion_scale_zero_is_still(server, image_path):
    result = await call(server, image_url=str(image_path), fps=8, duration=1.0, motion_scale=0, seed=2)

    next_frame = np.asarray(Image.open(result.structured_content["next_frame_path"]))
    assert np.array_equal(next_frame, np.asarray(Image.open(image_path)))


async def chain_segments(server, image_path: Path, count: int, *, seeds=None, **arguments) -> list[dict]:
    contents = []
    image_url = str(image_path)
    for index in range(count):
        seed = seeds[index] if seeds else 7
        result = await call(server, image_url=image_url, seed=seed, last_segment=index == count - 1, **arguments)
        assert not result.is_error, result.content[0].text
        contents.append(result.structured_content)
        image_url = result.structured_content["next_frame_path"]
    return contents


@pytest.mark.parametrize("seeds", [None, [7, 8, 9]], ids=["same-seed", "new-seed-each-segment"])
async def test_chain_three_segments_start_at_next_frame(server, detailed_image_path, seeds):
    contents = await chain_segments(server, detailed_image_path, 3, seeds=seeds, fps=8, duration=1.0, motion_scale=5.0, transition_type="none")
    # Luma only: chroma subsampling would blur the comparison of neighbouring frames.
    videos = [decode_luma(content["path"]) for content in contents]

    for index in range(2):
        continuation = rgb_to_yuv420(np.asarray(Image.open(contents[index]["next_frame_path"]))).y
        first_next, last = videos[index + 1][0], videos[index][-1]
        step_before = mean_difference(videos[index][-2], last)
        step_across = mean_difference(last, first_next)
        step_after = mean_difference(first_next, videos[index + 1][1])
        assert psnr(first_next, continuation) > 40.0, f"segment {index + 1} does not start at the continuation frame"
        assert psnr(first_next, continuation) > psnr(last, continuation) + 6.0, f"boundary {index} repeats a frame"
        # The camera's step across the boundary is an ordinary step: no pause, no jump.
        assert step_across > 0.5 * min(step_before, step_after)
        assert step_across < 2.0 * max(step_before, step_after)
        assert not any("new camera path" in warning for warning in contents[index + 1]["warnings"])


async def test_chain_three_segments_exact_total_duration(server, image_path):
    contents = await chain_segments(server, image_path, 3, fps=8, duration=1.0)

    durations = [probe(content["path"]).duration for content in contents]
    assert sum(durations) == pytest.approx(3.0, abs=1e-6)
    assert [content["segment_index"] for content in contents] == [0, 1, 2]
    assert [content["chain_start_seconds"] for content in contents] == pytest.approx([0.0, 1.0, 2.0])
    assert len({content["chain_id"] for content in contents}) == 1


async def test_chain_gamma_edited_start_warns_loose_fit(server, image_path, input_dir):
    first = await call(server, image_url=str(image_path), fps=8, duration=1.0, seed=4, transition_type="none")
    next_path = Path(first.structured_content["next_frame_path"])
    edited_path = input_dir / "gamma.png"
    edited = (255 * (np.asarray(Image.open(next_path)) / 255.0) ** 0.4).astype(np.uint8)
    Image.fromarray(edited).save(edited_path)
    edited_path.with_name(edited_path.name + ".json").write_bytes(next_path.with_name(next_path.name + ".json").read_bytes())

    second = await call(server, image_url=str(edited_path), fps=8, duration=1.0, seed=4, transition_type="none")
    fit = second.structured_content["start_colour_edit_psnr"]

    assert 30.0 <= fit < 40.0
    assert f"a gain and offset per channel reproduce the edit of the start image only to {fit:.1f} dB, so the first frame differs visibly from it" in second.structured_content["warnings"]


async def test_image_to_video_warns_rounded_duration(server, image_path):
    rounded = await call(server, image_url=str(image_path), fps=1, duration=0.5, seed=1)
    close = await call(server, image_url=str(image_path), fps=29.97, duration=0.5, seed=1)

    assert rounded.structured_content["frames"] == 1
    assert rounded.structured_content["duration"] == 1.0
    assert "duration 0.5 s is not a whole number of frames at 1 fps: the video has 1 frame (1.000 s)" in rounded.structured_content["warnings"]
    assert close.structured_content["frames"] == 15
    assert not [warning for warning in close.structured_content["warnings"] if "whole number of frames" in warning]


async def test_chain_colour_edited_start_keeps_edit(server, image_path, input_dir):
    first = await call(server, image_url=str(image_path), fps=8, duration=1.0, seed=4, transition_type="none")
    next_path = Path(first.structured_content["next_frame_path"])
    edited_path = input_dir / "edited.png"
    edited = np.clip(np.asarray(Image.open(next_path)).astype(np.float64) * 0.9 + 10, 0, 255).astype(np.uint8)
    Image.fromarray(edited).save(edited_path)
    edited_path.with_name(edited_path.name + ".json").write_bytes(next_path.with_name(next_path.name + ".json").read_bytes())

    second = await call(server, image_url=str(edited_path), fps=8, duration=1.0, seed=4, transition_type="none")

    assert not second.is_error, second.content[0].text
    assert second.structured_content["start_colour_edit_psnr"] > 30.0
    assert not [warning for warning in second.structured_content["warnings"] if "colour" in warning]
    assert first.structured_content["start_colour_edit_psnr"] is None
    assert psnr(decode_frames(second.structured_content["path"])[0], edited) > 32.0


async def test_fade_in_only_at_chain_start(server, image_path):
    contents = await chain_segments(server, image_path, 2, fps=8, duration=1.0, transition_type="fade")
    first_video, second_video = (decode_frames(content["path"]) for content in contents)

    assert first_video[0].mean() < 3.0
    assert second_video[0].mean() > 0.8 * np.asarray(Image.open(image_path)).mean()
    assert [content["faded_in"] for content in contents] == [True, False]


async def test_fade_out_on_last_segment(server, image_path):
    result = await call(server, image_url=str(image_path), fps=8, duration=2.0, last_segment=True, seed=3)
    frames = decode_frames(result.structured_content["path"])
    next_frame = np.asarray(Image.open(result.structured_content["next_frame_path"]))

    assert result.structured_content["faded_out"] is True
    assert frames[-1].mean() < 0.4 * frames[len(frames) // 2].mean()
    assert next_frame.mean() > 0.8 * frames[len(frames) // 2].mean()


@pytest.mark.parametrize(
    ("mode", "warning_word"),
    [("RGBA", "transparency"), ("L", "greyscale"), ("P", "palette"), ("I;16", "16-bit")],
)
async def test_image_to_video_converts_image_modes(server, input_dir, mode, warning_word):
    rgb = Image.fromarray(textured_image())
    if mode == "RGBA":
        image = rgb.convert("RGBA")
        image.putalpha(Image.fromarray(np.tile(np.linspace(0, 255, WIDTH, dtype=np.uint8), (HEIGHT, 1))))
    elif mode == "I;16":
        image = Image.fromarray(np.asarray(rgb.convert("L")).astype(np.uint16) * 257)
    else:
        image = rgb.convert(mode)
    path = input_dir / f"mode-{mode.replace(';', '')}.png"
    image.save(path)

    result = await call(server, image_url=str(path), fps=8, duration=0.5, transition_type="none", seed=1)

    assert not result.is_error, result.content[0].text
    assert any(warning_word in warning for warning in result.structured_content["warnings"])
    assert probe(result.structured_content["path"]).pix_fmt == "yuv420p"


async def test_image_to_video_rgba_composited_on_black(server, input_dir):
    image = Image.new("RGBA", (WIDTH, HEIGHT), (255, 255, 255, 0))
    path = input_dir / "transparent.png"
    image.save(path)

    result = await call(server, image_url=str(path), fps=8, duration=0.5, transition_type="none", motion_scale=0)

    assert np.asarray(Image.open(result.structured_content["next_frame_path"])).max() == 0


async def test_image_to_video_odd_size_snapped(server, input_dir):
    path = input_dir / "odd.png"
    Image.fromarray(textured_image(131, 97)).save(path)

    result = await call(server, image_url=str(path), fps=8, duration=0.5, seed=1)

    content = result.structured_content
    assert (content["width"], content["height"]) == (130, 96)
    assert (probe(content["path"]).width, probe(content["path"]).height) == (130, 96)
    assert any("cropped 131x97 to 130x96" in warning for warning in content["warnings"])


async def test_image_to_video_progress_notifications(server, image_path):
    updates: list[tuple[float, float | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        updates.append((done, total))

    async with Client(server) as client:
        await client.call_tool("image_to_video", {"image_url": str(image_path), "fps": 8, "duration": 1.0}, progress_callback=on_progress)

    assert len(updates) >= 2
    assert updates[-1] == (9, 9)
    assert [done for done, _ in updates] == sorted(done for done, _ in updates)


async def test_image_to_video_cancel_leaves_no_file(server, image_path, output_dir):
    async with Client(server) as client:
        with anyio.move_on_after(10) as scope:

            async def cancel_on_progress(done: float, total: float | None, message: str | None) -> None:
                scope.cancel()

            arguments = {"image_url": str(image_path), "fps": 60, "duration": 30.0}
            await client.call_tool("image_to_video", arguments, progress_callback=cancel_on_progress)
        assert scope.cancelled_caught

    videos = output_dir / "videos"
    for _ in range(100):
        leftovers = list(videos.iterdir()) if videos.exists() else []
        if not leftovers:
            break
        await anyio.sleep(0.05)
    assert leftovers == []


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"image_url": "missing.png"}, "not found"),
        ({"duration": 0}, "duration 0.0 is outside 0.5..30"),
        ({"duration": 60}, "duration 60.0 is outside 0.5..30"),
        ({"fps": 0}, "fps 0.0 is outside 1..60"),
        ({"motion_scale": -1}, "motion_scale -1.0 is outside 0..5"),
        ({"seed": -3}, "seed -3 is outside"),
        ({"image_url": "/etc/hostname"}, "outside the allowed folders"),
        ({"image_url": "https://example.com/a.png"}, "pass a local file path"),
        ({"transition_type": "wipe"}, "fade"),
    ],
)
async def test_image_to_video_invalid_input(server, image_path, output_dir, arguments, expected):
    result = await call(server, **{"image_url": str(image_path), **arguments})

    assert result.is_error
    assert expected in result.content[0].text
    assert not (output_dir / "videos").exists() or list((output_dir / "videos").iterdir()) == []


async def test_image_to_video_not_an_image(server, input_dir):
    path = input_dir / "notes.png"
    path.write_text("this is text, not a picture")

    result = await call(server, image_url=str(path))

    assert result.is_error
    assert "is not a readable image" in result.content[0].text


async def test_image_to_video_huge_image_rejected(server, input_dir):
    path = input_dir / "huge.png"
    Image.new("L", (5000, 40)).save(path)

    result = await call(server, image_url=str(path))

    assert result.is_error
    assert "larger than the 4096 px limit" in result.content[0].text
    assert "downscale it" in result.content[0].text


async def test_server_keeps_serving_after_error(server, image_path):
    async with Client(server) as client:
        failed = await client.call_tool("image_to_video", {"image_url": str(image_path), "fps": 0})
        succeeded = await client.call_tool("image_to_video", {"image_url": str(image_path), "fps": 8, "duration": 0.5})

    assert failed.is_error
    assert not succeeded.is_error


async def test_stdio_subprocess_chain_and_error(settings, image_path):
    environment = {**settings.to_env(), "PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "")}
    parameters = StdioServerParameters(command=sys.executable, args=["-m", "servers.image2video"], env=environment, cwd=str(REPOSITORY_ROOT))

    async with Client(parameters) as client:
        first = await client.call_tool("image_to_video", {"image_url": str(image_path), "fps": 8, "duration": 1.0, "seed": 3})
        second = await client.call_tool(
            "image_to_video", {"image_url": first.structured_content["next_frame_path"], "fps": 8, "duration": 1.0, "seed": 3}
        )
        failed = await client.call_tool("image_to_video", {"image_url": str(image_path), "duration": 60})

    assert first.structured_content["frames"] == 8
    assert second.structured_content["segment_index"] == 1
    assert probe(second.structured_content["path"]).frame_count == 8
    assert failed.is_error
    assert "duration 60.0 is outside" in failed.content[0].text
