"""`python -m orchestrator.web` as a real process: options, and a workflow that survives a restart."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_service(tmp_path: Path, port: int, *options: str) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "orchestrator.web",
        "--port", str(port),
        "--output-dir", str(tmp_path / "outputs"),
        "--database-url", f"sqlite:///{tmp_path / 'tasks.db'}",
        "--log-level", "info",
        *options,
    ]  # fmt: skip
    log_path = tmp_path / f"service-{port}-{time.monotonic_ns()}.log"
    with open(log_path, "wb") as log:
        environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=environment)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the service exited with {process.returncode}: {log_path.read_text(errors='replace')}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    pytest.fail("the service did not answer /healthz within 60 s")


def stop_service(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


def wait_for(url: str, condition: Any, timeout: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        task = httpx.get(url, timeout=5).json()
        if condition(task) or time.monotonic() > deadline:
            return task
        time.sleep(0.2)


def test_serve_rejects_bad_rate_limit() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "orchestrator.web", "--rate-limit", "ten/minute"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )

    assert completed.returncode == 2
    assert "rate limit 'ten/minute' is invalid" in completed.stderr


@pytest.mark.slow
def test_serve_restart_resumes_workflow(tmp_path: Path) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    body = {
        "prompt": "宁静的森林中流淌的溪水",
        "iterations": 2,
        "workflow_config": {"image_config": {"width": 128, "height": 96, "seed": 5}, "video_config": {"fps": 8, "duration": 1.0}},
    }

    first = start_service(tmp_path, port)
    task_id = httpx.post(f"{base}/api/workflow", json=body, timeout=10).json()["task_id"]
    running = wait_for(
        f"{base}/api/tasks/{task_id}",
        lambda task: task["status"] not in ("pending", "processing")
        or any(step["stage"] == "image2video" and step["progress"] == 100 for step in task["steps"]),
    )
    first_exit = stop_service(first)

    second = start_service(tmp_path, port)
    final = wait_for(f"{base}/api/tasks/{task_id}", lambda task: task["status"] in ("success", "failed", "cancelled"))
    manifest = httpx.get(base + final["result"]["manifest_path"], timeout=5).json() if final["result"] else None
    stop_service(second)

    assert running["status"] == "processing"
    assert first_exit == -signal.SIGTERM  # uvicorn shuts down cleanly, then re-raises the signal
    assert final["status"] == "success", final["error"]
    assert final["result"]["workflow_summary"]["segments_count"] == 2
    assert manifest["attempts"] == 2
