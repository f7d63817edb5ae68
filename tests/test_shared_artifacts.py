"""The artifact store: safe names, atomic writes, manifests, and inputs confined to the roots."""

from __future__ import annotations

import json
import os
import time

import pytest

from servers.shared.artifacts import MAX_NAME_BYTES, STALE_PARTIAL_SECONDS, ArtifactStore, make_file_name, read_manifest, resolve_input_path, source_label
from servers.shared.errors import InputNotFoundError, InvalidInputError

LONG_CHINESE_PROMPT = "美丽的日落山景，油画风格，" * 40


def test_make_file_name_long_chinese_prompt_fits(tmp_path):
    name = make_file_name(LONG_CHINESE_PROMPT, ".png")

    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES
    assert "美丽的日落山景" in name
    assert name.endswith(".png")
    (tmp_path / name).write_bytes(b"ok")
    assert (tmp_path / name).read_bytes() == b"ok"


def test_make_file_name_strips_separators():
    name = make_file_name("../../etc/passwd\x00 evil\\name", ".png")

    assert "/" not in name
    assert "\\" not in name
    assert "\x00" not in name
    assert ".." not in name


def test_make_file_name_unique_for_same_hint():
    assert make_file_name("lake", ".png") != make_file_name("lake", ".png")


def test_store_create_renames_on_success(tmp_path):
    store = ArtifactStore(tmp_path, kind="images", resource_prefix="artifact://test/")
    with store.create("lake", ".png") as (temporary_path, final_path):
        temporary_path.write_bytes(b"data")
        assert not final_path.exists()

    assert final_path.read_bytes() == b"data"
    assert not temporary_path.exists()
    assert store.artifact_for(final_path).resource_uri == "artifact://test/" + final_path.name


def test_store_create_removes_partial_on_error(tmp_path):
    store = ArtifactStore(tmp_path, kind="images", resource_prefix="artifact://test/")
    with pytest.raises(RuntimeError, match="encoder crashed"):
        with store.create("lake", ".png") as (temporary_path, final_path):
            temporary_path.write_bytes(b"half")
            raise RuntimeError("encoder crashed")

    assert list((tmp_path / "images").iterdir()) == []


def test_store_resource_uri_percent_encodes_chinese(tmp_path):
    store = ArtifactStore(tmp_path, kind="images", resource_prefix="artifact://test/")
    with store.create("宁静的森林", ".png") as (temporary_path, final_path):
        temporary_path.write_bytes(b"x")

    uri = store.artifact_for(final_path).resource_uri
    assert uri.isascii()
    assert "%E5%AE%81" in uri


def test_manifest_round_trip(tmp_path):
    store = ArtifactStore(tmp_path, kind="images", resource_prefix="artifact://test/")
    artifact = tmp_path / "a.png"
    artifact.write_bytes(b"x")
    store.write_manifest(artifact, {"prompt": "宁静的森林中流淌的溪水", "seed": 1})

    assert read_manifest(artifact) == {"prompt": "宁静的森林中流淌的溪水", "seed": 1}
    assert "宁静" in (tmp_path / "a.png.json").read_text(encoding="utf-8")
    assert read_manifest(tmp_path / "missing.png") is None


def test_read_manifest_ignores_corrupt_file(tmp_path):
    (tmp_path / "a.png.json").write_text("{not json", encoding="utf-8")

    assert read_manifest(tmp_path / "a.png") is None


def test_store_find_rejects_traversal(tmp_path):
    store = ArtifactStore(tmp_path, kind="images", resource_prefix="artifact://test/")

    with pytest.raises(InvalidInputError, match="not a plain file name"):
        store.find("../secret.png")
    with pytest.raises(InputNotFoundError):
        store.find("missing.png")


@pytest.fixture
def roots(tmp_path):
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "image.png").write_bytes(b"png")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.png").write_bytes(b"secret")
    return allowed, outside


def test_resolve_input_accepts_path_uri_and_relative(roots):
    allowed, _ = roots
    target = allowed / "image.png"

    assert resolve_input_path(str(target), [allowed]) == target
    assert resolve_input_path(target.as_uri(), [allowed]) == target
    assert resolve_input_path("image.png", [allowed]) == target


def test_resolve_input_rejects_outside_roots(roots):
    allowed, outside = roots

    with pytest.raises(InvalidInputError, match="outside the allowed folders") as raised:
        resolve_input_path(str(outside / "secret.png"), [allowed], what="image_url")
    assert "--input-root" in str(raised.value)
    assert "image_url" in str(raised.value)


def test_resolve_input_rejects_traversal(roots):
    allowed, _ = roots

    with pytest.raises(InvalidInputError, match="outside the allowed folders"):
        resolve_input_path(str(allowed / ".." / "outside" / "secret.png"), [allowed])


def test_resolve_input_rejects_symlink_escape(roots):
    allowed, outside = roots
    os.symlink(outside / "secret.png", allowed / "link.png")

    with pytest.raises(InvalidInputError, match="outside the allowed folders"):
        resolve_input_path(str(allowed / "link.png"), [allowed])


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("", "is empty"),
        ("http://example.com/a.png", "uses scheme 'http'"),
        ("file://otherhost/a.png", "names host 'otherhost'"),
    ],
)
def test_resolve_input_rejects_bad_references(roots, reference, expected):
    allowed, _ = roots

    with pytest.raises(InvalidInputError, match=expected):
        resolve_input_path(reference, [allowed])


def test_resolve_input_missing_file(roots):
    allowed, _ = roots

    with pytest.raises(InputNotFoundError, match="not found"):
        resolve_input_path(str(allowed / "nope.png"), [allowed])


def test_resolve_input_rejects_folder(roots):
    allowed, _ = roots
    (allowed / "sub").mkdir()

    with pytest.raises(InvalidInputError, match="not a regular file"):
        resolve_input_path(str(allowed / "sub"), [allowed])


def test_source_label_strips_stamp_and_id(tmp_path):
    stored = tmp_path / (make_file_name("s000-宁静的森林", ".mp4"))

    assert source_label(stored) == "s000-宁静的森林"
    assert source_label(tmp_path / "merged-20261204-210428-s000-lake-a738a147.mp4") == "s000-lake"
    assert source_label(tmp_path / "holiday clip.mp4") == "holiday clip"


def test_store_removes_stale_partials(tmp_path):
    folder = tmp_path / "video"
    folder.mkdir()
    stale, fresh, finished = folder / ".partial-0a1b2c3d-old.mp4", folder / ".partial-4e5f6a7b-new.mp4", folder / "done.mp4"
    for path in (stale, fresh, finished):
        path.write_bytes(b"data")
    old_time = time.time() - STALE_PARTIAL_SECONDS - 60
    os.utime(stale, (old_time, old_time))
    os.utime(finished, (old_time, old_time))

    ArtifactStore(tmp_path, kind="video", resource_prefix="artifact://video/")

    assert not stale.exists()
    assert fresh.exists()
    assert finished.exists()


def test_store_without_folder_removes_nothing(tmp_path):
    store = ArtifactStore(tmp_path, kind="image", resource_prefix="artifact://image/")

    assert store.remove_stale_partials() == []
    assert not (tmp_path / "image").exists()
