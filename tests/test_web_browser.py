"""The web page end to end in headless Chromium: language, a workflow, live progress, playback.

Needs Debian's `chromium` package (/usr/bin/chromium) and the `playwright` Python package;
Playwright drives the system browser, so no browser download is involved.
"""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.config import OrchestratorConfig
from orchestrator.web.app import create_app
from orchestrator.web.settings import WebSettings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
WORKFLOW_TIMEOUT_MS = 150_000

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is missing: pip install playwright")
uvicorn = pytest.importorskip("uvicorn")

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def serve(folder: Path, **settings: object) -> Iterator[str]:
    """Serve the real app on a loopback port in a background thread; yield its base URL."""
    app = create_app(
        WebSettings(database_url=f"sqlite:///{folder / 'tasks.db'}", rate_limit=None, **settings),
        OrchestratorConfig(output_dir=folder / "outputs"),
    )
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="web-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the web server did not start within 30 s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(tmp_path_factory.mktemp("web-browser")) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def test_page_language_follows_browser(browser, base_url: str) -> None:
    chinese = browser.new_context(locale="zh-CN")
    english = browser.new_context(locale="en-US")
    chinese_page = chinese.new_page()
    english_page = english.new_page()
    chinese_page.goto(base_url)
    english_page.goto(base_url)

    assert chinese_page.locator("html").get_attribute("lang") == "zh-CN"
    assert chinese_page.locator("#start").inner_text() == "开始生成"
    assert english_page.locator("html").get_attribute("lang") == "en"
    assert english_page.locator("#start").inner_text() == "Start"
    chinese.close()
    english.close()


def test_page_language_switch_persists(browser, base_url: str) -> None:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(base_url)

    page.select_option("#language", "en")
    switched = page.locator("#workflow-form h2").inner_text()
    page.reload()
    reloaded = page.locator("#start").inner_text()

    assert switched == "New video"
    assert reloaded == "Start"
    context.close()


def test_page_runs_workflow_and_plays_video(browser, base_url: str) -> None:
    from PIL import Image, ImageStat

    context = browser.new_context(locale="zh-CN", viewport={"width": 1000, "height": 1400})
    page = context.new_page()
    page.goto(base_url)
    page.fill("#prompt", "宁静的森林中流淌的溪水")
    page.fill("#iterations", "2")
    page.click("details summary")
    page.fill("#width", "128")
    page.fill("#height", "96")
    page.fill("#fps", "8")
    page.fill("#duration", "1")
    page.select_option("#transition-type", "none")
    page.select_option("#audio-style", "nature")

    page.click("#start")
    page.wait_for_selector("#steps li[data-stage='image2video'][data-segment='2']", timeout=WORKFLOW_TIMEOUT_MS)
    live_labels = page.locator("#steps li").all_inner_texts()
    page.wait_for_selector("#task-status[data-status='success']", timeout=WORKFLOW_TIMEOUT_MS)

    video = page.locator("#result-video")
    page.wait_for_function(
        "() => { const v = document.getElementById('result-video'); return v.error || (v.readyState >= 2 && v.currentTime > 0.4); }",
        timeout=30_000,
    )
    error_code = page.evaluate("document.getElementById('result-video').error?.code ?? null")
    playing = page.evaluate("(() => { const v = document.getElementById('result-video'); return [v.currentTime, v.duration, v.videoWidth]; })()")
    frame = Image.open(io.BytesIO(video.screenshot())).convert("RGB")
    keyframe_url = page.evaluate("fetch(location.origin + '/api/tasks?limit=1').then(r => r.json()).then(p => p.tasks[0].result.image_path)")
    keyframe_bytes = page.evaluate(
        "url => fetch(url).then(r => r.arrayBuffer()).then(b => Array.from(new Uint8Array(b)))", keyframe_url
    )
    keyframe = Image.open(io.BytesIO(bytes(keyframe_bytes))).convert("RGB")
    history_status = page.locator("#history tr").first.locator("td").nth(3).inner_text()

    assert any("生成视频片段 · 第 2 段" in label for label in live_labels)
    assert error_code is None, f"the browser could not decode the video (MediaError code {error_code})"
    assert playing[0] > 0.4
    assert abs(playing[1] - 2.0) < 0.2
    assert playing[2] == 128
    width, height = frame.size
    centre = frame.crop((width // 4, height // 4, 3 * width // 4, 3 * height // 4))
    spread = ImageStat.Stat(centre).stddev
    assert max(spread) > 8, f"the video element shows a flat picture (channel spreads {spread})"
    frame_mean = ImageStat.Stat(centre).mean
    keyframe_mean = ImageStat.Stat(keyframe.crop((32, 24, 96, 72))).mean
    assert all(abs(a - b) < 40 for a, b in zip(frame_mean, keyframe_mean)), (frame_mean, keyframe_mean)
    assert history_status == "已完成"
    context.close()


def test_page_asks_for_token(browser, tmp_path: Path) -> None:
    with serve(tmp_path, token="s3cret") as url:
        context = browser.new_context(locale="en-US")
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("#token-panel:not([hidden])")
        page.fill("#token", "s3cret")
        page.click("#save-token")
        page.wait_for_selector("#history-empty:not([hidden])")
        cookies = {cookie["name"]: cookie["value"] for cookie in context.cookies()}
        panel_hidden = page.locator("#token-panel").is_hidden()
        page_info = page.locator("#page-info").inner_text()
        context.close()

    assert panel_hidden
    assert cookies["reasoning_action_token"] == "s3cret"
    assert page_info == "Page 1 of 1 (0 tasks)"
