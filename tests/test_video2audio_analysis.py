"""Video analysis, scene inference from provenance, window planning and mastering."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from servers.shared.worker import Progress
from servers.video2audio.analysis import analyse_video, probe_video
from servers.video2audio.engines.diffusers_engine import plan_windows
from servers.video2audio.mastering import PEAK_CEILING, TARGET_RMS_DBFS, crossfade_join, master
from servers.video2audio.scene import describe_scene, find_provenance_prompt, match_elements
from tests.video2audio_clips import cut_at, moving, still_then_moving, write_clip, write_manifest

FOREST_PROMPT = "宁静的森林中流淌的溪水"


def _analyse(path: Path):
    return analyse_video(path, probe_video(path), Progress.noop())


def test_analysis_motion_rises_when_clip_moves(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "clip.mp4", still_then_moving(2.0), fps=24, frames=96)
    analysis = _analyse(clip)
    level = analysis.motion_level()
    still = level[(analysis.frame_times > 0.1) & (analysis.frame_times < 1.9)]
    busy = level[analysis.frame_times > 2.1]
    assert still.max() < 0.05
    assert busy.min() > 0.9


def test_analysis_reports_duration_and_frames(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "clip.mp4", moving(), fps=25, frames=75)
    summary = _analyse(clip).summary()
    assert summary["duration"] == pytest.approx(3.0, abs=1e-6)
    assert summary["frames_analysed"] == 75
    assert summary["fps"] == 25.0


def test_analysis_finds_cut(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "cut.mp4", cut_at(2.0), fps=24, frames=96)
    analysis = _analyse(clip)
    assert analysis.cuts == pytest.approx([2.0], abs=1 / 24)


def test_analysis_gentle_motion_has_no_cut(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "pan.mp4", moving(), fps=30, frames=90)
    analysis = _analyse(clip)
    assert analysis.cuts == []
    assert analysis.mood in ("gentle", "lively")


def test_analysis_reads_light_and_tint(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "cut.mp4", cut_at(0.5), fps=24, frames=96)
    summary = _analyse(clip).summary()
    assert summary["tint"] == "warm"
    assert summary["brightness_mean"] > 0.5


def test_scene_words_chinese_forest_stream() -> None:
    elements, mood = match_elements(FOREST_PROMPT)
    assert {"water", "birds", "wind"} <= set(elements)
    assert mood == "calm"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("waves crashing on a beach", "waves"),
        ("大海", "waves"),
        ("heavy rain on a roof", "rain"),
        ("下雨的街道", "rain"),
        ("a busy city street", "city"),
        ("城市夜景", "city"),
        ("a summer night with the moon", "crickets"),
        ("夜晚的草地", "crickets"),
        ("a campfire", "fire"),
    ],
)
def test_scene_words_select_element(text: str, expected: str) -> None:
    elements, _ = match_elements(text)
    assert expected in elements


def test_scene_words_match_whole_english_words() -> None:
    elements, _ = match_elements("a train leaves the station")
    assert "rain" not in elements


@pytest.mark.parametrize(
    ("text", "absent"),
    [("油画风格的城市", "wind"), ("岁月静好的小镇", "crickets"), ("三个月后的城市", "crickets"), ("坐火车去旅行", "fire")],
)
def test_scene_words_skip_non_scene_words(text: str, absent: str) -> None:
    elements, _ = match_elements(text)
    assert absent not in elements


def test_provenance_follows_parents_to_prompt(tmp_path: Path) -> None:
    image = tmp_path / "image.png"
    first = tmp_path / "segment-1.mp4"
    second = tmp_path / "segment-2.mp4"
    write_manifest(image, {"tool": "text_to_image", "prompt": FOREST_PROMPT, "parameters": {"prompt": FOREST_PROMPT}, "parents": []})
    write_manifest(first, {"tool": "image_to_video", "parameters": {}, "parents": [str(image)]})
    write_manifest(second, {"tool": "image_to_video", "parameters": {}, "parents": [first.as_uri()]})
    prompt, chain = find_provenance_prompt(second, [tmp_path])
    assert prompt == FOREST_PROMPT
    assert chain == (str(second), str(first), str(image))


def test_provenance_ignores_parent_outside_roots(tmp_path: Path) -> None:
    inside = tmp_path / "inside"
    outside = tmp_path / "outside"
    inside.mkdir()
    outside.mkdir()
    write_manifest(outside / "image.png", {"prompt": FOREST_PROMPT, "parents": []})
    write_manifest(inside / "clip.mp4", {"parameters": {}, "parents": [str(outside / "image.png")]})
    prompt, _ = find_provenance_prompt(inside / "clip.mp4", [inside])
    assert prompt is None


def test_provenance_survives_parent_cycle(tmp_path: Path) -> None:
    first = tmp_path / "a.mp4"
    second = tmp_path / "b.mp4"
    write_manifest(first, {"parameters": {}, "parents": [str(second)]})
    write_manifest(second, {"parameters": {}, "parents": [str(first)]})
    assert find_provenance_prompt(first, [tmp_path]) == (None, ())


def test_scene_description_wins_over_provenance(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    write_manifest(clip, {"prompt": FOREST_PROMPT, "parents": []})
    scene = describe_scene("rain on a city street", clip, [tmp_path])
    assert scene.source == "description"
    assert set(scene.elements) == {"rain", "city"}


@pytest.mark.parametrize(("duration", "window"), [(5.0, 2.048), (47.0, 47.55), (80.0, 47.55), (12.0, 10.0), (2.1, 2.048)])
def test_plan_windows_cover_duration(duration: float, window: float) -> None:
    windows, overlap = plan_windows(duration, window)
    starts = [start for start, _ in windows]
    assert windows[0][0] == 0.0
    assert windows[-1][0] + windows[-1][1] == pytest.approx(duration)
    assert all(length <= window + 1e-9 for _, length in windows)
    assert all(later - earlier == pytest.approx(window - overlap) for earlier, later in zip(starts, starts[1:]))
    assert all(length >= overlap for _, length in windows)


def test_plan_windows_single_window_has_no_overlap() -> None:
    assert plan_windows(4.0, 47.55) == ([(0.0, 4.0)], 0.0)


def test_crossfade_join_length() -> None:
    parts = [np.ones((1000, 2), np.float32)] * 3
    joined = crossfade_join(parts, 200)
    assert joined.shape == (2600, 2)


def test_crossfade_join_keeps_constant_power() -> None:
    rng = np.random.default_rng(0)
    parts = [rng.standard_normal((20000, 2)).astype(np.float32) for _ in range(2)]
    joined = crossfade_join(parts, 10000)
    middle = joined[12000:18000]
    assert np.sqrt(np.mean(middle**2)) == pytest.approx(1.0, rel=0.1)


def test_master_exact_length_fades_and_level() -> None:
    rate = 44100
    loud = np.random.default_rng(1).standard_normal((rate * 2, 2)).astype(np.float32) * 3
    samples = master(loud, rate, frames=rate * 3 + 7, volume=1.0)
    body = samples[rate // 2 : int(rate * 1.5)]
    assert samples.shape == (rate * 3 + 7, 2)
    assert np.abs(samples[0]).max() == 0.0
    assert np.abs(samples[-1]).max() == 0.0
    assert np.abs(samples).max() <= PEAK_CEILING + 1e-6
    assert 20 * np.log10(np.sqrt(np.mean(body**2))) == pytest.approx(TARGET_RMS_DBFS, abs=2.5)


def test_master_volume_scales_linearly() -> None:
    rate = 44100
    signal = np.random.default_rng(2).standard_normal((rate, 2)).astype(np.float32)
    full = master(signal, rate, frames=rate, volume=1.0)
    half = master(signal, rate, frames=rate, volume=0.5)
    assert np.allclose(half, full * 0.5, atol=1e-6)
