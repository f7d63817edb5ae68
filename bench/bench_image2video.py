"""Benchmark of the image2video `motion` engine: render-and-encode vs encoding alone.

    python bench/bench_image2video.py [--width 1024 --height 768 --fps 30 --duration 4]

Prints, side by side in one run:
- the engine's time for one segment (render every frame and stream it to the encoder)
  against piping the same frames, rendered beforehand, to the same encoder alone, as wall
  time and as CPU time of this process plus ffmpeg (less sensitive to a busy machine);
- the peak resident memory of a child process that renders a 4 s and a 20 s segment,
  which stays flat because frames are streamed, never collected;
- the temporal sharpness ripple of the RGB frames and of the yuv420p luma the encoder
  gets, a check that sub-pixel resampling does not shimmer.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from servers.image2video.engines.base import VideoRequest  # noqa: E402
from servers.image2video.engines.motion import MotionEngine  # noqa: E402
from servers.shared.frames import load_rgb_image  # noqa: E402
from servers.shared.media import VideoEncoder, YuvFrame  # noqa: E402
from servers.shared.worker import Progress  # noqa: E402


def make_test_image(path: Path, width: int, height: int) -> None:
    """Write a photo-like test card: smooth gradients plus fine detail at several scales."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    picture = np.zeros((height, width, 3), np.float32)
    for channel in range(3):
        for scale in (0.004, 0.02, 0.08):
            fx, fy, phase = rng.uniform(0.5, 1.5, 3) * (scale, scale, 6.0)
            picture[..., channel] += 40 * np.sin(fx * x + phase) * np.cos(fy * y)
    picture += 110 + 30 * (x / width)[..., None]
    Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8)).save(path)


def make_request(path: Path, fps: float, frame_count: int) -> VideoRequest:
    return VideoRequest(
        image_path=path,
        image=load_rgb_image(path),
        motion_scale=1.5,
        fps=fps,
        frame_count=frame_count,
        seed=1,
        prompt=None,
        num_inference_steps=None,
        last_segment=False,
        continuation=None,
        input_roots=(path.parent,),
    )


class YuvCollector:
    """A frame writer that takes yuv420p frames, as the encoder does, and keeps their luma."""

    pixel_format = "yuv420p"

    def __init__(self) -> None:
        self.planes: list[np.ndarray] = []

    def __call__(self, frame: YuvFrame) -> None:
        self.planes.append(frame.y)


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (ffmpeg), user plus system."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def time_engine(path: Path, output: Path, fps: float, frame_count: int) -> tuple[float, float]:
    """Return wall and CPU seconds of rendering and encoding one segment."""
    request = make_request(path, fps, frame_count)
    started, cpu_started = time.perf_counter(), cpu_seconds()
    engine = MotionEngine()
    with VideoEncoder(output, width=request.width, height=request.height, fps=fps, pixel_format=engine.pixel_format) as encoder:
        engine.render(request, encoder, Progress.noop())
    return time.perf_counter() - started, cpu_seconds() - cpu_started


def time_encode_only(frames: list[np.ndarray], output: Path, fps: float) -> tuple[float, float]:
    """Return wall and CPU seconds of piping ready frames to the same encoder."""
    height, width, _ = frames[0].shape
    started, cpu_started = time.perf_counter(), cpu_seconds()
    with VideoEncoder(output, width=width, height=height, fps=fps) as encoder:
        for frame in frames:
            encoder.write(frame)
    return time.perf_counter() - started, cpu_seconds() - cpu_started


def sharpness_ripple(frames: list[np.ndarray]) -> float:
    """Coefficient of variation (%) of high-frequency energy across frames; shimmer raises it."""
    energies = []
    for frame in frames:
        luma = frame.astype(np.float32)
        if luma.ndim == 3:
            luma = luma.mean(axis=2)
        laplacian = 4 * luma[1:-1, 1:-1] - luma[:-2, 1:-1] - luma[2:, 1:-1] - luma[1:-1, :-2] - luma[1:-1, 2:]
        energies.append(float(np.mean(laplacian**2)))
    # Remove the slow trend that zooming causes, keep the frame-to-frame ripple.
    trend = np.convolve(energies, np.ones(9) / 9, mode="valid")
    ripple = np.asarray(energies[4:-4]) - trend
    return float(100 * np.std(ripple) / np.mean(trend))


def peak_rss_kib() -> int:
    """Return this process's peak resident memory in KiB.

    VmHWM is read from /proc because ru_maxrss survives exec on Linux: a child started by
    a big parent would report the parent's peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak_memory_mib(path: Path, fps: float, duration: float) -> float:
    """Render one segment in a child process and return its peak resident memory in MiB."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from pathlib import Path; from bench.bench_image2video import peak_rss_kib, time_engine;"
        "time_engine(Path(sys.argv[2]), Path(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]));"
        "print(peak_rss_kib())"
    )
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "memory.mp4"
        completed = subprocess.run(
            [sys.executable, "-c", code, str(ROOT), str(path), str(output), str(fps), str(round(duration * fps))],
            capture_output=True,
            text=True,
            check=True,
        )
    return int(completed.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=1024)
    parser.add_argument("--height", type=int, default=768)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-memory", action="store_true", help="skip the 4 s / 20 s peak memory runs")
    args = parser.parse_args()
    frame_count = round(args.duration * args.fps)

    with tempfile.TemporaryDirectory() as folder:
        folder_path = Path(folder)
        image_path = folder_path / "card.png"
        make_test_image(image_path, args.width, args.height)

        frames: list[np.ndarray] = []
        render_started = time.perf_counter()
        next_frame = MotionEngine().render(make_request(image_path, args.fps, frame_count), frames.append, Progress.noop()).next_frame
        render_only = time.perf_counter() - render_started

        luma_planes = YuvCollector()
        MotionEngine().render(make_request(image_path, args.fps, frame_count), luma_planes, Progress.noop())

        engine_runs, encode_runs = [], []
        for _ in range(args.repeats):
            encode_runs.append(time_encode_only(frames, folder_path / "encode.mp4", args.fps))
            engine_runs.append(time_engine(image_path, folder_path / "engine.mp4", args.fps, frame_count))
        engine = statistics.median(wall for wall, _ in engine_runs)
        encode = statistics.median(wall for wall, _ in encode_runs)
        engine_cpu = statistics.median(cpu for _, cpu in engine_runs)
        encode_cpu = statistics.median(cpu for _, cpu in encode_runs)

        results = {
            "segment": f"{args.width}x{args.height}, {frame_count} frames at {args.fps:g} fps",
            "render_only_seconds": round(render_only, 3),
            "encode_only_seconds": round(encode, 3),
            "engine_seconds": round(engine, 3),
            "engine_over_encode": round(engine / encode, 3),
            "encode_only_cpu_seconds": round(encode_cpu, 3),
            "engine_cpu_seconds": round(engine_cpu, 3),
            "engine_over_encode_cpu": round(engine_cpu / encode_cpu, 3),
            "sharpness_ripple_percent_rgb": round(sharpness_ripple(frames), 3),
            "sharpness_ripple_percent_yuv": round(sharpness_ripple(luma_planes.planes), 3),
            "next_frame_shape": list(next_frame.shape),
        }
        del frames
        if not args.skip_memory:
            results["peak_rss_mib_4s"] = round(peak_memory_mib(image_path, args.fps, 4.0), 1)
            results["peak_rss_mib_20s"] = round(peak_memory_mib(image_path, args.fps, 20.0), 1)
        results["bench_process_peak_rss_mib"] = round(peak_rss_kib() / 1024, 1)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
