"""The procedural engine: prompt parsing in English and Chinese, painting, styles, progress, cancellation."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from servers.shared.errors import GenerationCancelledError
from servers.shared.worker import Progress
from servers.text2image.engines.base import ImageRequest
from servers.text2image.engines.procedural import UNRECOGNISED_PROMPT_WARNING, ProceduralEngine
from servers.text2image.procedural.layout import plan_layout
from servers.text2image.procedural.painter import plan_stages
from servers.text2image.procedural.scene import parse_prompt

SUNSET_PROMPT = "美丽的日落山景，油画风格"
FOREST_PROMPT = "宁静的森林中流淌的溪水"


class RecordingProgress(Progress):
    """Progress handle that records every call (the base class throttles what it sends)."""

    def __init__(self, cancel_after: int | None = None) -> None:
        super().__init__()
        self.calls: list[tuple[float, float | None, str | None]] = []
        self.cancel_after = cancel_after

    def __call__(self, done: float, total: float | None = None, message: str | None = None) -> None:
        self.calls.append((done, total, message))
        if self.cancel_after is not None and len(self.calls) > self.cancel_after:
            self.cancel_event.set()
        super().__call__(done, total, message)


def make_request(prompt: str, *, width: int = 256, height: int = 192, seed: int = 7, negative_prompt: str | None = None) -> ImageRequest:
    return ImageRequest(
        prompt=prompt,
        negative_prompt=negative_prompt,
        width=width,
        height=height,
        guidance_scale=7.5,
        num_inference_steps=30,
        seed=seed,
    )


def paint(prompt: str, **options: object) -> np.ndarray:
    output = ProceduralEngine().generate(make_request(prompt, **options), Progress.noop())  # type: ignore[arg-type]
    return np.asarray(output.image, dtype=np.float32) / 255.0


def green_share(pixels: np.ndarray) -> float:
    totals = pixels.reshape(-1, 3).sum(axis=0)
    return float(totals[1] / totals.sum())


def gradient_energy(pixels: np.ndarray) -> float:
    """Mean absolute difference between neighbouring pixels: high for texture, low for smooth washes."""
    grey = pixels.mean(axis=2)
    return float(np.abs(np.diff(grey, axis=0)).mean() + np.abs(np.diff(grey, axis=1)).mean())


ENGLISH_CASES = [
    ("a sunset over the hills", "sunset", {"hills"}),
    ("sunrise at dawn in the valley", "dawn", {"mountains", "meadow"}),
    ("a starry night", "night", {"stars"}),
    ("sunny day at the beach", "day", {"beach", "sea"}),
    ("snowy mountains", "day", {"mountains", "snow"}),
    ("a dense forest with tall trees", "day", {"forest", "trees"}),
    ("a stream and a river", "day", {"stream", "river"}),
    ("a lake with a waterfall", "day", {"lake", "waterfall", "mountains"}),
    ("the ocean", "day", {"sea"}),
    ("city skyline with skyscrapers", "day", {"city"}),
    ("desert dunes", "day", {"desert"}),
    ("a meadow full of flowers", "day", {"meadow", "flowers"}),
    ("rain and fog", "day", {"rain", "fog", "clouds"}),
    ("a rainbow over the northern lights", "night", {"rainbow", "aurora"}),
    ("falling snowflakes", "day", {"snow", "snowfall"}),
]

CHINESE_CASES = [
    ("日落", "sunset", set()),
    ("黄昏的山", "sunset", {"mountains"}),
    ("夕阳下的湖", "sunset", {"lake"}),
    ("日出", "dawn", set()),
    ("黎明时的海", "dawn", {"sea"}),
    ("清晨的草地", "dawn", {"meadow"}),
    ("夜晚的城市", "night", {"city"}),
    ("星空", "night", {"stars"}),
    ("月亮", "night", {"moon"}),
    ("山景", "day", {"mountains"}),
    ("山峰", "day", {"mountains"}),
    ("森林", "day", {"forest"}),
    ("树林里的树", "day", {"forest", "trees"}),
    ("溪水", "day", {"stream"}),
    ("流淌的河", "day", {"stream", "river"}),
    ("湖", "day", {"lake"}),
    ("瀑布", "day", {"waterfall", "mountains"}),
    ("海洋", "day", {"sea"}),
    ("海滩", "day", {"beach", "sea"}),
    ("雪", "day", {"snow"}),
    ("冬天", "day", {"snow"}),
    ("城市街道和高楼", "day", {"city"}),
    ("沙漠", "day", {"desert"}),
    ("草地上的花", "day", {"meadow", "flowers"}),
    ("雨", "day", {"rain"}),
    ("雾", "day", {"fog"}),
    ("彩虹", "day", {"rainbow"}),
    ("极光", "night", {"aurora"}),
]

STYLE_CASES = [
    ("oil painting", "oil"),
    ("油画风格", "oil"),
    ("watercolour", "watercolor"),
    ("水彩", "watercolor"),
    ("ink wash", "ink"),
    ("水墨", "ink"),
    ("pencil sketch", "sketch"),
    ("素描", "sketch"),
    ("pixel art", "pixel"),
    ("像素", "pixel"),
    ("anime", "cartoon"),
    ("卡通", "cartoon"),
]


@pytest.mark.parametrize(("prompt", "time", "elements"), ENGLISH_CASES)
def test_parse_prompt_english_keywords(prompt: str, time: str, elements: set[str]) -> None:
    scene = parse_prompt(prompt)
    assert scene.time == time
    assert elements <= set(scene.elements)


@pytest.mark.parametrize(("prompt", "time", "elements"), CHINESE_CASES)
def test_parse_prompt_chinese_keywords(prompt: str, time: str, elements: set[str]) -> None:
    scene = parse_prompt(prompt)
    assert scene.time == time
    assert elements <= set(scene.elements)


@pytest.mark.parametrize(("prompt", "style"), STYLE_CASES)
def test_parse_prompt_styles(prompt: str, style: str) -> None:
    assert parse_prompt(f"mountains, {prompt}").style == style


def test_parse_prompt_example_prompts() -> None:
    sunset = parse_prompt(SUNSET_PROMPT)
    forest = parse_prompt(FOREST_PROMPT)
    assert (sunset.time, sunset.elements, sunset.style) == ("sunset", ("mountains",), "oil")
    assert (forest.time, forest.elements, forest.style) == ("day", ("forest", "stream"), None)


@pytest.mark.parametrize(("prompt", "absent"), [("岁月静好的小镇", "moon"), ("三个月后的街道", "moon"), ("星期天的公园", "stars")])
def test_parse_prompt_skips_non_scene_words(prompt: str, absent: str) -> None:
    scene = parse_prompt(prompt)
    assert absent not in scene.elements
    assert scene.time == "day"


@pytest.mark.parametrize(
    ("prompt", "element"),
    [("一轮明月初升", "moon"), ("两个月亮挂在夜空", "moon"), ("站在礁石上海风吹拂", "sea"), ("黎明星空下的湖", "stars"), ("河南岸的芦苇", "river")],
)
def test_parse_prompt_overlapping_words_keep_scene(prompt: str, element: str) -> None:
    assert element in parse_prompt(prompt).elements


def test_parse_prompt_longest_keyword_consumes_text() -> None:
    scene = parse_prompt("银河")
    assert "stars" in scene.elements
    assert "river" not in scene.elements


def test_parse_prompt_english_needs_whole_words() -> None:
    assert parse_prompt("a seahorse in a seashell").elements == ()
    assert "sea" in parse_prompt("the seas").elements


def test_parse_prompt_first_time_of_day_wins() -> None:
    assert parse_prompt("sunset, later night").time == "sunset"
    assert parse_prompt("夜晚，不是日落").time == "night"


def test_parse_prompt_negative_prompt_excludes_elements() -> None:
    scene = parse_prompt("mountains and a city by the lake", negative_prompt="city, buildings")
    assert "city" not in scene.elements
    assert scene.excluded == ("city",)
    assert {"mountains", "lake"} <= set(scene.elements)


def test_parse_prompt_unrecognised_prompt() -> None:
    scene = parse_prompt("a cat sitting on a sofa")
    assert scene.recognised is False
    assert scene.elements == ()


def test_parse_prompt_style_alone_is_not_a_scene() -> None:
    assert parse_prompt("an oil painting of a cat").recognised is False


def test_engine_reports_scene_details() -> None:
    output = ProceduralEngine().generate(make_request("日落时分湖面倒映着群山，水彩"), Progress.noop())
    scene = output.details["scene"]
    assert scene["time"] == "sunset"
    assert set(scene["elements"]) == {"mountains", "lake"}
    assert scene["style"] == "watercolor"
    assert output.warnings == []


def test_engine_warns_about_unrecognised_prompt() -> None:
    output = ProceduralEngine().generate(make_request("a cat sitting on a sofa"), Progress.noop())
    assert output.warnings == [UNRECOGNISED_PROMPT_WARNING]
    assert "landscapes only" in output.warnings[0]
    assert "diffusers engine" in output.warnings[0]
    assert output.details["scene"]["recognised"] is False
    assert output.details["scene"]["elements"]
    assert output.image.size == (256, 192)


def test_engine_same_seed_same_bytes() -> None:
    first = ProceduralEngine().generate(make_request(SUNSET_PROMPT, seed=11), Progress.noop())
    second = ProceduralEngine().generate(make_request(SUNSET_PROMPT, seed=11), Progress.noop())
    assert first.image.tobytes() == second.image.tobytes()


def test_engine_seeds_give_different_compositions() -> None:
    first = paint(FOREST_PROMPT, seed=1)
    second = paint(FOREST_PROMPT, seed=2)
    assert np.abs(first - second).mean() > 0.04


def test_engine_unrecognised_prompt_depends_on_seed() -> None:
    first = paint("a cat sitting on a sofa", seed=1)
    second = paint("a cat sitting on a sofa", seed=2)
    assert np.abs(first - second).mean() > 0.04


@pytest.mark.parametrize(("width", "height"), [(64, 64), (2048, 64), (64, 2048), (136, 200), (320, 240)])
def test_engine_exact_output_size(width: int, height: int) -> None:
    prompt = "sunset over snowy mountains, a forest, a river, a lake, a city, flowers, rain, oil painting"
    output = ProceduralEngine().generate(make_request(prompt, width=width, height=height), Progress.noop())
    assert output.image.size == (width, height)
    assert output.image.mode == "RGB"


@pytest.mark.parametrize(
    "prompt",
    [
        "海滩 日出 像素",
        "沙漠 卡通 彩虹",
        "夜晚城市 雨 素描",
        "极光 冰湖 水墨",
        "瀑布 雾 水彩",
        "下雪的冬天森林",
        "秋天的树和草原上的花",
    ],
)
def test_engine_paints_every_element_combination(prompt: str) -> None:
    pixels = paint(prompt, width=128, height=96)
    assert pixels.shape == (96, 128, 3)
    assert pixels.std() > 0.03


def test_example_prompts_sunset_sky_is_warm() -> None:
    pixels = paint(SUNSET_PROMPT, width=384, height=288)
    red, green, blue = pixels[: pixels.shape[0] // 3].reshape(-1, 3).mean(axis=0)
    assert red > green > blue
    assert red - blue > 0.2


def test_example_prompts_forest_is_greener() -> None:
    sunset = paint(SUNSET_PROMPT, width=384, height=288)
    forest = paint(FOREST_PROMPT, width=384, height=288)
    assert green_share(forest) > green_share(sunset) + 0.08
    assert green_share(forest) > 0.36


def test_example_prompts_stream_is_bluer() -> None:
    width, height, seed = 384, 288, 7
    pixels = paint(FOREST_PROMPT, width=width, height=height, seed=seed)
    layout = plan_layout(parse_prompt(FOREST_PROMPT), width, height, seed)
    assert layout.stream_center is not None and layout.stream_half_width is not None
    row = height - 4
    centre = int(layout.stream_center[row])
    reach = max(int(layout.stream_half_width[row] * 0.5), 1)
    water = pixels[row - 6 : row, centre - reach : centre + reach].reshape(-1, 3).mean(axis=0)
    land = pixels[int(height * 0.6) :].reshape(-1, 3).mean(axis=0)
    assert water[2] > water[0]
    assert water[2] / water.sum() > land[2] / land.sum() + 0.1


def test_example_prompts_differ_clearly() -> None:
    sunset = paint(SUNSET_PROMPT, width=384, height=288)
    forest = paint(FOREST_PROMPT, width=384, height=288)
    assert np.abs(sunset - forest).mean() > 0.15


def test_style_oil_adds_brush_texture() -> None:
    plain = paint("sunset over mountains", width=384, height=288)
    oil = paint("sunset over mountains, oil painting", width=384, height=288)
    assert np.abs(plain - oil).mean() > 0.02
    assert gradient_energy(oil) > gradient_energy(plain) * 1.5


def test_style_watercolor_is_smoother() -> None:
    plain = paint("a forest by a lake", width=384, height=288)
    watercolor = paint("a forest by a lake, watercolor", width=384, height=288)
    assert gradient_energy(watercolor) < gradient_energy(plain) * 0.85


@pytest.mark.parametrize("style", ["ink wash", "pencil sketch"])
def test_style_monochrome_styles_drop_colour(style: str) -> None:
    pixels = paint(f"a forest by a lake, {style}", width=384, height=288)
    body = pixels[: int(pixels.shape[0] * 0.8)]
    spread = (body.max(axis=2) - body.min(axis=2)).mean()
    assert spread < 0.1


def test_style_pixel_art_uses_blocks_and_few_colours() -> None:
    pixels = paint("a beach at sunset, pixel art", width=384, height=288)
    block = 3
    assert np.array_equal(pixels[:, 0::block][:, :-1], pixels[:, 1::block][:, : pixels[:, 0::block].shape[1] - 1])
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) <= 32


def test_progress_counts_up_to_total() -> None:
    progress = RecordingProgress()
    ProceduralEngine().generate(make_request(SUNSET_PROMPT), progress)
    done = [call[0] for call in progress.calls]
    totals = {call[1] for call in progress.calls}
    assert done == sorted(done)
    assert len(set(done)) == len(done)
    assert totals == {len(plan_stages(parse_prompt(SUNSET_PROMPT)))}
    assert done[-1] == progress.calls[-1][1]
    assert all(message for _, _, message in progress.calls)


def test_cancelled_before_start_raises() -> None:
    cancel_event = threading.Event()
    cancel_event.set()
    with pytest.raises(GenerationCancelledError):
        ProceduralEngine().generate(make_request(FOREST_PROMPT), Progress(cancel_event=cancel_event))


def test_cancelled_midway_stops_painting() -> None:
    progress = RecordingProgress(cancel_after=2)
    with pytest.raises(GenerationCancelledError):
        ProceduralEngine().generate(make_request(FOREST_PROMPT), progress)
    assert len(progress.calls) == 3
