"""`probe` in full and from headers only, on real mp4 and WebM files."""

from __future__ import annotations

import pytest

from servers.shared.media import probe
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
