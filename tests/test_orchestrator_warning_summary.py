"""Repeated segment warnings are listed once with their segment numbers."""

from __future__ import annotations

from orchestrator.warning_summary import merge_repeated

PROMPT = "the motion engine does not read text: the prompt only named the output files"


def test_merge_repeated_joins_segment_numbers():
    warnings = [f"image2video {index}: {PROMPT}" for index in (1, 2, 3, 5)]

    assert merge_repeated(warnings) == [f"image2video 1-3, 5: {PROMPT}"]


def test_merge_repeated_keeps_order_and_others():
    warnings = [
        f"image2video 1: {PROMPT}",
        "text2image: the prompt was shortened",
        "image2video 2: the start image is a colour-edited next frame (fit PSNR 56.5 dB)",
        f"image2video 2: {PROMPT}",
        "video2audio window 1: quiet input",
        "video2audio window 2: quiet input",
    ]

    assert merge_repeated(warnings) == [
        f"image2video 1-2: {PROMPT}",
        "text2image: the prompt was shortened",
        "image2video 2: the start image is a colour-edited next frame (fit PSNR 56.5 dB)",
        "video2audio window 1-2: quiet input",
    ]


def test_merge_repeated_other_text_apart():
    warnings = ["image2video 1: first text", "image2video 2: second text"]

    assert merge_repeated(warnings) == warnings
