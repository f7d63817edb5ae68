"""Duration arithmetic, transition validation, presets and stream-copy checks, without encoding."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from servers.av_merge.concat import CopySignature, copy_signature, stream_copy_blocker, write_concat_list
from servers.av_merge.export import audio_encoder_arguments, gif_filter, video_encoder_arguments
from servers.av_merge.mux import AudioFit, fit_audio_filter
from servers.av_merge.normalise import canvas_for, segment_frame_count
from servers.av_merge.transitions import plan_timeline, segment_piece_filter
from servers.shared.errors import InvalidInputError
from servers.shared.media import MediaInfo

FPS = Fraction(30)
NAMES = [f"segment-{index}.mp4" for index in range(10)]


def video_info(width: int = 1024, height: int = 768, fps: float = 30.0, duration: float = 4.0) -> MediaInfo:
    return MediaInfo(path="clip.mp4", duration=duration, format_name="mp4", has_video=True, width=width, height=height, fps=fps)


def signature(**changes: object) -> CopySignature:
    fields = {"codec": "h264", "width": 64, "height": 48, "pix_fmt": "yuv420p", "fps": 30.0, "time_base": "1/15360",
              "profile": "High", "extradata_sha1": "abc"}  # fmt: skip
    return CopySignature(**{**fields, **changes})


def test_timeline_no_transition_sums_segments() -> None:
    timeline = plan_timeline([120] * 10, FPS, "none", 1.0, segment_names=NAMES)

    assert timeline.total_frames == 1200
    assert timeline.duration == 40.0
    assert timeline.overlap_seconds == 0


def test_timeline_crossfade_subtracts_overlaps() -> None:
    timeline = plan_timeline([120] * 10, FPS, "fade", 1.0, segment_names=NAMES)

    assert timeline.transition_frames == 30
    assert timeline.overlap_seconds == 9.0
    assert timeline.duration == 31.0


def test_timeline_fade_black_keeps_sum() -> None:
    timeline = plan_timeline([120] * 10, FPS, "fade_black", 1.0, segment_names=NAMES)

    assert timeline.duration == 40.0
    assert timeline.overlap_frames == 0


def test_timeline_transition_rounded_to_frames() -> None:
    timeline = plan_timeline([120, 120], FPS, "fade", 0.51, segment_names=NAMES)

    assert timeline.transition_frames == 15
    assert timeline.transition_seconds == 0.5


def test_timeline_single_segment_has_no_transition() -> None:
    timeline = plan_timeline([120], FPS, "fade", 1.0, segment_names=NAMES)

    assert timeline.transition_type == "none"
    assert timeline.duration == 4.0


def test_timeline_inner_segment_limits_crossfade() -> None:
    with pytest.raises(InvalidInputError, match=r"too long for segment 1 \('segment-1.mp4', 2 s\).*below 1 s"):
        plan_timeline([120, 60, 120], FPS, "fade", 1.0, segment_names=NAMES)


def test_timeline_end_segment_allows_longer_crossfade() -> None:
    timeline = plan_timeline([60, 120], FPS, "fade", 1.5, segment_names=NAMES)

    assert timeline.duration == 4.5


def test_timeline_fade_black_limit_is_double() -> None:
    with pytest.raises(InvalidInputError, match=r"too long for segment 1 .*below 2 s"):
        plan_timeline([120, 60, 120], FPS, "fade_black", 2.0, segment_names=NAMES)


@pytest.mark.parametrize("duration", [0.0, -1.0, 10.5])
def test_timeline_rejects_duration_outside_range(duration: float) -> None:
    with pytest.raises(InvalidInputError, match=f"transition_duration {duration} is outside 0..10 seconds"):
        plan_timeline([120, 120], FPS, "fade", duration, segment_names=NAMES)


def test_crossfade_part_offsets() -> None:
    timeline = plan_timeline([120, 120, 120], FPS, "fade", 1.0, segment_names=NAMES)
    canvas = canvas_for(video_info())
    first = segment_piece_filter(timeline, 0, canvas, "part")
    middle = segment_piece_filter(timeline, 1, canvas, "part")
    last = segment_piece_filter(timeline, 2, canvas, "part")

    assert "[normalised]trim=start_frame=0," in first
    assert "[own][next]xfade=transition=fade:duration=1.000000:offset=3.000000[part]" in first
    assert "[normalised]trim=start_frame=30," in middle
    assert "[own][next]xfade=transition=fade:duration=1.000000:offset=2.000000[part]" in middle
    assert "xfade" not in last
    assert last.endswith("[normalised]trim=start_frame=30,setpts=PTS-STARTPTS[part]")


def test_crossfade_part_reads_next_head() -> None:
    timeline = plan_timeline([120, 120], FPS, "fade", 1.0, segment_names=NAMES)
    part = segment_piece_filter(timeline, 0, canvas_for(video_info()), "part")

    assert "[1:v:0]setpts=PTS-STARTPTS," in part
    assert "trim=end_frame=30,settb=AVTB,setpts=N/FRAME_RATE/TB[next]" in part


def test_fade_black_parts_split_transition() -> None:
    timeline = plan_timeline([120, 120], FPS, "fade_black", 1.0, segment_names=NAMES)
    canvas = canvas_for(video_info())

    assert segment_piece_filter(timeline, 0, canvas, "part").endswith("[normalised]fade=t=out:s=105:n=15[part]")
    assert segment_piece_filter(timeline, 1, canvas, "part").endswith("[normalised]fade=t=in:s=0:n=15[part]")


def test_no_transition_part_is_normalised_segment() -> None:
    timeline = plan_timeline([120, 90], FPS, "none", 1.0, segment_names=NAMES)
    part = segment_piece_filter(timeline, 1, canvas_for(video_info()), "part")

    assert part.startswith("[0:v:0]setpts=PTS-STARTPTS,scale=1024:768:force_original_aspect_ratio=decrease")
    assert part.endswith("fps=30/1,tpad=stop=2:stop_mode=clone,trim=end_frame=90,settb=AVTB,setpts=N/FRAME_RATE/TB[part]")


def test_canvas_rounds_odd_size_up() -> None:
    canvas = canvas_for(video_info(width=101, height=75, fps=30000 / 1001))

    assert (canvas.width, canvas.height) == (102, 76)
    assert canvas.fps == Fraction(30000, 1001)


def test_segment_frame_count_at_canvas_rate() -> None:
    canvas = canvas_for(video_info(fps=30))

    assert segment_frame_count(video_info(fps=25, duration=4.0), canvas) == 120


def test_stream_copy_allowed_for_identical_segments() -> None:
    blocker = stream_copy_blocker([signature()] * 3, NAMES, pix_fmt="yuv420p", allowed_codecs=frozenset({"h264"}), output_format="mp4")

    assert blocker is None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"fps": 25.0}, "segment 1 ('segment-1.mp4') differs from the first segment in fps (30.0 vs 25.0)"),
        ({"time_base": "1/12800"}, "differs from the first segment in time_base (1/15360 vs 1/12800)"),
        ({"extradata_sha1": "def"}, "differs from the first segment in encoder setup (SPS/PPS)"),
        ({"pix_fmt": "yuv444p"}, "differs from the first segment in pix_fmt (yuv420p vs yuv444p)"),
    ],
)
def test_stream_copy_blocked_by_mismatch(change: dict[str, object], expected: str) -> None:
    blocker = stream_copy_blocker(
        [signature(), signature(**change)], NAMES, pix_fmt="yuv420p", allowed_codecs=frozenset({"h264"}), output_format="mp4"
    )

    assert blocker is not None
    assert expected in blocker


def test_stream_copy_blocked_by_container() -> None:
    blocker = stream_copy_blocker([signature()], NAMES, pix_fmt="yuv420p", allowed_codecs=frozenset({"vp9"}), output_format="webm")

    assert blocker == "webm output needs re-encoding h264 video"


def test_stream_copy_blocked_by_pixel_format() -> None:
    blocker = stream_copy_blocker([signature()], NAMES, pix_fmt="yuv444p", allowed_codecs=frozenset({"h264"}), output_format="mp4")

    assert blocker == "pixel format yuv444p is converted to yuv420p for playback everywhere"


def test_concat_list_quotes_paths(tmp_path: Path) -> None:
    list_path = tmp_path / "list.ffconcat"
    write_concat_list([Path("/clips/it's.mp4"), Path("/clips/溪水.mp4")], [4.0, 2.5], list_path)

    assert list_path.read_text(encoding="utf-8").splitlines() == [
        "ffconcat version 1.0",
        "file '/clips/it'\\''s.mp4'",
        "duration 4.000000",
        "file '/clips/溪水.mp4'",
        "duration 2.500000",
    ]


@pytest.mark.parametrize(
    ("output_format", "quality", "expected"),
    [
        ("mp4", "low", ["-c:v", "libx264", "-preset", "veryfast", "-crf", "28"]),
        ("mp4", "medium", ["-c:v", "libx264", "-preset", "medium", "-crf", "23"]),
        ("mov", "high", ["-c:v", "libx264", "-preset", "slow", "-crf", "18"]),
        ("mp4", "lossless", ["-c:v", "libx264", "-preset", "veryfast", "-qp", "0"]),
        ("webm", "medium", ["-c:v", "libvpx-vp9", "-crf", "32", "-b:v", "0"]),
        ("webm", "lossless", ["-c:v", "libvpx-vp9", "-lossless", "1"]),
    ],
)
def test_video_preset_arguments(output_format: str, quality: str, expected: list[str]) -> None:
    arguments = video_encoder_arguments(output_format, quality)

    assert arguments[: len(expected)] == expected
    assert arguments[arguments.index("-pix_fmt") + 1] == "yuv420p"


def test_mp4_output_has_faststart() -> None:
    assert "+faststart" in video_encoder_arguments("mp4", "medium")


@pytest.mark.parametrize(
    ("output_format", "quality", "codec"),
    [("mp4", "medium", "aac"), ("mov", "lossless", "pcm_s16le"), ("webm", "high", "libopus")],
)
def test_audio_encoder_per_format(output_format: str, quality: str, codec: str) -> None:
    arguments = audio_encoder_arguments(output_format, quality)

    assert arguments[1] == codec
    assert arguments[-2:] == ["-ar", "48000"]


def test_gif_filter_caps_fps_and_uses_palette() -> None:
    graph = gif_filter("in", "low", 30.0, "out")

    assert graph.startswith("[in]fps=10,split")
    assert "palettegen=max_colors=64" in graph
    assert graph.endswith("paletteuse=dither=bayer:bayer_scale=3[out]")


def test_audio_fit_trims_with_fade() -> None:
    fit = AudioFit(audio_seconds=45.0, video_seconds=40.0, fade_seconds=0.5)
    chain = fit_audio_filter("1:a", fit, "audio")

    assert fit.action == "trimmed"
    assert "apad=whole_len=1920000,atrim=end_sample=1920000" in chain
    assert chain.endswith("afade=t=out:st=39.500000:d=0.500000[audio]")


def test_audio_fit_pads_without_fade() -> None:
    fit = AudioFit(audio_seconds=12.0, video_seconds=40.0, fade_seconds=0.5)
    chain = fit_audio_filter("1:a", fit, "audio")

    assert fit.action == "padded"
    assert "afade" not in chain
    assert fit.describe() == "audio was 28.000 s shorter than the video: padded with silence"


def test_copy_signature_ignores_fields_fixed_by_extradata() -> None:
    full = MediaInfo(path="a.mp4", duration=1.0, format_name="mp4", has_video=True, video_codec="h264", pix_fmt="yuv420p",
                     video_profile="High", video_extradata_sha1="abc")  # fmt: skip
    headers_only = MediaInfo(path="b.mp4", duration=1.0, format_name="mp4", has_video=True, video_codec="h264",
                             video_extradata_sha1="abc")  # fmt: skip

    assert copy_signature(full) == copy_signature(headers_only)
