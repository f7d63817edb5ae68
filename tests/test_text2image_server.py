"""The text2image MCP server over in-memory sessions: schema, results, resources, bad input."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
from mcp import Client
from PIL import Image

from servers.text2image.server import build_server

pytestmark = pytest.mark.anyio

FOREST_PROMPT = "宁静的森林中流淌的溪水"


@pytest.fixture
def server(make_settings):
    return build_server(make_settings("text2image"))


def _error_text(result) -> str:
    return " ".join(block.text for block in result.content if getattr(block, "text", None))


async def test_list_tools_schema_defaults(server):
    async with Client(server) as client:
        tools = (await client.list_tools()).tools

    assert [tool.name for tool in tools] == ["text_to_image"]
    properties = tools[0].input_schema["properties"]
    assert properties["width"]["default"] == 1024
    assert properties["height"]["default"] == 768
    assert properties["guidance_scale"]["default"] == 7.5
    assert properties["num_inference_steps"]["default"] == 50
    assert "multiple of 8" in properties["width"]["description"]
    assert tools[0].input_schema["required"] == ["prompt"]
    output_properties = tools[0].output_schema["properties"]
    for field in ("path", "uri", "resource_uri", "width", "height", "seed", "engine", "model", "elapsed_seconds", "warnings"):
        assert field in output_properties


async def test_text_to_image_chinese_prompt_result(server, output_dir):
    async with Client(server) as client:
        result = await client.call_tool("text_to_image", {"prompt": FOREST_PROMPT, "width": 256, "height": 192, "seed": 7})

    assert not result.is_error, _error_text(result)
    structured = result.structured_content
    path = Path(structured["path"])
    assert path.is_absolute()
    assert path.parent == output_dir / "images"
    assert structured["uri"] == path.as_uri()
    assert structured["seed"] == 7
    assert structured["engine"] == "procedural"
    assert structured["model"] is None
    assert structured["prompt"] == FOREST_PROMPT
    with Image.open(path) as image:
        assert image.size == (256, 192)
        assert image.format == "PNG"
    assert not list(path.parent.glob(".partial-*"))


async def test_text_to_image_manifest_records_provenance(server):
    async with Client(server) as client:
        result = await client.call_tool("text_to_image", {"prompt": FOREST_PROMPT, "width": 128, "height": 96, "seed": 3})

    path = Path(result.structured_content["path"])
    manifest = json.loads(path.with_name(path.name + ".json").read_text(encoding="utf-8"))
    assert manifest["tool"] == "text_to_image"
    assert manifest["prompt"] == FOREST_PROMPT
    assert manifest["parameters"]["width"] == 128
    assert manifest["parameters"]["num_inference_steps"] == 50
    assert manifest["seed"] == 3
    assert manifest["engine"] == "procedural"
    assert manifest["parents"] == []
    assert manifest["elapsed_seconds"] >= 0


async def test_text_to_image_thumbnail_and_resource_link(server):
    async with Client(server) as client:
        result = await client.call_tool("text_to_image", {"prompt": "sunset over the sea", "seed": 1})

    images = [block for block in result.content if block.type == "image"]
    links = [block for block in result.content if block.type == "resource_link"]
    assert len(images) == 1
    assert len(links) == 1
    thumbnail = base64.b64decode(images[0].data)
    assert len(thumbnail) < 1_000_000
    with Image.open(io.BytesIO(thumbnail)) as preview:
        assert preview.size == (512, 384)
    assert str(links[0].uri) == result.structured_content["resource_uri"]
    assert links[0].mime_type == "image/png"
    with Image.open(result.structured_content["path"]) as full:
        assert full.size == (1024, 768)


async def test_resource_read_returns_file_bytes(server):
    async with Client(server) as client:
        result = await client.call_tool("text_to_image", {"prompt": FOREST_PROMPT, "width": 64, "height": 64, "seed": 5})
        path = Path(result.structured_content["path"])
        image_resource = await client.read_resource(result.structured_content["resource_uri"])
        manifest_resource = await client.read_resource(result.structured_content["resource_uri"] + ".json")
        templates = await client.list_resource_templates()

    assert base64.b64decode(image_resource.contents[0].blob) == path.read_bytes()
    assert image_resource.contents[0].mime_type == "image/png"
    assert json.loads(manifest_resource.contents[0].text)["seed"] == 5
    assert {template.uri_template for template in templates.resource_templates} == {
        "artifact://text2image/{name}.png",
        "artifact://text2image/{name}.json",
    }


async def test_resource_read_missing_artifact_fails(server):
    async with Client(server) as client:
        with pytest.raises(Exception, match="not found"):
            await client.read_resource("artifact://text2image/no-such-image.png")


async def test_text_to_image_same_seed_same_bytes(server):
    arguments = {"prompt": "snowy mountains at dawn", "width": 128, "height": 96, "seed": 42}
    async with Client(server) as client:
        first = await client.call_tool("text_to_image", arguments)
        second = await client.call_tool("text_to_image", arguments)

    assert first.structured_content["path"] != second.structured_content["path"]
    assert Path(first.structured_content["path"]).read_bytes() == Path(second.structured_content["path"]).read_bytes()


async def test_text_to_image_random_seed_reported(server):
    async with Client(server) as client:
        result = await client.call_tool("text_to_image", {"prompt": "city at night", "width": 64, "height": 64})

    seed = result.structured_content["seed"]
    assert isinstance(seed, int)
    assert 0 <= seed < 2**32


async def test_text_to_image_progress_notifications(server):
    updates: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        updates.append((done, total, message))

    async with Client(server) as client:
        result = await client.call_tool(
            "text_to_image", {"prompt": FOREST_PROMPT, "width": 128, "height": 96}, progress_callback=on_progress
        )

    assert not result.is_error
    assert len(updates) >= 2
    assert updates[-1][0] == updates[-1][1]
    assert [done for done, _, _ in updates] == sorted(done for done, _, _ in updates)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"prompt": "   "}, "prompt is empty"),
        ({"prompt": "x" * 4001}, "at most 4000"),
        ({"prompt": "lake", "width": 1001}, "width 1001 is not a multiple of 8: use 1000"),
        ({"prompt": "lake", "height": 4096}, "height 4096 is outside 64..2048 pixels: use 2048"),
        ({"prompt": "lake", "width": 32}, "width 32 is outside 64..2048 pixels: use 64"),
        ({"prompt": "lake", "num_inference_steps": 0}, "num_inference_steps 0 is outside 1..150"),
        ({"prompt": "lake", "num_inference_steps": 500}, "num_inference_steps 500 is outside 1..150"),
        ({"prompt": "lake", "guidance_scale": -1}, "guidance_scale -1.0 is outside 0..30"),
        ({"prompt": "lake", "guidance_scale": 100}, "guidance_scale 100.0 is outside 0..30"),
        ({"prompt": "lake", "seed": -5}, "seed -5 is outside 0..4294967295"),
        ({"prompt": "lake", "width": "wide"}, "width"),
    ],
)
async def test_text_to_image_invalid_input(server, output_dir, arguments, expected):
    async with Client(server) as client:
        result = await client.call_tool("text_to_image", arguments)
        follow_up = await client.call_tool("text_to_image", {"prompt": "lake", "width": 64, "height": 64, "seed": 1})

    assert result.is_error
    assert expected in _error_text(result)
    assert not follow_up.is_error
    assert len(list((output_dir / "images").glob("*.png"))) == 1


async def test_text_to_image_rejects_misspelled_argument(server, output_dir):
    async with Client(server) as client:
        tools = await client.list_tools()
        result = await client.call_tool("text_to_image", {"prompt": "lake", "widht": 128, "height": 96})

    assert tools.tools[0].input_schema["additionalProperties"] is False
    assert result.is_error
    assert "widht" in _error_text(result)
    assert "Extra inputs are not permitted" in _error_text(result)
    assert not (output_dir / "images").exists() or not list((output_dir / "images").glob("*.png"))
