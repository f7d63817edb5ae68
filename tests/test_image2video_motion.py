"""The motion engine without MCP: camera path continuity, view bounds, fades, seamless chains."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from servers.image2video.engines.base import VideoRequest
from servers.image2video.engines.camera import CameraPath, SegmentMotion, view_box
from servers.image2video.engines.motion import MotionEngine
from servers.image2video.transitions import FadeWriter, fade_frame_count
from servers.shared.errors import GenerationCancelledError
from servers.shared.frames import load_rgb_image, pixel_sha256
from servers.shared.worker import Progress
from tests.test_image2video_server import textured_image

WIDTH, HEIGHT = 128, 96


def box(motion: SegmentMotion, offset: float) -> np.ndarray:
    return np.array(view_box(motion.pose(offset), WIDTH, HEIGHT))


def velocity(motion: SegmentMotion, offset: float, step: float = 1e-5) -> np.ndarray:
    """Velocity of the view's edges in pixels per second."""
    return (box(motion, offset + step) - box(motion, offset - step)) / (2 * step)


def mean_difference(first: np.ndarray, second: np.ndarray) -> float:
    return float(np.mean(np.abs(first.astype(np.float64) - second.astype(np.float64))))


@pytest.fixture
def image_path(tmp_path: Path) -> Path:
    path = tmp_path / "still.png"
    Image.fromarray(textured_image()).save(path)
    return path


def make_request(path: Path, *, seed: int = 7, continuation=None, frame_count: int = 12, fps: float = 12.0, last: bool = False, motion_scale: float = 4.0):
    return VideoRequest(
        image_path=path,
        image=load_rgb_image(path),
        motion_scale=motion_scale,
        fps=fps,
        frame_count=frame_count,
        seed=seed,
        prompt=None,
        num_inference_steps=None,
        last_segment=last,
        continuation=continuation,
        input_roots=(path.parent,),
    )


def render_chain(image_path: Path, seeds: list[int]) -> tuple[list[list[np.ndarray]], list[np.ndarray]]:
    """Render chained segments the way the server does: next frame saved as PNG with its record."""
    engine = MotionEngine()
    videos, next_frames = [], []
    path, continuation = image_path, None
    for index, seed in enumerate(seeds):
        frames: list[np.ndarray] = []
        output = engine.render(make_request(path, seed=seed, continuation=continuation), frames.append, Progress.noop())
        videos.append(frames)
        next_frames.append(output.next_frame)
        path = image_path.with_name(f"next-{index}.png")
        Image.fromarray(output.next_frame).save(path)
        continuation = {"frame_sha256": pixel_sha256(output.next_frame), **output.chain_state}
    return videos, next_frames


def test_camera_path_starts_at_rest_on_whole_image():
    motion = SegmentMotion(start_time=0.0, duration=4.0, current=CameraPath(3, 1.5))

    assert view_box(motion.pose(0.0), WIDTH, HEIGHT) == (0.0, 0.0, WIDTH, HEIGHT)
    assert np.abs(velocity(motion, 1e-4)).max() < 1e-2


@pytest.mark.parametrize("next_seed", [5, 6], ids=["same-path", "new-path"])
def test_camera_velocity_continuous_across_segments(next_seed):
    first = SegmentMotion(start_time=2.0, duration=4.0, current=CameraPath(5, 2.0))
    second = SegmentMotion(start_time=first.end_time, duration=4.0, current=CameraPath(next_seed, 2.0), previous=first.current)

    assert np.allclose(box(first, 4.0), box(second, 0.0))
    assert np.allclose(velocity(first, 4.0 - 1e-4), velocity(second, 1e-4), atol=1e-2)


def test_camera_ease_out_ends_at_rest():
    motion = SegmentMotion(start_time=3.0, duration=4.0, current=CameraPath(5, 3.0), ease_out=True)

    assert np.abs(velocity(motion, 4.0 - 1e-4)).max() < 1e-2
    assert np.abs(velocity(motion, 1e-4)).max() > 1.0


