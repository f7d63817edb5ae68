"""Benchmark of the av_merge server against plain ffmpeg doing the same job, side by side.

    python bench/bench_av_merge.py                 # 10 segments of 4 s, 1024x768, 30 fps
    python bench/bench_av_merge.py --repeats 5 --crossfade-repeats 2

Rows:
- stream copy: `merge_videos` (over one in-memory MCP session, probing and checks included) vs
  `ffmpeg -f concat -c copy`, with and without a 40 s soundtrack (AAC).
- crossfades: `merge_videos` with 1 s `fade` transitions at quality `medium` vs a
  hand-written `xfade` filter graph with the same x264 settings (CRF 23, preset medium).
- peak memory: each join runs in a fresh Python process that reports its own peak RSS and
  the peak RSS of its largest child (ffmpeg), for 2 and 20 segments.

Timings alternate between the two sides, and the median of the repeats is printed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import anyio  # noqa: E402
import anyio.to_thread  # noqa: E402
from mcp import Client  # noqa: E402

from servers.av_merge.server import build_server  # noqa: E402
from servers.shared.media import ffmpeg_exe, run_ffmpeg  # noqa: E402
from servers.shared.settings import Settings  # noqa: E402

WIDTH, HEIGHT, FPS, SEGMENT_SECONDS = 1024, 768, 30, 4
CROSSFADE_SECONDS = 1.0

_MEMORY_PROBE = """
import json, resource, sys, anyio
from mcp import Client
sys.path.insert(0, {root!r})
from servers.av_merge.server import build_server
from servers.shared.settings import Settings

async def main():
    settings = Settings.from_env("av_merge", environ={{}}, output_dir={output!r}, input_roots=[{folder!r}])
    async with Client(build_server(settings)) as client:
        result = await client.call_tool("merge_videos", {arguments!r})
    assert not result.is_error, result.content[0].text
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({{"python_kib": own, "ffmpeg_kib": child, "method": result.structured_content["method"]}}))

