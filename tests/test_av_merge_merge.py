"""merge_videos over an in-memory MCP session, on real encodes of small clips."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from servers.shared.media import probe
from servers.shared.mp4_boxes import quarter_turns, video_display_matrix
from tests.av_merge_clips import (  # noqa: F401 (fixtures)
    Clips,
    call,
    clips,
    decoded_audio_samples,
    decoded_audio_seconds,
    frame_levels,
    make_av_settings,
    server,
)

pytestmark = pytest.mark.anyio

FRAME = 1 / 30
AUDIO_FRAME = 1024 / 48_000


async def merge(server, **arguments):
    result = await call(server, "merge_videos", arguments)
    assert not result.is_error, result.content[0].text
    return result.structured_content


async def test_merge_stream_copy_exact_frames(server, clips: Clips) -> None:
    merged = await merge(server, video_segments=[str(clips.light), str(clips.dark), str(clips.mid)])
    info = probe(merged["path"])

    assert merged["method"] == "stream_copy"
    assert merged["stream_copied"] is True
    assert info.frame_count == 30 + 30 + 45
    assert info.duration == pytest.approx(3.5, abs=1e-6)
    assert merged["duration_seconds"] == pytest.approx(3.5, abs=1e-6)
    assert merged["has_audio"] is False


async def test_merge_stream_copy_keeps_segment_order(server, clips: Clips) -> None:
    merged = await merge(server, video_segments=[str(clips.dark), str(clips.light)])
    levels = frame_levels(Path(merged["path"]))

    assert levels[0] == pytest.approx(60, abs=6)
    assert levels[29] == pytest.approx(60, abs=6)
    assert levels[30] == pytest.approx(200, abs=6)
    assert len(levels) == 60


async def test_merge_stream_copy_with_soundtrack(server, clips: Clips) -> None:
    merged = await merge(server, video_segments=[str(clips.light), str(clips.dark)], audio_url=str(clips.long_audio))
    path = Path(merged["path"])

    assert merged["method"] == "stream_copy"
    assert merged["audio_codec"] == "aac"
    assert merged["audio_fit"].startswith("audio was 3.000 s longer than the video: trimmed")
    assert abs(decoded_audio_seconds(path) - 2.0) <= AUDIO_FRAME
    assert abs(merged["audio_duration_seconds"] - merged["duration_seconds"]) <= AUDIO_FRAME


async def test_merge_short_audio_padded_to_video(server, clips: Clips) -> None:
    merged = await merge(
        server, video_segments=[str(clips.light), str(clips.dark), str(clips.mid)], audio_url=str(clips.short_audio)
    )

    assert merged["audio_fit"].startswith("audio was 2.200 s shorter than the video: padded")
    assert abs(decoded_audio_seconds(Path(merged["path"])) - 3.5) <= AUDIO_FRAME


async def test_merge_crossfade_duration_arithmetic(server, clips: Clips) -> None:
    merged = await merge(
        server,
        video_segments=[str(clips.light), str(clips.dark), str(clips.mid)],
        transition_type="fade",
        transition_duration=0.3,
        quality="low",
    )
    info = probe(merged["path"])

    assert merged["method"] == "re_encode"
    assert merged["overlap_seconds"] == pytest.approx(0.6)
    assert merged["expected_duration_seconds"] == pytest.approx(3.5 - 0.6)
    assert info.frame_count == 105 - 2 * 9
    assert info.duration == pytest.approx(2.9, abs=FRAME / 2)
    assert "minus 2 crossfade overlaps of 0.300 s" in merged["duration_rule"]


async def test_merge_crossfade_blends_frames(server, clips: Clips) -> None:
    merged = await merge(
        server, video_segments=[str(clips.light), str(clips.dark)], transition_type="fade", transition_duration=0.4, quality="high"
    )
    levels = frame_levels(Path(merged["path"]))

    # The crossfade covers frames 18..29 (12 frames); its middle is halfway between the two levels.
    assert len(levels) == 48
    assert levels[10] == pytest.approx(200, abs=6)
    assert levels[24] == pytest.approx(130, abs=15)
    assert levels[40] == pytest.approx(60, abs=6)


async def test_merge_fade_black_keeps_sum(server, clips: Clips) -> None:
    merged = await merge(
        server, video_segments=[str(clips.light), str(clips.dark)], transition_type="fade_black", transition_duration=0.4
    )
    levels = frame_levels(Path(merged["path"]))

    assert merged["expected_duration_seconds"] == pytest.approx(2.0)
    assert merged["overlap_seconds"] == 0
    assert len(levels) == 60
    assert min(levels[27:33]) < 30
    assert levels[5] == pytest.approx(200, abs=6)
    assert levels[50] == pytest.approx(60, abs=6)


async def test_merge_mixed_sizes_and_rates_normalised(server, clips: Clips) -> None:
    merged = await merge(server, video_segments=[str(clips.light), str(clips.large), str(clips.dark)], quality="low")
    info = probe(merged["path"])

    assert merged["method"] == "re_encode"
    assert "differs from the first segment in width (64 vs 128)" in merged["re_encode_reason"]
    assert (info.width, info.height) == (64, 48)
    assert info.fps == pytest.approx(30)
    assert info.frame_count == 30 + 30 + 30
    assert info.duration == pytest.approx(3.0, abs=1e-6)


async def test_merge_other_encoder_setup_reencoded(server, clips: Clips) -> None:
    merged = await merge(server, video_segments=[str(clips.light), str(clips.other_crf)], quality="low")

    assert merged["method"] == "re_encode"
    assert merged["re_encode_reason"] == "segment 1 ('other-crf.mp4') differs from the first segment in encoder setup (SPS/PPS)"
    assert merged["frame_count"] == 60


@pytest.mark.parametrize(
    ("first", "second", "reason"),
    [
        ("light", "full_range", "segment 1 ('full-range.mp4') differs from the first segment in encoder setup (SPS/PPS)"),
        ("light", "yuv444", "segment 1 ('yuv444.mp4') differs from the first segment in encoder setup (SPS/PPS)"),
        ("yuv444", "light", "pixel format yuv444p is converted to yuv420p for playback everywhere"),
    ],
)
async def test_merge_other_pixel_format_reencoded(server, clips: Clips, first: str, second: str, reason: str) -> None:
    merged = await merge(server, video_segments=[str(getattr(clips, first)), str(getattr(clips, second))], quality="low")

    assert merged["method"] == "re_encode"
    assert merged["re_encode_reason"] == reason
    assert probe(merged["path"]).pix_fmt == "yuv420p"


async def test_merge_edit_list_cut_reencoded(server, clips: Clips) -> None:
    info = probe(clips.edit_list_cut)
    stored, playing = info.frame_count, round(info.duration * 30)
    with av.open(str(clips.edit_list_cut)) as container:
        hidden = sum(1 for packet in container.demux(video=0) if packet.size and packet.is_discard)

    merged = await merge(server, video_segments=[str(clips.light), str(clips.edit_list_cut)], quality="low")

    assert hidden > 0
    assert merged["method"] == "re_encode"
    assert merged["re_encode_reason"] == f"segment 1 ('edit-list-cut.mp4') stores {stored} frames and its edit list hides {hidden}"
    assert merged["frame_count"] == 30 + playing
    assert len(frame_levels(Path(merged["path"]))) == 30 + playing


async def test_merge_near_keyframe_cut_reencoded(server, clips: Clips) -> None:
    merged = await merge(server, video_segments=[str(clips.near_keyframe_cut)], quality="low")

    assert merged["method"] == "re_encode"
    assert "its edit list hides" in merged["re_encode_reason"]
    assert merged["frame_count"] == len(frame_levels(Path(merged["path"])))
    assert merged["frame_count"] == round(probe(clips.near_keyframe_cut).duration * 30)


async def test_merge_rotated_segment_reencoded_upright(server, clips: Clips) -> None:
    merged = await merge(server, video_segments=[str(clips.light), str(clips.rotated)], quality="low")
    with av.open(merged["path"]) as container:
        frames = [frame.to_ndarray(format="gray") for frame in container.decode(video=0)]

    assert merged["method"] == "re_encode"
    assert merged["re_encode_reason"] == "segment 1 ('rotated.mp4') differs from the first segment in display rotation (its display matrix)"
    assert len(frames) == 60
    assert frames[45].shape == (48, 64)
    # Turned upright, the 48x64 picture fits the 64x48 canvas with black bars left and right.
    assert frames[45][:, :8].mean() < 30
    assert frames[45][:, 28:36].mean() > 150


async def test_merge_rotated_segments_keep_rotation(server, clips: Clips) -> None:
    merged = await merge(server, video_segments=[str(clips.rotated), str(clips.rotated)])

    assert merged["method"] == "stream_copy"
    assert video_display_matrix(Path(merged["path"])) == video_display_matrix(clips.rotated)
    assert quarter_turns(video_display_matrix(clips.rotated)) % 2 == 1


async def test_merge_stream_copy_switched_off(server, clips: Clips) -> None:
    merged = await merge(server, video_segments=[str(clips.light), str(clips.dark)], allow_stream_copy=False, quality="low")

    assert merged["method"] == "re_encode"
    assert merged["frame_count"] == 60


@pytest.mark.parametrize(
    ("output_format", "video_codec", "audio_codec"),
    [("webm", "vp9", "opus"), ("mov", "h264", "aac")],
)
async def test_merge_formats_with_audio(server, clips: Clips, output_format: str, video_codec: str, audio_codec: str) -> None:
    merged = await merge(
        server,
        video_segments=[str(clips.light), str(clips.large)],
        audio_url=str(clips.long_audio),
        output_format=output_format,
        quality="low",
    )
    info = probe(merged["path"])

    assert Path(merged["path"]).suffix == f".{output_format}"
    assert info.video_codec == video_codec
    assert info.audio_codec == audio_codec
    assert info.pix_fmt == "yuv420p"
    assert info.sample_rate == 48_000
    assert info.frame_count == 60
    assert abs(decoded_audio_seconds(Path(merged["path"])) - 2.0) <= AUDIO_FRAME


async def test_merge_webm_segments_stream_copied(server, clips: Clips) -> None:
    merged = await merge(server, video_segments=[str(clips.vp9), str(clips.vp9)], output_format="webm")

    assert merged["method"] == "stream_copy"
    assert merged["frame_count"] == 60
    assert merged["duration_seconds"] == pytest.approx(2.0, abs=FRAME)


async def test_merge_gif_has_palette_and_duration(server, clips: Clips) -> None:
    merged = await merge(server, video_segments=[str(clips.light), str(clips.dark)], output_format="gif", quality="low")
    info = probe(merged["path"])

    assert info.video_codec == "gif"
    assert info.fps == pytest.approx(10)
    assert info.frame_count == 20
    assert merged["has_audio"] is False


async def test_merge_lossless_keeps_levels(server, clips: Clips) -> None:
    merged = await merge(
        server, video_segments=[str(clips.light), str(clips.dark)], allow_stream_copy=False, quality="lossless"
    )
    source = frame_levels(clips.light) + frame_levels(clips.dark)
    output = frame_levels(Path(merged["path"]))

    assert len(output) == len(source)
    assert max(abs(a - b) for a, b in zip(source, output)) < 0.01


async def test_merge_single_segment_ignores_transition(server, clips: Clips) -> None:
    merged = await merge(server, video_segments=[str(clips.mid)], transition_type="fade")

    assert merged["method"] == "stream_copy"
    assert merged["frame_count"] == 45
    assert merged["warnings"] == ["a single segment has no boundary, so no transition was applied"]


async def test_merge_keeps_segment_audio(server, clips: Clips) -> None:
    merged = await merge(server, video_segments=[str(clips.with_audio), str(clips.with_audio)])

    assert merged["method"] == "stream_copy"
    assert merged["has_audio"] is True
    assert merged["audio_fit"].startswith("the segments' own audio tracks, joined")
    assert abs(decoded_audio_seconds(Path(merged["path"])) - 4.0) <= AUDIO_FRAME


async def test_merge_crossfades_segment_audio(server, clips: Clips) -> None:
    merged = await merge(
        server, video_segments=[str(clips.with_audio)] * 3, transition_type="fade", transition_duration=0.5, quality="low"
    )

    assert merged["duration_seconds"] == pytest.approx(5.0, abs=1e-6)
    assert abs(decoded_audio_seconds(Path(merged["path"])) - 5.0) <= AUDIO_FRAME


async def test_merge_fade_black_segment_audio(server, clips: Clips) -> None:
    merged = await merge(
        server, video_segments=[str(clips.with_audio), str(clips.with_audio)], transition_type="fade_black", quality="low"
    )

    samples = decoded_audio_samples(Path(merged["path"]))
    boundary = np.abs(samples[int(1.99 * 48_000) : int(2.01 * 48_000)]).max()
    steady = np.abs(samples[int(1.0 * 48_000) : int(1.2 * 48_000)]).max()

    assert merged["has_audio"] is True
    assert abs(len(samples) / 48_000 - 4.0) <= AUDIO_FRAME
    assert boundary < steady * 0.1


async def test_merge_partial_segment_audio_dropped(server, clips: Clips) -> None:
    merged = await merge(server, video_segments=[str(clips.with_audio), str(clips.light)], quality="low")

    assert merged["has_audio"] is False
    assert merged["warnings"] == [
        "the segments' own audio tracks were dropped because segments [1] have none: pass audio_url to lay one soundtrack"
    ]


async def test_merge_soundtrack_replaces_segment_audio(server, clips: Clips) -> None:
    merged = await merge(server, video_segments=[str(clips.with_audio)], audio_url=str(clips.short_audio))

    assert merged["warnings"] == ["the segments' own audio tracks were replaced by audio_url"]
    assert merged["audio_fit"].startswith("audio was 0.700 s shorter than the video")


async def test_merge_manifest_lists_parents(server, clips: Clips) -> None:
    import json

    merged = await merge(server, video_segments=[str(clips.light), str(clips.dark)], audio_url=str(clips.short_audio))
    manifest = json.loads(Path(merged["path"] + ".json").read_text(encoding="utf-8"))

    assert manifest["parents"] == [str(clips.light), str(clips.dark), str(clips.short_audio)]
    assert manifest["method"] == "stream_copy"


@pytest.mark.parametrize("allow_stream_copy", [True, False])
async def test_merge_chinese_and_quoted_names(server, clips: Clips, allow_stream_copy: bool) -> None:
    import shutil

    renamed = clips.folder / "溪水 it's-01.mp4"
    if not renamed.exists():
        shutil.copyfile(clips.light, renamed)
    merged = await merge(
        server, video_segments=[str(renamed), renamed.as_uri()], allow_stream_copy=allow_stream_copy, quality="low"
    )

    assert merged["frame_count"] == 60
    assert "溪水" in Path(merged["path"]).name
