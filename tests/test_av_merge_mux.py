"""mux_audio and probe_media over an in-memory MCP session."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from servers.shared.media import probe
from tests.av_merge_clips import (  # noqa: F401 (fixtures)
    Clips,
    call,
    clips,
    decoded_audio_seconds,
    make_av_settings,
    server,
)

pytestmark = pytest.mark.anyio

AUDIO_FRAME = 1024 / 48_000


async def mux(server, **arguments):
    result = await call(server, "mux_audio", arguments)
    assert not result.is_error, result.content[0].text
    return result.structured_content


def video_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(packet) for packet in container.demux(video=0) if packet.size]


def audio_spectrum_peaks(path: Path) -> set[int]:
    """Return the frequencies (Hz, rounded to 10) whose magnitude is above a third of the maximum."""
    with av.open(str(path)) as container:
        samples = np.concatenate([frame.to_ndarray().mean(axis=0) for frame in container.decode(audio=0)])
    spectrum = np.abs(np.fft.rfft(samples[: 48_000]))
    frequencies = np.fft.rfftfreq(len(samples[: 48_000]), 1 / 48_000)
    return {int(round(f, -1)) for f in frequencies[spectrum > spectrum.max() / 3]}


async def test_mux_replace_trims_long_audio(server, clips: Clips) -> None:
    muxed = await mux(server, video_url=str(clips.mid), audio_url=str(clips.long_audio))
    path = Path(muxed["path"])

    assert muxed["audio_action"] == "trimmed"
    assert muxed["video_stream_copied"] is True
    assert muxed["duration_seconds"] == pytest.approx(1.5, abs=1e-6)
    assert abs(decoded_audio_seconds(path) - 1.5) <= AUDIO_FRAME
    assert probe(path).audio_codec == "aac"


async def test_mux_video_stream_copied_bit_exact(server, clips: Clips) -> None:
    muxed = await mux(server, video_url=str(clips.mid), audio_url=str(clips.short_audio))

    assert video_packets(Path(muxed["path"])) == video_packets(clips.mid)


async def test_mux_pads_short_audio(server, clips: Clips) -> None:
    muxed = await mux(server, video_url=str(clips.with_audio), audio_url=str(clips.short_audio))

    assert muxed["audio_action"] == "padded"
    assert abs(decoded_audio_seconds(Path(muxed["path"])) - 2.0) <= AUDIO_FRAME


async def test_mux_replace_drops_old_audio(server, clips: Clips) -> None:
    muxed = await mux(server, video_url=str(clips.with_audio), audio_url=str(clips.long_audio), mode="replace")

    assert audio_spectrum_peaks(Path(muxed["path"])) == {440}


async def test_mux_mix_keeps_both_tracks(server, clips: Clips) -> None:
    muxed = await mux(server, video_url=str(clips.with_audio), audio_url=str(clips.long_audio), mode="mix")

    assert audio_spectrum_peaks(Path(muxed["path"])) == {330, 440}
    assert abs(decoded_audio_seconds(Path(muxed["path"])) - 2.0) <= AUDIO_FRAME


async def test_mux_mix_without_audio_warns(server, clips: Clips) -> None:
    muxed = await mux(server, video_url=str(clips.light), audio_url=str(clips.short_audio), mode="mix")

    assert muxed["warnings"] == ["the video had no audio track to mix with, so the new audio was laid alone"]


async def test_mux_webm_uses_opus(server, clips: Clips) -> None:
    muxed = await mux(server, video_url=str(clips.vp9), audio_url=str(clips.long_audio))
    info = probe(muxed["path"])

    assert info.audio_codec == "opus"
    assert info.sample_rate == 48_000
    assert abs(decoded_audio_seconds(Path(muxed["path"])) - 1.0) <= AUDIO_FRAME


async def test_mux_rejects_gif_video(server, clips: Clips) -> None:
    merged = await call(server, "merge_videos", {"video_segments": [str(clips.light)], "output_format": "gif", "quality": "low"})
    result = await call(server, "mux_audio", {"video_url": merged.structured_content["path"], "audio_url": str(clips.short_audio)})

    assert result.is_error is True
    assert "is not an mp4, mov or webm file: convert it with merge_videos first" in result.content[0].text


async def test_mux_rejects_volume_out_of_range(server, clips: Clips) -> None:
    result = await call(server, "mux_audio", {"video_url": str(clips.light), "audio_url": str(clips.short_audio), "volume": 9})

    assert result.is_error is True
    assert "volume 9.0 is outside 0..4" in result.content[0].text


async def test_mux_rejects_video_without_audio_source(server, clips: Clips) -> None:
    result = await call(server, "mux_audio", {"video_url": str(clips.light), "audio_url": str(clips.dark)})

    assert result.is_error is True
    assert "audio_url 'dark.mp4' has no audio stream" in result.content[0].text


async def test_probe_media_video_with_audio(server, clips: Clips) -> None:
    result = await call(server, "probe_media", {"path": str(clips.with_audio)})
    probed = result.structured_content

    assert result.is_error is False
    assert probed["duration_seconds"] == pytest.approx(2.0, abs=1 / 30)
    assert probed["fps"] == pytest.approx(30)
    assert probed["frame_count"] == 60
    assert (probed["width"], probed["height"]) == (64, 48)
    assert probed["video_codec"] == "h264"
    assert probed["has_audio"] is True
    assert probed["audio_codec"] == "aac"
    assert probed["audio_duration_seconds"] == pytest.approx(2.0, abs=AUDIO_FRAME)


async def test_probe_media_audio_only(server, clips: Clips) -> None:
    result = await call(server, "probe_media", {"path": clips.long_audio.as_uri()})
    probed = result.structured_content

    assert probed["has_video"] is False
    assert probed["has_audio"] is True
    assert probed["audio_duration_seconds"] == pytest.approx(5.0)
    assert probed["sample_rate"] == 44_100


async def test_probe_media_webm_audio_length(server, clips: Clips) -> None:
    muxed = await mux(server, video_url=str(clips.vp9), audio_url=str(clips.short_audio))
    result = await call(server, "probe_media", {"path": muxed["path"]})

    assert result.structured_content["frame_count"] == 30
    assert result.structured_content["audio_duration_seconds"] == pytest.approx(1.0, abs=AUDIO_FRAME)


async def test_probe_media_summary_text(server, clips: Clips) -> None:
    result = await call(server, "probe_media", {"path": str(clips.light)})

    assert result.content[0].text == "light.mp4: 1.000 s; video h264 64x48 at 30 fps, 30 frames; no audio"
