"""Benchmark: the orchestrated workflow over MCP against the same engines called in one process.

    python bench/bench_orchestrator.py --iterations 5 --width 512 --height 384

Runs, side by side on the same prompt, seed and sizes:

1. direct: the default engines imported and called in this process, in workflow order
   (keyframe, chained segments, join, soundtrack of the joined video, mux), no MCP at all;
   once cold (engines built and first used) and once warm (the same again);
2. MCP cold: `run_workflow` with overlap off, servers started as stdio subprocesses;
3. MCP warm: the same on the already running servers (as in `reasoning-action mcp` and
   `serve`, which keep them warm);
4. MCP overlap: overlap on (soundtrack windows scored while later segments render), warm.

MCP overhead = (MCP time - direct time) / MCP time, cold against cold and warm against
warm, in wall time and in CPU time of all processes involved (CPU time stays meaningful
on a machine busy with other work). The overlap gain compares 3 and 4 in wall time. The
start-up of the four servers is also timed one after another against all at once.
Prints one table; nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import anyio
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orchestrator.config import OrchestratorConfig  # noqa: E402
from orchestrator.connections import StageConnections  # noqa: E402
from orchestrator.models import WorkflowRequest  # noqa: E402
from orchestrator.workflow import run_workflow  # noqa: E402

PROMPT = "宁静的森林中流淌的溪水"
SEED = 1234


def cpu_seconds() -> float:
    """Return CPU seconds used so far by this process, its live descendants and their reaped children.

    CPU time, unlike wall time, does not grow when other programs compete for the cores,
    so it compares the two ways of running on a busy machine.
    """
    total = 0.0
    for process in [psutil.Process(), *psutil.Process().children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def _own_cpu_seconds() -> float:
    times = psutil.Process().cpu_times()
    return times.user + times.system


def direct_run(output_dir: Path, iterations: int, width: int, height: int, fps: int, duration: float) -> tuple[float, float]:
    """Make the same video with the default engines called directly; return wall and CPU seconds."""
    from servers.av_merge.merge import plan_merge, run_merge
    from servers.image2video.engines import VideoRequest
    from servers.image2video.engines import create_engine as create_video_engine
    from servers.shared.audio_io import write_audio
    from servers.shared.frames import load_rgb_image, save_png
    from servers.shared.media import VideoEncoder, probe
    from servers.shared.settings import Settings
    from servers.shared.worker import Progress
    from servers.text2image.engines import ImageRequest
    from servers.text2image.engines import create_engine as create_image_engine
    from servers.video2audio.analysis import analyse_video, probe_video
    from servers.video2audio.engines import AudioRequest
    from servers.video2audio.engines import create_engine as create_audio_engine
    from servers.video2audio.scene import describe_scene

    output_dir.mkdir(parents=True, exist_ok=True)
    noop = Progress.noop()
    started = time.perf_counter()
    cpu_started = cpu_seconds()

    image_engine = create_image_engine(Settings(stage="text2image", output_dir=output_dir))
    image_request = ImageRequest(
        prompt=PROMPT, negative_prompt=None, width=width, height=height, guidance_scale=7.5, num_inference_steps=50, seed=SEED
    )
    keyframe = output_dir / "keyframe.png"
    image_engine.generate(image_request, noop).image.save(keyframe, format="PNG")

    video_engine = create_video_engine(Settings(stage="image2video", output_dir=output_dir))
    frame_count = round(duration * fps)
    start = keyframe
    segments = []
    for index in range(1, iterations + 1):
        request = VideoRequest(
            image_path=start, image=load_rgb_image(start, what="image"), motion_scale=1.5, fps=float(fps),
            frame_count=frame_count, seed=SEED + index, prompt=PROMPT, num_inference_steps=None,
            last_segment=index == iterations, continuation=None, input_roots=(output_dir,),
        )  # fmt: skip
        segment = output_dir / f"segment-{index:02d}.mp4"
        with VideoEncoder(segment, width=request.width, height=request.height, fps=fps) as encoder:
            output = video_engine.render(request, encoder.write, noop)
        start = output_dir / f"next-{index:02d}.png"
        save_png(output.next_frame, start)
        segments.append(segment)

    infos = [probe(path) for path in segments]
    options = {"output_format": "mp4", "quality": "medium", "transition_type": "none", "transition_duration": 0.5, "allow_stream_copy": True}
    silent = output_dir / "silent.mp4"
    run_merge(plan_merge(segments, infos, **options), silent, noop)  # type: ignore[arg-type]

    audio_engine = create_audio_engine(Settings(stage="video2audio", output_dir=output_dir))
    analysis = analyse_video(silent, probe_video(silent), noop)
    scene = describe_scene(PROMPT, silent, (output_dir,))
    audio_request = AudioRequest(
        analysis=analysis, scene=scene, style="cinematic", include_sfx=True, volume=0.8, seed=SEED, sample_rate=44100
    )
    audio = audio_engine.generate(audio_request, noop)
    soundtrack = output_dir / "soundtrack.wav"
    write_audio(soundtrack, audio.samples, audio.sample_rate, "wav")

    final = output_dir / "final.mp4"
    plan = plan_merge(segments, infos, **options, audio=soundtrack, audio_info=probe(soundtrack))  # type: ignore[arg-type]
    run_merge(plan, final, noop)
    return time.perf_counter() - started, cpu_seconds() - cpu_started


def _request(iterations: int, width: int, height: int, fps: int, duration: float) -> WorkflowRequest:
    return WorkflowRequest.model_validate(
        {
            "prompt": PROMPT,
            "iterations": iterations,
            "auto_enhance": False,
            "workflow_config": {
                "image_config": {"width": width, "height": height, "seed": SEED},
                "video_config": {"fps": fps, "duration": duration},
            },
        }
    )


class TimedConnections(StageConnections):
    """Stage connections that record, per call, the client-side time and the server's own `elapsed_seconds`."""

    def __init__(self, config: OrchestratorConfig) -> None:
        super().__init__(config)
        self.calls: list[tuple[str, float, float]] = []

    async def call(self, stage, tool, arguments, *, on_progress=None):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        result = await super().call(stage, tool, arguments, on_progress=on_progress)
        self.calls.append((f"{stage}.{tool}", time.perf_counter() - started, float(result.get("elapsed_seconds") or 0.0)))
        return result