@pytest.mark.parametrize("seed", range(6))
def test_view_box_stays_inside_image(seed):
    path = CameraPath(seed, 5.0)
    for t in np.linspace(0.0, 120.0, 400):
        left, top, right, bottom = view_box(path.pose(t), WIDTH, HEIGHT)
        assert left >= -1e-9
        assert top >= -1e-9
        assert right <= WIDTH + 1e-9
        assert bottom <= HEIGHT + 1e-9
        assert (right - left) / (bottom - top) == pytest.approx(WIDTH / HEIGHT)


def test_motion_first_frame_equals_input(image_path):
    frames: list[np.ndarray] = []
    MotionEngine().render(make_request(image_path), frames.append, Progress.noop())

    assert np.array_equal(frames[0], np.asarray(Image.open(image_path)))


def test_motion_writes_exact_frame_count(image_path):
    frames: list[np.ndarray] = []
    MotionEngine().render(make_request(image_path, frame_count=17), frames.append, Progress.noop())

    assert len(frames) == 17
    assert all(frame.shape == (HEIGHT, WIDTH, 3) for frame in frames)


@pytest.mark.parametrize("seeds", [[7, 7, 7], [7, 8, 9]], ids=["same-seed", "new-seed-each-segment"])
def test_motion_chain_no_jump_no_repeat(image_path, seeds):
    videos, next_frames = render_chain(image_path, seeds)

    for index in range(2):
        assert np.array_equal(videos[index + 1][0], next_frames[index]), f"segment {index + 1} does not start at the next frame"
        before = mean_difference(videos[index][-2], videos[index][-1])
        across = mean_difference(videos[index][-1], videos[index + 1][0])
        after = mean_difference(videos[index + 1][0], videos[index + 1][1])
        assert across > 0.5 * min(before, after), f"boundary {index} repeats a frame"
        assert across < 1.5 * max(before, after), f"boundary {index} jumps"


def test_motion_continuation_renders_from_first_image(image_path):
    engine = MotionEngine()
    path, continuation = image_path, None
    for index in range(3):
        output = engine.render(make_request(path, continuation=continuation), lambda frame: None, Progress.noop())
        assert output.chain_state["camera"]["base_path"] == str(image_path)
        path = image_path.with_name(f"next-{index}.png")
        Image.fromarray(output.next_frame).save(path)
        continuation = {"frame_sha256": pixel_sha256(output.next_frame), **output.chain_state}
    assert output.chain_state["camera"]["time"] == pytest.approx(3.0)


def test_motion_changed_first_image_starts_new_path(image_path):
    engine = MotionEngine()
    first_output = engine.render(make_request(image_path), lambda frame: None, Progress.noop())
    next_path = image_path.with_name("continue.png")
    Image.fromarray(first_output.next_frame).save(next_path)
    Image.fromarray(textured_image(seed=9)).save(image_path)

    continuation = {"frame_sha256": pixel_sha256(first_output.next_frame), **first_output.chain_state}
    output = engine.render(make_request(next_path, continuation=continuation), lambda frame: None, Progress.noop())

    assert any("started a new camera path" in warning for warning in output.warnings)


def test_motion_cancel_stops_render(image_path):
    progress = Progress()
    frames: list[np.ndarray] = []

    def write(frame: np.ndarray) -> None:
        frames.append(frame)
        if len(frames) == 3:
            progress.cancel_event.set()

    with pytest.raises(GenerationCancelledError):
        MotionEngine().render(make_request(image_path, frame_count=30), write, progress)
    assert len(frames) == 3


def test_fade_writer_gains():
    written: list[np.ndarray] = []
    writer = FadeWriter(written.append, frame_count=8, fade_frames=2, fade_in=True, fade_out=True)
    for _ in range(8):
        writer(np.full((2, 2, 3), 200, dtype=np.uint8))

    assert [int(frame[0, 0, 0]) for frame in written] == [0, 100, 200, 200, 200, 200, 200, 100]


def test_fade_frame_count_half_second_or_quarter():
    assert fade_frame_count(120, 30.0) == 15
    assert fade_frame_count(8, 8.0) == 2
    assert fade_frame_count(1, 30.0) == 1
