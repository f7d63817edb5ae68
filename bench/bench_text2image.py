"""Time the procedural text-to-image engine per image size and painting style.

Run: `python bench/bench_text2image.py [--repeats N]`. For each size and prompt it prints the
median wall-clock and CPU seconds of N runs and the wall time per megapixel. One run on one
machine compares sizes and styles side by side.
"""

from __future__ import annotations

import argparse
import statistics
import time

from servers.shared.worker import Progress
from servers.text2image.engines.base import ImageRequest
from servers.text2image.engines.procedural import ProceduralEngine

SIZES = ((512, 384), (1024, 768), (2048, 2048))
PROMPTS = (
    ("sunset mountains, oil", "美丽的日落山景，油画风格"),
    ("forest stream, no style", "宁静的森林中流淌的溪水"),
    ("lake at sunset, watercolor", "日落时分湖面倒映着群山，水彩"),
)


def time_generation(prompt: str, width: int, height: int, repeats: int) -> tuple[float, float]:
    """Return the median wall-clock and CPU seconds of `repeats` generations."""
    engine = ProceduralEngine()
    walls, cpus = [], []
    for seed in range(repeats):
        request = ImageRequest(
            prompt=prompt, negative_prompt=None, width=width, height=height,
            guidance_scale=7.5, num_inference_steps=50, seed=seed,
        )
        wall, cpu = time.perf_counter(), time.process_time()
        engine.generate(request, Progress.noop())
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="generations per size and prompt (default 3)")
    args = parser.parse_args()

    print(f"{'size':>10}  {'prompt':<28} {'wall s':>7} {'cpu s':>7} {'s/MP':>6}")
    for width, height in SIZES:
        repeats = 1 if width * height > 2_000_000 else args.repeats
        for label, prompt in PROMPTS:
            wall, cpu = time_generation(prompt, width, height, repeats)
            megapixels = width * height / 1e6
            print(f"{width:>5}x{height:<4}  {label:<28} {wall:7.2f} {cpu:7.2f} {wall / megapixels:6.2f}")


if __name__ == "__main__":
    main()
