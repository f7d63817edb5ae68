"""Settings from the environment and the command line."""

from __future__ import annotations

import pytest

from servers.shared.cli import parse_tool_arguments
from servers.shared.errors import InvalidInputError
from servers.shared.settings import Settings


def test_settings_from_env_reads_stage_variables(tmp_path):
    environ = {
        "REASONING_ACTION_OUTPUT_DIR": str(tmp_path / "out"),
        "REASONING_ACTION_INPUT_ROOTS": f"{tmp_path / 'a'}:{tmp_path / 'b'}",
        "REASONING_ACTION_TEXT2IMAGE_ENGINE": "diffusers",
        "REASONING_ACTION_TEXT2IMAGE_MODEL": "stabilityai/sd-turbo",
        "REASONING_ACTION_IMAGE2VIDEO_ENGINE": "motion",
        "REASONING_ACTION_DEVICE": "cpu",
    }
    settings = Settings.from_env("text2image", environ=environ)

    assert settings.output_dir == (tmp_path / "out").resolve()
    assert settings.input_roots == ((tmp_path / "out").resolve(), (tmp_path / "a").resolve(), (tmp_path / "b").resolve())
    assert settings.engine == "diffusers"
    assert settings.model == "stabilityai/sd-turbo"
    assert settings.device == "cpu"


def test_settings_overrides_beat_environment(tmp_path):
    environ = {"REASONING_ACTION_OUTPUT_DIR": str(tmp_path / "env"), "REASONING_ACTION_INPUT_ROOTS": str(tmp_path / "a")}
    settings = Settings.from_env(
        "text2image", environ=environ, output_dir=tmp_path / "cli", input_roots=[tmp_path / "c"], engine=None
    )

    assert settings.output_dir == (tmp_path / "cli").resolve()
    assert settings.input_roots[1:] == ((tmp_path / "a").resolve(), (tmp_path / "c").resolve())
    assert settings.engine is None


def test_settings_round_trip_through_env(tmp_path):
    original = Settings.from_env("image2video", environ={}, output_dir=tmp_path, engine="motion", input_roots=[tmp_path / "x"])

    assert Settings.from_env("image2video", environ=original.to_env()) == original


@pytest.mark.parametrize(("field", "value"), [("device", "tpu"), ("dtype", "float8")])
def test_settings_rejects_unknown_device_or_dtype(tmp_path, field, value):
    with pytest.raises(InvalidInputError, match=f"{field} must be one of"):
        Settings.from_env("text2image", environ={}, output_dir=tmp_path, **{field: value})


def test_parse_tool_arguments_keeps_json_types():
    arguments = parse_tool_arguments(["prompt=宁静的溪水", "width=512", "include_sfx=true", "segments=[\"a\", \"b\"]"])

    assert arguments == {"prompt": "宁静的溪水", "width": 512, "include_sfx": True, "segments": ["a", "b"]}


def test_parse_tool_arguments_rejects_missing_equals():
    with pytest.raises(SystemExit, match="key=value"):
        parse_tool_arguments(["width"])


def test_ensure_output_dir_rejects_a_file(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("x", encoding="utf-8")
    settings = Settings.from_env("text2image", environ={}, output_dir=blocker)

    with pytest.raises(InvalidInputError, match="cannot be used") as raised:
        settings.ensure_output_dir()
    assert "--output-dir" in str(raised.value)


def test_ensure_output_dir_creates_missing_folder(tmp_path):
    settings = Settings.from_env("text2image", environ={}, output_dir=tmp_path / "a" / "b")

    assert settings.ensure_output_dir().is_dir()


def test_server_main_start_errors_exit_2(tmp_path, capsys):
    from servers.text2image.__main__ import main

    blocker = tmp_path / "afile"
    blocker.write_text("x", encoding="utf-8")

    assert main(["--output-dir", str(blocker), "call", "text_to_image", "prompt=sea"]) == 2
    assert f"output folder {blocker} cannot be used" in capsys.readouterr().err
    assert main(["--output-dir", str(tmp_path / "out"), "--engine", "svd", "call", "text_to_image", "prompt=sea"]) == 2
    assert "unknown text2image engine 'svd': use one of procedural, diffusers" in capsys.readouterr().err


def test_server_main_rejects_port_out_of_range(capsys):
    from servers.text2image.__main__ import main

    with pytest.raises(SystemExit):
        main(["--transport", "streamable-http", "--port", "99999"])
    assert "invalid port 99999: use a number from 1 to 65535" in capsys.readouterr().err
