"""The text2image console entry point: a real stdio subprocess, and the `call` subcommand."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters
from PIL import Image

pytestmark = pytest.mark.anyio

REPOSITORY = Path(__file__).resolve().parents[1]


def _child_env(output_dir: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(output_dir)),
        "PYTHONPATH": str(REPOSITORY),
        "HF_HUB_OFFLINE": "1",
        "REASONING_ACTION_OUTPUT_DIR": str(output_dir),
    }


async def test_stdio_server_call_with_progress(output_dir):
    parameters = StdioServerParameters(
        command=sys.executable, args=["-m", "servers.text2image"], env=_child_env(output_dir), cwd=str(REPOSITORY)
    )
    updates = []

    async def on_progress(done, total, message):
        updates.append((done, total))

    async with Client(parameters) as client:
        tools = await client.list_tools()
        result = await client.call_tool(
            "text_to_image",
            {"prompt": "美丽的日落山景，油画风格", "width": 320, "height": 240, "seed": 9},
            progress_callback=on_progress,
        )
        error = await client.call_tool("text_to_image", {"prompt": "lake", "width": 99})
        resource = await client.read_resource(result.structured_content["resource_uri"])

    assert [tool.name for tool in tools.tools] == ["text_to_image"]
    assert not result.is_error
    path = Path(result.structured_content["path"])
    assert path.parent == output_dir / "images"
    with Image.open(path) as image:
        assert image.size == (320, 240)
    assert updates and updates[-1][0] == updates[-1][1]
    assert error.is_error
    assert "width 99 is not a multiple of 8: use 96" in error.content[0].text
    assert resource.contents[0].mime_type == "image/png"


def test_call_subcommand_prints_result_json(output_dir):
    completed = subprocess.run(
        [sys.executable, "-m", "servers.text2image", "--output-dir", str(output_dir), "call", "text_to_image",
         "prompt=宁静的森林中流淌的溪水", "width=128", "height=96", "seed=4"],
        capture_output=True, text=True, env=_child_env(output_dir), cwd=REPOSITORY, timeout=120,
    )  # fmt: skip

    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["seed"] == 4
    assert result["width"] == 128
    assert Path(result["path"]).is_file()
    assert "[" in completed.stderr


def test_call_subcommand_reports_invalid_input(output_dir):
    completed = subprocess.run(
        [sys.executable, "-m", "servers.text2image", "--output-dir", str(output_dir), "call", "text_to_image", "prompt="],
        capture_output=True, text=True, env=_child_env(output_dir), cwd=REPOSITORY, timeout=120,
    )  # fmt: skip

    assert completed.returncode == 1
    assert "prompt is empty" in completed.stderr
    assert completed.stdout == ""


def test_server_import_does_not_load_torch(output_dir):
    code = (
        "import sys; from servers.shared.settings import Settings; "
        "from servers.text2image.server import build_server; "
        f"build_server(Settings.from_env('text2image', environ={{}}, output_dir={str(output_dir)!r})); "
        "print('torch' in sys.modules, 'diffusers' in sys.modules)"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPOSITORY, timeout=60)

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["False", "False"]
