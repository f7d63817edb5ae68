"""Polyphase plane resampling: agreement with Pillow's bicubic resize, bounds, and the engine's yuv frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from servers.image2video.engines.motion import MotionEngine
from servers.image2video.engines.polyphase import PHASES, PolyphasePlane
from servers.shared.frames import psnr
from servers.shared.media import YuvFrame, rgb_to_yuv420
from servers.shared.worker import Progress
from tests.test_image2video_motion import image_path, make_request  # noqa: F401  (fixture)
from tests.test_image2video_server import textured_image


def detailed_plane(width: int = 160, height: int = 120) -> np.ndarray:
    """Smooth content plus pixel-level noise, so any misplaced row shows up as an error."""
    rng = np.random.default_rng(3)
    smooth = textured_image(width, height)[..., 1].astype(np.float64)
    return np.clip(smooth + rng.normal(0, 25, smooth.shape), 0, 255).astype(np.uint8)


def pillow_bicubic(plane: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    image = Image.fromarray(plane)
    return np.asarray(image.resize(image.size, Image.Resampling.BICUBIC, box=box))


class YuvFrames:
    """A frame writer that takes yuv420p frames, as the encoder does."""

    pixel_format = "yuv420p"

    def __init__(self) -> None:
        self.frames: list[YuvFrame] = []

    def __call__(self, frame: YuvFrame) -> None:
        self.frames.append(frame)


@pytest.mark.parametrize(
    "box",
    [(3.3, 2.7, 150.1, 113.2), (0.0, 0.0, 80.25, 60.5), (79.9, 59.4, 160.0, 120.0), (10.0, 10.03125, 150.0, 110.02)],
    ids=["inside", "top-left", "bottom-right", "fine-phase"],
)
def test_polyphase_matches_pillow_bicubic(box):
    plane = detailed_plane()

    rendered = PolyphasePlane(plane).render(box)
    expected = pillow_bicubic(plane, box)

    assert rendered.shape == plane.shape
    assert rendered.dtype == np.uint8
    # Vertical positions are rounded to 1/PHASES pixel, which moves a noisy pixel a little.
    assert np.max(np.abs(rendered.astype(int) - expected)) <= 6
    assert psnr(rendered, expected) >= 47.0


def test_polyphase_on_phase_grid_exact():
    plane = detailed_plane()
    # A row step of 15/16 pixel and this top put every output row on a 1/16 phase.
    top = 5 / 16 + 1 / 32
    box = (2.0, top, 152.0, top + 120 * 15 / 16)
    image = Image.fromarray(plane)
    vertical = image.resize(image.size, Image.Resampling.BICUBIC, box=(0.0, box[1], 160.0, box[3]))
    both = np.asarray(vertical.resize(image.size, Image.Resampling.BICUBIC, box=(box[0], 0.0, box[2], 120.0)))

    rendered = PolyphasePlane(plane).render(box)

    assert PHASES == 16
    # Pillow renormalises its kernel at the edges where the plane is padded instead.
    assert np.array_equal(rendered[2:-2], both[2:-2])


def test_polyphase_whole_box_returns_plane():
    plane = detailed_plane()

    assert np.array_equal(PolyphasePlane(plane).render((0.0, 0.0, 160.0, 120.0)), plane)


@pytest.mark.parametrize(
    ("box", "message"),
    [
        ((-1.0, 0.0, 100.0, 80.0), "must lie inside the 160x120 plane"),
        ((0.0, 0.0, 161.0, 120.0), "must lie inside the 160x120 plane"),
        ((50.0, 20.0, 40.0, 80.0), "must lie inside the 160x120 plane"),
    ],
)
def test_polyphase_rejects_box_outside_plane(box, message):
    with pytest.raises(ValueError, match=message):
        PolyphasePlane(detailed_plane()).render(box)


def test_polyphase_rejects_colour_image():
    with pytest.raises(ValueError, match=r"2-D uint8 array, got uint8 of shape \(4, 4, 3\)"):
        PolyphasePlane(np.zeros((4, 4, 3), np.uint8))


def test_motion_yuv_frames_match_rgb_frames(image_path):  # noqa: F811
    rgb_frames: list[np.ndarray] = []
    MotionEngine().render(make_request(image_path), rgb_frames.append, Progress.noop())
    yuv = YuvFrames()
    MotionEngine().render(make_request(image_path), yuv, Progress.noop())

    assert len(yuv.frames) == len(rgb_frames) == 12
    for rgb, frame in zip(rgb_frames, yuv.frames, strict=True):
        expected = rgb_to_yuv420(rgb)
        assert psnr(frame.y, expected.y) >= 40.0
        assert psnr(frame.u, expected.u) >= 40.0
        assert psnr(frame.v, expected.v) >= 40.0