anyio.run(main)
"""


def make_segments(folder: Path, count: int) -> list[Path]:
    """Encode `count` distinct 4 s segments with identical x264 settings (so they stream-copy).

    Each segment is the moving test pattern turned to another hue: all come from the same
    source format, so the encoder writes the same SPS/PPS, as for segments of one model.
    """
    segments = []
    for index in range(count):
        path = folder / f"segment-{index:02d}.mp4"
        source = f"testsrc2=size={WIDTH}x{HEIGHT}:rate={FPS}:duration={SEGMENT_SECONDS},hue=h={index * 36}"
        run_ffmpeg(
            ["-f", "lavfi", "-i", source,
             "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", "-g", "60", str(path)],
            what=f"making benchmark segment {index}",
        )  # fmt: skip
        segments.append(path)
    return segments


def make_soundtrack(folder: Path, seconds: float) -> Path:
    path = folder / "soundtrack.wav"
    run_ffmpeg(["-f", "lavfi", "-i", f"sine=frequency=220:duration={seconds}", "-ar", "44100", "-ac", "2", str(path)], what="making audio")
    return path


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def ffmpeg_concat_copy(segments: list[Path], folder: Path, audio: Path | None) -> float:
    list_path = folder / "plain.txt"
    list_path.write_text("".join(f"file '{path}'\n" for path in segments), encoding="utf-8")
    command = [ffmpeg_exe(), "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(list_path)]
    if audio is not None:
        command += ["-i", str(audio), "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", "-shortest"]
    else:
        command += ["-c", "copy"]
    return timed([*command, "-movflags", "+faststart", str(folder / "plain-copy.mp4")])


def ffmpeg_xfade(segments: list[Path], folder: Path) -> float:
    command = [ffmpeg_exe(), "-v", "error", "-y"]
    for path in segments:
        command += ["-i", str(path)]
    steps, previous = [], "0:v"
    for index in range(1, len(segments)):
        offset = index * (SEGMENT_SECONDS - CROSSFADE_SECONDS)
        label = "out" if index == len(segments) - 1 else f"x{index}"
        steps.append(f"[{previous}][{index}:v]xfade=transition=fade:duration={CROSSFADE_SECONDS}:offset={offset}[{label}]")
        previous = label
    command += ["-filter_complex", ";".join(steps), "-map", "[out]", "-c:v", "libx264", "-preset", "medium", "-crf", "23",
                "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(folder / "plain-xfade.mp4")]  # fmt: skip
    return timed(command)


async def merge_call(client: Client, arguments: dict) -> tuple[float, dict]:
    started = time.perf_counter()
    result = await client.call_tool("merge_videos", arguments)
    elapsed = time.perf_counter() - started
    assert not result.is_error, result.content[0].text
    return elapsed, result.structured_content


async def compare(label: str, client: Client, arguments: dict, theirs, repeats: int) -> dict:
    """Time `merge_videos` with `arguments` and the plain-ffmpeg job `theirs`, alternating."""
    our_times, their_times, details = [], [], {}
    for _ in range(repeats):
        elapsed, details = await merge_call(client, arguments)
        our_times.append(elapsed)
        their_times.append(await anyio.to_thread.run_sync(theirs))
    ours_median, theirs_median = statistics.median(our_times), statistics.median(their_times)
    return {"label": label, "ours": ours_median, "ffmpeg": theirs_median, "ratio": ours_median / theirs_median, "details": details}


async def timing_rows(server, segments: list[Path], soundtrack: Path, folder: Path, args: argparse.Namespace) -> list[dict]:
    """Run the timing rows over one MCP session, as a client that makes several calls would."""
    references = [str(path) for path in segments]
    crossfade = {"video_segments": references, "transition_type": "fade", "transition_duration": CROSSFADE_SECONDS,
                 "quality": "medium"}  # fmt: skip
    async with Client(server) as client:
        await merge_call(client, {"video_segments": references[:1]})  # Warm-up: the client caches the output schema.
        rows = [
            await compare("stream copy, video only", client, {"video_segments": references},
                          lambda: ffmpeg_concat_copy(segments, folder, None), args.repeats),
            await compare("stream copy + soundtrack (AAC)", client, {"video_segments": references, "audio_url": str(soundtrack)},
                          lambda: ffmpeg_concat_copy(segments, folder, soundtrack), args.repeats),
        ]  # fmt: skip
        if args.crossfade_repeats:
            rows.append(await compare(f"crossfades {CROSSFADE_SECONDS:g} s, x264 medium CRF 23", client, crossfade,
                                      lambda: ffmpeg_xfade(segments, folder), args.crossfade_repeats))  # fmt: skip
    return rows


def peak_memory(folder: Path, segments: list[Path], output: Path, **arguments) -> dict:
    arguments = {"video_segments": [str(path) for path in segments], **arguments}
    script = _MEMORY_PROBE.format(root=str(ROOT), output=str(output), folder=str(folder), arguments=arguments)
    completed = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=10, help="segments to join (default 10)")
    parser.add_argument("--repeats", type=int, default=5, help="repeats of the stream-copy rows (default 5)")
    parser.add_argument("--crossfade-repeats", type=int, default=2, help="repeats of the crossfade row; 0 skips it (default 2)")
    parser.add_argument("--skip-memory", action="store_true", help="skip the peak-memory rows")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-av-merge-") as temporary:
        folder = Path(temporary)
        print(f"Making {args.segments} segments of {SEGMENT_SECONDS} s, {WIDTH}x{HEIGHT}, {FPS} fps ...", file=sys.stderr)
        segments = make_segments(folder, args.segments)
        soundtrack = make_soundtrack(folder, args.segments * SEGMENT_SECONDS + 2)
        settings = Settings.from_env("av_merge", environ={}, output_dir=folder / "out", input_roots=[folder])
        server = build_server(settings)
        rows = anyio.run(timing_rows, server, segments, soundtrack, folder, args)
        print(f"\n{args.segments} segments of {SEGMENT_SECONDS} s, {WIDTH}x{HEIGHT}, {FPS} fps (median of repeats)\n")
        print("| job | merge_videos | plain ffmpeg | ratio | method |")
        print("| --- | --- | --- | --- | --- |")
        for row in rows:
            print(f"| {row['label']} | {row['ours']:.2f} s | {row['ffmpeg']:.2f} s | {row['ratio']:.2f}x | {row['details']['method']} |")

        if args.skip_memory:
            return
        print("\n| peak memory | 2 segments | 20 segments |")
        print("| --- | --- | --- |")
        cycled = [segments[index % len(segments)] for index in range(20)]
        for label, options in (
            ("stream copy", {}),
            ("crossfades, quality low", {"transition_type": "fade", "transition_duration": CROSSFADE_SECONDS, "quality": "low"}),
        ):
            small = peak_memory(folder, cycled[:2], folder / "out", **options)
            large = peak_memory(folder, cycled, folder / "out", **options)
            print(
                f"| {label}: ffmpeg / Python | {small['ffmpeg_kib'] / 1024:.0f} / {small['python_kib'] / 1024:.0f} MiB "
                f"| {large['ffmpeg_kib'] / 1024:.0f} / {large['python_kib'] / 1024:.0f} MiB |"
            )


if __name__ == "__main__":
    main()
