"""Units of the orchestrator that need no server: config, colour matching, soundtrack join, prompts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile
from PIL import Image

from orchestrator.colour import MAX_MEAN_STEP, colour_statistics, lab_to_rgb, match_colour, rgb_to_lab
from orchestrator.config import ConfigError, load_config
from orchestrator.enhance import enhance_prompt
from orchestrator.soundtrack import join_windows


def _write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "reasoning-action.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_config_reads_stages_and_resolves_paths(tmp_path: Path) -> None:
    path = _write_config(
        tmp_path,
        """
output_dir = "media"
overlap = false

[stages.image2video]
engine = "diffusers"
model = "stabilityai/stable-video-diffusion-img2vid-xt"
timeout_seconds = 3600
retries = 3

[stages.av-merge]
url = "http://127.0.0.1:8104/mcp"

[stages.video2audio]
url = "http://127.0.0.1:8103/sse"
""",
    )
    config = load_config(path)

    assert config.output_dir == (tmp_path / "media").resolve()
    assert config.overlap is False
    assert config.stage("image2video").engine == "diffusers"
    assert config.stage("image2video").timeout_seconds == 3600
    assert config.stage("image2video").retries == 3
    assert config.stage("av_merge").effective_transport == "streamable-http"
    assert config.stage("video2audio").effective_transport == "sse"
    assert config.stage("text2image").effective_transport == "stdio"


def test_config_overlap_follows_where_segments_render(tmp_path: Path) -> None:
    path = _write_config(tmp_path, "[stages.image2video]\nengine = 'diffusers'\n")

    assert load_config(path).overlap is None
    assert load_config(path).overlap_enabled is True


def test_config_unknown_key_rejected(tmp_path: Path) -> None:
    path = _write_config(tmp_path, "[stages.image2video]\nengin = 'motion'\n")

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert "stages.image2video.engin: Extra inputs are not permitted" in str(caught.value)


def test_config_unknown_stage_rejected(tmp_path: Path) -> None:
    path = _write_config(tmp_path, "[stages.upscale]\nengine = 'x'\n")

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert "unknown stage 'upscale'" in str(caught.value)


def test_config_invalid_toml_names_file(tmp_path: Path) -> None:
    path = _write_config(tmp_path, "output_dir = \n")

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert f"config file {path} is not valid TOML" in str(caught.value)


def test_config_server_environment_passes_settings_and_caches(tmp_path: Path) -> None:
    path = _write_config(tmp_path, "[stages.text2image]\nengine = 'diffusers'\nmodel = '/models/sd'\n")
    config = load_config(path)
    env = config.server_environment("text2image", {"HF_HOME": "/cache/hf", "SECRET_THING": "x", "PATH": "/bin"})

    assert env["HF_HOME"] == "/cache/hf"
    assert "SECRET_THING" not in env
    assert env["REASONING_ACTION_TEXT2IMAGE_ENGINE"] == "diffusers"
    assert env["REASONING_ACTION_TEXT2IMAGE_MODEL"] == "/models/sd"
    assert env["REASONING_ACTION_OUTPUT_DIR"] == str(config.output_dir)


def test_colour_lab_round_trip_is_within_one_level() -> None:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)

    back = lab_to_rgb(rgb_to_lab(rgb))

    assert np.max(np.abs(back.astype(int) - rgb.astype(int))) <= 1


def _gradient(brightness: float) -> np.ndarray:
    x, y = np.meshgrid(np.linspace(0, 1, 96), np.linspace(0, 1, 64))
    rgb = np.stack([x * 200, y * 150 + 50, (x + y) * 80], axis=2) * brightness
    return np.clip(rgb, 0, 255).astype(np.uint8)


def test_colour_match_moves_one_capped_step(tmp_path: Path) -> None:
    reference = colour_statistics(_gradient(1.0))
    source = tmp_path / "frame.png"
    Image.fromarray(_gradient(0.7)).save(source)

    match = match_colour(source, reference, tmp_path / "matched.png")

    assert match.applied
    assert match.mean_shift[0] == pytest.approx(MAX_MEAN_STEP[0])
    assert abs(match.difference_after[0]) < abs(match.difference_before[0])
    assert Path(match.output_path).is_file()


def test_colour_match_leaves_matching_frame_alone(tmp_path: Path) -> None:
    frame = _gradient(1.0)
    source = tmp_path / "frame.png"
    Image.fromarray(frame).save(source)

    match = match_colour(source, colour_statistics(frame), tmp_path / "matched.png")

    assert not match.applied
    assert match.output_path == str(source)
    assert not (tmp_path / "matched.png").exists()


def test_colour_match_undoes_drift_over_a_long_chain(tmp_path: Path) -> None:
    reference = colour_statistics(_gradient(1.0))
    frame = tmp_path / "frame-00.png"
    Image.fromarray(_gradient(0.85)).save(frame)
    before = abs(colour_statistics(frame).mean[0] - reference.mean[0])

    for index in range(1, 21):
        frame = Path(match_colour(frame, reference, tmp_path / f"frame-{index:02d}.png").output_path)
    after = abs(colour_statistics(frame).mean[0] - reference.mean[0])

    assert before > 5
    assert after < 0.5


def _tone(seconds: float, rate: int, frequency: float) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    tone = 0.3 * np.sin(2 * np.pi * frequency * t)
    fade = np.minimum(1.0, np.minimum(t / 0.05, (seconds - t) / 0.3))
    return np.stack([tone * fade, tone * fade], axis=1).astype(np.float32)


def test_soundtrack_join_is_exact_and_has_no_dips(tmp_path: Path) -> None:
    rate = 8000
    paths = []
    for index, seconds in enumerate([2.0, 4.0, 4.0]):
        path = tmp_path / f"window-{index}.wav"
        soundfile.write(str(path), _tone(seconds, rate, 220.0), rate)
        paths.append(path)

    joined = join_windows(paths, 2.0, tmp_path / "soundtrack.wav")
    samples, _ = soundfile.read(str(tmp_path / "soundtrack.wav"), always_2d=True)
    envelope = [np.sqrt(np.mean(samples[i : i + 400, 0] ** 2)) for i in range(4000, len(samples) - 4000, 400)]

    assert len(samples) == 6 * rate
    assert joined.duration == 6.0
    assert joined.windows == 3
    # A sine of amplitude 0.3 has an RMS of 0.212; the edge fades of the windows must not show.
    assert min(envelope) > 0.17


def test_enhance_prompt_adds_terms_in_prompt_language() -> None:
    chinese = enhance_prompt("宁静的森林中流淌的溪水")
    english = enhance_prompt("a quiet forest stream, highly detailed")

    assert chinese.language == "zh"
    assert chinese.image_prompt.startswith("宁静的森林中流淌的溪水，")
    assert "细节丰富" in chinese.added_terms
    assert english.language == "en"
    assert "highly detailed" not in english.added_terms
    assert english.negative_prompt is not None


def test_enhance_prompt_keeps_given_negative_prompt() -> None:
    enhancement = enhance_prompt("a stream", negative_prompt="people")

    assert enhancement.negative_prompt == "people"
    assert enhancement.added_negative is False
