"""`probe` in full and from headers only, on real mp4 and WebM files."""

from __future__ import annotations

from pathlib import Path

import pytest

from servers.shared.media import probe, run_ffmpeg
from servers.shared.mp4_boxes import quarter_turns, video_display_matrix
from tests.av_merge_clips import Clips, clips  # noqa: F401 (fixture)


@pytest.mark.parametrize("name", ["light", "with_audio", "yuv444"])
def test_probe_headers_only_matches_full_mp4(clips: Clips, name: str) -> None:  # noqa: F811
    full = probe(getattr(clips, name)).to_dict()
    headers = probe(getattr(clips, name), headers_only=True).to_dict()

    assert headers.pop("pix_fmt") is None
    assert full.pop("pix_fmt") is not None
    assert headers == full


def test_probe_headers_only_reads_webm_in_full(clips: Clips) -> None:  # noqa: F811
    headers = probe(clips.vp9, headers_only=True)

    assert headers == probe(clips.vp9)
    assert headers.pix_fmt == "yuv420p"
    assert headers.duration == pytest.approx(1.0, abs=1 / 30)


@pytest.mark.parametrize(
    ("options", "matrix", "turns"),
    [
        (["-display_rotation", "90"], (0, -65536, 65536, 0), 3),
        (["-display_rotation", "180"], (-65536, 0, 0, -65536), 2),
        (["-display_rotation", "-90"], (0, 65536, -65536, 0), 1),
        (["-display_hflip"], (-65536, 0, 0, 65536), 2),
    ],
)
def test_display_matrix_read_from_track_header(clips: Clips, tmp_path: Path, options: list[str], matrix: tuple, turns: int) -> None:  # noqa: F811
    turned = tmp_path / "turned.mp4"
    run_ffmpeg([*options, "-i", str(clips.light), "-c", "copy", str(turned)], what="setting a display matrix")

    assert video_display_matrix(turned) == matrix
    assert quarter_turns(matrix) == turns
    assert probe(turned, headers_only=True).display_matrix == matrix


@pytest.mark.parametrize("name", ["light", "with_audio", "vp9", "not_video", "empty"])
def test_display_matrix_none_when_upright_or_unreadable(clips: Clips, name: str) -> None:  # noqa: F811
    assert video_display_matrix(getattr(clips, name)) is None
