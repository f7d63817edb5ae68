"""The shared encoder's two input formats: RGB arrays and yuv420p planes."""

from __future__ import annotations

import av
import numpy as np
import pytest

from servers.shared.media import VideoEncoder, YuvFrame, probe, rgb_to_yuv420


def _gradient_frame(width: int = 64, height: int = 48) -> np.ndarray:
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    return np.stack([np.broadcast_to(x, (height, width)), np.broadcast_to(y, (height, width)), np.full((height, width), 90.0)], axis=-1).astype(np.uint8)


def _decoded_frames(path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    error = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if error == 0 else float(10 * np.log10(255**2 / error))


def test_rgb_to_yuv420_black_white_and_grey():
    frame = np.zeros((2, 4, 3), dtype=np.uint8)
    frame[:, 2:] = 255

    planes = rgb_to_yuv420(frame)

    assert planes.y.tolist() == [[16, 16, 235, 235], [16, 16, 235, 235]]
    assert planes.u.tolist() == [[128, 128]]
    assert planes.v.tolist() == [[128, 128]]


def test_rgb_to_yuv420_rejects_odd_size():
    with pytest.raises(ValueError, match="even dimensions"):
        rgb_to_yuv420(np.zeros((3, 4, 3), dtype=np.uint8))


@pytest.mark.parametrize("pixel_format", ["rgb24", "yuv420p"])
def test_encoder_round_trip_matches_source(tmp_path, pixel_format):
    source = _gradient_frame()
    path = tmp_path / f"{pixel_format}.mp4"
    with VideoEncoder(path, width=64, height=48, fps=24, pixel_format=pixel_format) as encoder:
        for _ in range(6):
            encoder(rgb_to_yuv420(source) if pixel_format == "yuv420p" else source)

    decoded = _decoded_frames(path)
    assert len(decoded) == 6
    assert probe(path).frame_count == 6
    assert _psnr(decoded[0], source) > 35


def test_encoder_yuv_and_rgb_inputs_agree(tmp_path):
    source = _gradient_frame()
    outputs = {}
    for pixel_format in ("rgb24", "yuv420p"):
        path = tmp_path / f"{pixel_format}.mp4"
        with VideoEncoder(path, width=64, height=48, fps=24, pixel_format=pixel_format) as encoder:
            encoder(rgb_to_yuv420(source) if pixel_format == "yuv420p" else source)
        outputs[pixel_format] = _decoded_frames(path)[0]

    assert _psnr(outputs["rgb24"], outputs["yuv420p"]) > 38


def test_encoder_rejects_wrong_frame_kind(tmp_path):
    with VideoEncoder(tmp_path / "a.mp4", width=64, height=48, fps=24, pixel_format="yuv420p") as encoder:
        with pytest.raises(ValueError, match="expected a YuvFrame of 64x48"):
            encoder.write(_gradient_frame())
        with pytest.raises(ValueError, match="expected a YuvFrame of 64x48"):
            encoder.write(YuvFrame(y=np.zeros((48, 64), np.uint8), u=np.zeros((10, 10), np.uint8), v=np.zeros((24, 32), np.uint8)))
        encoder.write(rgb_to_yuv420(_gradient_frame()))
    with VideoEncoder(tmp_path / "b.mp4", width=64, height=48, fps=24) as encoder:
        with pytest.raises(ValueError, match=r"expected a uint8 frame of shape \(48, 64, 3\)"):
            encoder.write(rgb_to_yuv420(_gradient_frame()))
        encoder.write(_gradient_frame())


def test_encoder_rejects_unknown_pixel_format(tmp_path):
    with pytest.raises(ValueError, match="pixel_format must be rgb24 or yuv420p"):
        VideoEncoder(tmp_path / "a.mp4", width=64, height=48, fps=24, pixel_format="nv12")