async def mcp_runs(output_dir: Path, request: WorkflowRequest) -> tuple[dict[str, tuple[float, float]], dict[str, float]]:
    """Time the cold, warm and overlapped orchestrated runs on one set of connections.

    Also returns, for the warm sequential run, the time calls spent outside the servers'
    tool bodies (transport, protocol, validation): client-side call time minus the
    `elapsed_seconds` each tool reports.
    """
    config = OrchestratorConfig(output_dir=output_dir)
    timings: dict[str, tuple[float, float]] = {}
    outside: dict[str, float] = {}
    async with TimedConnections(config) as connections:
        for name, overlap in (("mcp_cold", False), ("mcp_warm", False), ("mcp_overlap", True)):
            connections.calls.clear()
            started = time.perf_counter()
            cpu_started = cpu_seconds()
            own_started = _own_cpu_seconds()
            await run_workflow(request, connections=connections, runs_dir=config.runs_dir, overlap=overlap)
            timings[name] = (time.perf_counter() - started, cpu_seconds() - cpu_started)
            outside[f"own_{name}"] = _own_cpu_seconds() - own_started
            outside[f"calls_{name}"] = sum(client - server for _, client, server in connections.calls)
    return timings, outside


async def startup_runs(output_dir: Path) -> dict[str, float]:
    """Time starting the four stdio servers one after another and all at once."""
    from orchestrator.config import STAGES

    config = OrchestratorConfig(output_dir=output_dir)
    timings: dict[str, float] = {}
    async with StageConnections(config) as connections:
        started = time.perf_counter()
        for stage in STAGES:
            await connections.start(stage)
        timings["start_sequential"] = time.perf_counter() - started
    async with StageConnections(config) as connections:
        started = time.perf_counter()
        await connections.start(*STAGES)
        timings["start_concurrent"] = time.perf_counter() - started
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--height", type=int, default=384)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=1, help="repeat every measurement and keep the fastest")
    args = parser.parse_args()

    request = _request(args.iterations, args.width, args.height, args.fps, args.duration)
    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    outside: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-orchestrator-") as folder:
        for repeat in range(args.repeats):
            root = Path(folder) / f"repeat-{repeat}"
            shape = (args.iterations, args.width, args.height, args.fps, args.duration)
            timings = {
                "direct_cold": direct_run(root / "direct-cold", *shape),
                "direct_warm": direct_run(root / "direct-warm", *shape),
            }
            for name, seconds in anyio.run(startup_runs, root / "startup").items():
                outside[name] = min(outside.get(name, float("inf")), seconds)
            mcp_timings, mcp_outside = anyio.run(mcp_runs, root / "mcp", request)
            timings.update(mcp_timings)
            for name, (wall_seconds, cpu_seconds_used) in timings.items():
                wall[name] = min(wall.get(name, float("inf")), wall_seconds)
                cpu[name] = min(cpu.get(name, float("inf")), cpu_seconds_used)
            for name, seconds in mcp_outside.items():
                outside[name] = min(outside.get(name, float("inf")), seconds)

    video_seconds = args.iterations * args.duration
    print(f"workflow: {args.iterations} x {args.duration:g} s = {video_seconds:g} s of {args.width}x{args.height} at {args.fps} fps")
    print(f"load average before the table: {' '.join(f'{value:.1f}' for value in psutil.getloadavg())} on {psutil.cpu_count()} cores")
    print(f"{'run':<14}{'wall s':>8}{'CPU s':>8}{'baseline':>13}{'wall overhead':>15}{'CPU overhead':>14}")
    baselines = {"mcp_cold": "direct_cold", "mcp_warm": "direct_warm", "mcp_overlap": "direct_warm"}
    for name in ("direct_cold", "direct_warm", "mcp_cold", "mcp_warm", "mcp_overlap"):
        baseline = baselines.get(name)
        row = f"{name:<14}{wall[name]:8.2f}{cpu[name]:8.2f}"
        if baseline is not None:
            wall_overhead = (wall[name] - wall[baseline]) / wall[name] * 100
            cpu_overhead = (cpu[name] - cpu[baseline]) / cpu[name] * 100
            row += f"{baseline:>13}{wall_overhead:14.1f}%{cpu_overhead:13.1f}%"
        print(row)
    print(f"overlap gain in wall time (warm, sequential / overlapped): {wall['mcp_warm'] / wall['mcp_overlap']:.2f}x")
    sequential, concurrent = outside["start_sequential"], outside["start_concurrent"]
    print(
        f"server start-up: {sequential:.2f} s one after another, {concurrent:.2f} s all at once "
        f"({sequential / concurrent:.2f}x; a run starts the later stages while the keyframe renders)"
    )
    for name in ("mcp_cold", "mcp_warm", "mcp_overlap"):
        calls = outside[f"calls_{name}"]
        own = outside[f"own_{name}"]
        print(
            f"{name}: {calls:.2f} s of tool-call time outside the tool bodies (transport, protocol, validation, "
            f"result building) = {calls / wall[name] * 100:.1f}% of its wall time; the orchestrator process used "
            f"{own:.2f} CPU s = {own / cpu[name] * 100:.1f}% of the run's CPU time"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
