"""Rate-limit parsing and windows, and the output folder's URL mapping and confinement."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import HTTPException

from orchestrator.web.outputs import OutputFiles
from orchestrator.web.security import RateLimiter
from orchestrator.web.settings import RateLimit, WebSettings


@pytest.mark.parametrize(
    ("text", "requests", "period"),
    [("30/minute", 30, 60.0), ("5/s", 5, 1.0), ("100 / hour", 100, 3600.0), ("2/second", 2, 1.0)],
)
def test_rate_limit_parse_valid(text: str, requests: int, period: float) -> None:
    limit = RateLimit.parse(text)

    assert limit == RateLimit(requests=requests, period_seconds=period)


@pytest.mark.parametrize("text", ["off", "0", "none"])
def test_rate_limit_parse_off(text: str) -> None:
    assert RateLimit.parse(text) is None


@pytest.mark.parametrize("text", ["30", "ten/minute", "5/day", "0/minute"])
def test_rate_limit_parse_invalid(text: str) -> None:
    with pytest.raises(ValueError, match="rate limit"):
        RateLimit.parse(text)


def test_rate_limiter_rejects_over_limit() -> None:
    limiter = RateLimiter(RateLimit(requests=2, period_seconds=60.0))
    limiter.check("10.0.0.1", now=100.0)
    limiter.check("10.0.0.1", now=101.0)

    with pytest.raises(HTTPException) as raised:
        limiter.check("10.0.0.1", now=102.0)

    assert raised.value.status_code == 429
    assert raised.value.headers == {"Retry-After": "58"}
    assert "at most 2 tasks per 60 s" in raised.value.detail


def test_rate_limiter_counts_clients_apart() -> None:
    limiter = RateLimiter(RateLimit(requests=1, period_seconds=60.0))
    limiter.check("10.0.0.1", now=100.0)

    limiter.check("10.0.0.2", now=100.0)


def test_rate_limiter_window_slides() -> None:
    limiter = RateLimiter(RateLimit(requests=1, period_seconds=10.0))
    limiter.check("10.0.0.1", now=100.0)

    limiter.check("10.0.0.1", now=110.5)


def test_web_settings_reject_zero_workflows(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_concurrent_workflows must be at least 1, got 0"):
        WebSettings(max_concurrent_workflows=0)


def test_web_settings_read_environment() -> None:
    settings = WebSettings.from_env(
        {
            "REASONING_ACTION_API_TOKEN": "secret",
            "REASONING_ACTION_DATABASE_URL": "sqlite:///tmp/x.db",
            "REASONING_ACTION_CORS_ORIGINS": "https://a.example, https://b.example",
            "REASONING_ACTION_RATE_LIMIT": "off",
        },
        port=9000,
    )

    assert settings.token == "secret"
    assert settings.database_url == "sqlite:///tmp/x.db"
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.rate_limit is None
    assert settings.port == 9000


@pytest.fixture
def outputs(tmp_path: Path) -> OutputFiles:
    root = tmp_path / "outputs"
    (root / "images").mkdir(parents=True)
    (root / "images" / "森林.png").write_bytes(b"png")
    (root / "images" / ".partial-1234-x.png").write_bytes(b"half")
    (tmp_path / "secret.txt").write_text("outside")
    (root / "escape").symlink_to(tmp_path / "secret.txt")
    return OutputFiles(root)


def test_outputs_resolve_file(outputs: OutputFiles) -> None:
    assert outputs.resolve("images/%E6%A3%AE%E6%9E%97.png") == outputs.root / "images" / "森林.png"


@pytest.mark.parametrize(
    "relative",
    ["../secret.txt", "images/../../secret.txt", "escape", "images/.partial-1234-x.png", "images", "", "images/missing.png"],
)
def test_outputs_resolve_rejects(outputs: OutputFiles, relative: str) -> None:
    assert outputs.resolve(relative) is None


def test_outputs_publish_replaces_paths(outputs: OutputFiles) -> None:
    image = outputs.root / "images" / "森林.png"
    result = {
        "path": str(image),
        "uri": image.as_uri(),
        "segments": [str(image)],
        "engine": "procedural",
        "elsewhere": "/etc/hostname",
        "width": 64,
    }

    published = outputs.publish(result)

    assert published["path"] == "/outputs/images/%E6%A3%AE%E6%9E%97.png"
    assert published["uri"] == "/outputs/images/%E6%A3%AE%E6%9E%97.png"
    assert published["segments"] == ["/outputs/images/%E6%A3%AE%E6%9E%97.png"]
    assert published["engine"] == "procedural"
    assert published["elsewhere"] == "/etc/hostname"
    assert published["width"] == 64


@pytest.mark.parametrize(
    "reference",
    ["/outputs/images/%E6%A3%AE%E6%9E%97.png", "http://127.0.0.1:8000/outputs/images/%E6%A3%AE%E6%9E%97.png"],
)
def test_outputs_to_input_maps_urls(outputs: OutputFiles, reference: str) -> None:
    assert outputs.to_input(reference) == str(outputs.root / "images" / "森林.png")


def test_outputs_to_input_passes_paths(outputs: OutputFiles) -> None:
    assert outputs.to_input("/data/clip.mp4") == "/data/clip.mp4"
