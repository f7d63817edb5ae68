"""Benchmark of the video2audio server's procedural engine, with the alternatives side by side.

    python bench/bench_video2audio.py                   # 40 s, 1024x768, 30 fps video
    python bench/bench_video2audio.py --seconds 80 --repeats 5

Rows:
- steps: synthesis alone for each style (sound effects on), writing each output format,
  and the whole `video_to_audio` call over an in-memory MCP session.
- analysis: reading thumbnails from the yuv420p planes (what the server does) vs scaling
  every frame with libswscale vs decoding alone vs full-size float RGB frames.
- segments: one call for the whole video vs one call per 4 s segment, as an orchestrator
  could do while later segments still render.

The median of the repeats is printed; the analysis methods alternate run by run.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import anyio  # noqa: E402
import numpy as np  # noqa: E402
from mcp import Client  # noqa: E402

from servers.shared.audio_io import AUDIO_FORMATS, write_audio  # noqa: E402
from servers.shared.media import VideoEncoder, probe  # noqa: E402
from servers.shared.settings import Settings  # noqa: E402
from servers.shared.worker import Progress  # noqa: E402
from servers.video2audio.analysis import analyse_video  # noqa: E402
from servers.video2audio.engines.base import AudioRequest  # noqa: E402
from servers.video2audio.engines.procedural import ProceduralEngine  # noqa: E402
from servers.video2audio.scene import Scene  # noqa: E402
from servers.video2audio.server import build_server  # noqa: E402
from servers.video2audio.styles import STYLES  # noqa: E402

SEGMENT_SECONDS = 4


def write_video(path: Path, *, seconds: float, width: int, height: int, fps: int) -> Path:
    """Encode a moving gradient with a cut every segment, like a chained generated video."""
    x = np.linspace(0, 2 * np.pi, width, dtype=np.float32)
    y = np.linspace(0, np.pi, height, dtype=np.float32)[:, None]
    base = ((np.sin(x + y) * 0.5 + 0.5) * 200 + 20).astype(np.uint8)
    with VideoEncoder(path, width=width, height=height, fps=fps, crf=28) as encoder:
        for index in range(int(seconds * fps)):
            segment = index // (SEGMENT_SECONDS * fps)
            frame = np.roll(base, index * 3 + segment * width // 3, axis=1)
            encoder.write(np.stack([frame, np.roll(frame, 40 * segment, axis=0), frame[::-1]], axis=2))
    return path


def median_seconds(function: Callable[[], object], repeats: int) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def call_tool(settings: Settings, arguments: dict) -> dict:
    async def run() -> dict:
        async with Client(build_server(settings)) as client:
            result = await client.call_tool("video_to_audio", arguments)
        assert not result.is_error, result.content[0].text
        return result.structured_content

    return anyio.run(run)


def analyse_with_swscale(path: Path) -> None:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        frames = [frame.to_ndarray(width=32, height=24, format="rgb24") for frame in container.decode(stream)]
    luma = np.stack(frames).astype(np.float32).mean(axis=3)
    np.abs(np.diff(luma, axis=0)).mean(axis=(1, 2))


def decode_only(path: Path) -> None:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for _ in container.decode(stream):
            pass


def analyse_full_rgb(path: Path) -> None:
    import av

    previous = None
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            rgb = frame.to_ndarray(format="rgb24").astype(np.float32) / 255.0
            luma = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
            if previous is not None:
                float(np.abs(luma - previous).mean())
            previous = luma


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40.0, help="video length in seconds (default 40)")
    parser.add_argument("--width", type=int, default=1024, help="video width in pixels (default 1024)")
    parser.add_argument("--height", type=int, default=768, help="video height in pixels (default 768)")
    parser.add_argument("--fps", type=int, default=30, help="video frame rate (default 30)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per row; the median is printed (default 3)")
    args = parser.parse_args()
    logging.disable(logging.INFO)

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        settings = Settings.from_env("video2audio", environ={}, output_dir=root / "outputs", input_roots=[root])
        started = time.perf_counter()
        video = write_video(root / "video.mp4", seconds=args.seconds, width=args.width, height=args.height, fps=args.fps)
        print(f"video: {args.seconds:g} s {args.width}x{args.height} {args.fps} fps, encoded in {time.perf_counter() - started:.1f} s")
        print(f"median of {args.repeats} runs, seconds\n")

        info = probe(video)
        analysis = analyse_video(video, info, Progress.noop())
        print("| step | time (s) | audio seconds per second |")
        print("| --- | --- | --- |")
        for style in STYLES:
            request = AudioRequest(
                analysis=analysis, scene=Scene(text="a forest stream", source="description", elements=("water", "birds", "wind")),
                style=style, include_sfx=True, volume=0.8, seed=1, sample_rate=44100,
            )  # fmt: skip
            seconds = median_seconds(lambda: ProceduralEngine().generate(request, Progress.noop()), args.repeats)
            print(f"| synthesis only, {style} | {seconds:.2f} | {args.seconds / seconds:.1f} |")
        samples = ProceduralEngine().generate(request, Progress.noop()).samples
        for output_format in AUDIO_FORMATS:
            target = root / f"written.{output_format}"
            seconds = median_seconds(lambda: write_audio(target, samples, 44100, output_format), args.repeats)
            print(f"| writing {output_format} | {seconds:.2f} | {args.seconds / seconds:.1f} |")
        arguments = {"video_url": str(video), "seed": 1}
        seconds = median_seconds(lambda: call_tool(settings, arguments), args.repeats)
        print(f"| whole MCP call (analysis + cinematic + wav) | {seconds:.2f} | {args.seconds / seconds:.1f} |")

        methods = {
            "yuv420p planes (server)": lambda: analyse_video(video, info, Progress.noop()),
            "libswscale to 32x24": lambda: analyse_with_swscale(video),
            "decode only, no analysis": lambda: decode_only(video),
        }
        timings: dict[str, list[float]] = {name: [] for name in methods}
        for _ in range(args.repeats):
            for name, method in methods.items():
                started = time.perf_counter()
                method()
                timings[name].append(time.perf_counter() - started)
        planes = statistics.median(timings["yuv420p planes (server)"])
        full = median_seconds(lambda: analyse_full_rgb(video), 1)
        print("\n| analysis method | time (s) | ratio to planes |\n| --- | --- | --- |")
        for name, values in timings.items():
            print(f"| {name} | {statistics.median(values):.2f} | {statistics.median(values) / planes:.2f} |")
        print(f"| full-size float RGB (1 run) | {full:.2f} | {full / planes:.2f} |")

        segments = root / "segments"
        segments.mkdir()
        segment_paths = []
        for index in range(int(args.seconds // SEGMENT_SECONDS)):
            path = segments / f"segment-{index}.mp4"
            write_video(path, seconds=SEGMENT_SECONDS, width=args.width, height=args.height, fps=args.fps)
            segment_paths.append(path)
        whole = median_seconds(lambda: call_tool(settings, {"video_url": str(video), "seed": 1}), args.repeats)
        longest = 0.0
        total = 0.0
        for path in segment_paths:
            seconds = median_seconds(lambda: call_tool(settings, {"video_url": str(path), "seed": 1}), args.repeats)
            longest = max(longest, seconds)
            total += seconds
        print(f"\n| soundtrack plan | time (s) |\n| --- | --- |")
        print(f"| one call for the whole {args.seconds:g} s | {whole:.2f} |")
        print(f"| {len(segment_paths)} calls of {SEGMENT_SECONDS} s, summed | {total:.2f} |")
        print(f"| one {SEGMENT_SECONDS} s call, the longest (what is left after the last segment renders) | {longest:.2f} |")


if __name__ == "__main__":
    main()
