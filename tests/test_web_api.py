"""HTTP API contract over real stage servers (stdio subprocesses, default CPU engines).

Each test builds the app on a temporary SQLite file and output folder and drives it with
Starlette's TestClient, which runs the app's lifespan (and so the task runner) for real.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from orchestrator.config import OrchestratorConfig
from orchestrator.web.app import create_app
from orchestrator.web.db import Database
from orchestrator.web.models import TaskRow
from orchestrator.web.settings import RateLimit, WebSettings
from orchestrator.web.store import utc_now
from orchestrator.web.tasks import CANCELLED_MESSAGE, INTERRUPTED_MESSAGE

FINISHED = ("success", "failed", "cancelled")
TASK_KEYS = {"task_id", "status", "progress", "result", "error", "created_at", "updated_at", "metadata", "message", "steps"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def tiny_image(prompt: str = "宁静的森林中流淌的溪水") -> dict[str, Any]:
    return {"prompt": prompt, "width": 64, "height": 64, "num_inference_steps": 2, "seed": 7}


def tiny_workflow(
    iterations: int = 1, *, fps: int = 8, duration: float = 1.0, size: tuple[int, int] = (128, 96)
) -> dict[str, Any]:
    return {
        "prompt": "宁静的森林中流淌的溪水",
        "iterations": iterations,
        "workflow_config": {
            "image_config": {"width": size[0], "height": size[1], "seed": 11},
            "video_config": {"fps": fps, "duration": duration},
            "audio_config": {"audio_style": "nature"},
        },
    }


def build_client(tmp_path: Path, **settings: Any) -> TestClient:
    settings.setdefault("database_url", f"sqlite:///{tmp_path / 'tasks.db'}")
    config = OrchestratorConfig(output_dir=tmp_path / "outputs")
    return TestClient(create_app(WebSettings(**settings), config))


def follow(client: TestClient, task_id: str, **headers: str) -> list[dict[str, Any]]:
    """Return every task object the WebSocket sends until it closes."""
    messages = []
    with client.websocket_connect(f"/ws/tasks/{task_id}", headers=headers) as socket:
        while True:
            try:
                messages.append(socket.receive_json())
            except WebSocketDisconnect:
                return messages


def insert_task(database_url: str, status: str, *, task_type: str = "text_to_image", request: dict | None = None, index: int = 0) -> str:
    """Write a task row straight into the database, as an earlier service run would have."""
    database = Database(database_url)
    now = utc_now()
    task_id = f"{status}{index:04d}".ljust(32, "0")
    with database.session() as session, session.begin():
        session.add(
            TaskRow(
                id=task_id,
                type=task_type,
                status=status,
                progress=100.0 if status == "success" else 0.0,
                prompt=f"prompt {index}",
                request=request or tiny_image(f"prompt {index}"),
                steps=[],
                created_at=now,
                updated_at=now,
            )
        )
    database.close()
    return task_id


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path]]:
    """One app for the contract tests, so the stage servers start once."""
    folder = tmp_path_factory.mktemp("web-api")
    with build_client(folder, rate_limit=None) as client:
        yield client, folder


@pytest.fixture(scope="module")
def image_task(shared: tuple[TestClient, Path]) -> dict[str, Any]:
    client, _ = shared
    created = client.post("/api/text-to-image", json=tiny_image())
    assert created.status_code == 200
    messages = follow(client, created.json()["task_id"])
    return {"created": created.json(), "messages": messages, "final": messages[-1]}


# Creating and reading tasks


def test_api_create_returns_pending_task(image_task: dict[str, Any]) -> None:
    created = image_task["created"]

    assert set(created) == TASK_KEYS
    assert created["status"] == "pending"
    assert created["progress"] == 0
    assert created["metadata"] == {"type": "text_to_image", "prompt": "宁静的森林中流淌的溪水"}


def test_api_text_to_image_succeeds(image_task: dict[str, Any]) -> None:
    final = image_task["final"]

    assert final["status"] == "success"
    assert final["progress"] == 100
    assert final["error"] is None
    assert final["result"]["width"] == 64
    assert final["result"]["seed"] == 7
    assert final["result"]["path"].startswith("/outputs/images/")
    assert final["result"]["uri"] == final["result"]["path"]


def test_api_websocket_streams_until_end(image_task: dict[str, Any]) -> None:
    statuses = [message["status"] for message in image_task["messages"]]
    progress = [message["progress"] for message in image_task["messages"]]

    assert statuses[-1] == "success"
    assert "processing" in statuses
    assert progress == sorted(progress)
    assert image_task["messages"][-1]["steps"][0]["stage"] == "text2image"


def test_api_outputs_serves_result(shared: tuple[TestClient, Path], image_task: dict[str, Any]) -> None:
    client, _ = shared

    response = client.get(image_task["final"]["result"]["path"])

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(PNG_SIGNATURE)


def test_api_outputs_serves_ranges(shared: tuple[TestClient, Path], image_task: dict[str, Any]) -> None:
    client, _ = shared

    response = client.get(image_task["final"]["result"]["path"], headers={"Range": "bytes=0-7"})

    assert response.status_code == 206
    assert response.content == PNG_SIGNATURE


def test_api_get_task_matches_stream(shared: tuple[TestClient, Path], image_task: dict[str, Any]) -> None:
    client, _ = shared
    task_id = image_task["created"]["task_id"]

    response = client.get(f"/api/tasks/{task_id}")

    assert response.status_code == 200
    assert response.json() == image_task["final"]


def test_api_get_unknown_task(shared: tuple[TestClient, Path]) -> None:
    client, _ = shared

    response = client.get("/api/tasks/nope")

    assert response.status_code == 404
    assert response.json() == {"detail": "task 'nope' not found"}


def test_api_cancel_finished_task(shared: tuple[TestClient, Path], image_task: dict[str, Any]) -> None:
    client, _ = shared
    task_id = image_task["created"]["task_id"]

    response = client.delete(f"/api/tasks/{task_id}")

    assert response.status_code == 400
    assert response.json()["detail"] == f"task {task_id!r} already finished with status 'success'; nothing to cancel"


def test_api_cancel_unknown_task(shared: tuple[TestClient, Path]) -> None:
    client, _ = shared

    assert client.delete("/api/tasks/nope").status_code == 404


def test_api_websocket_unknown_task(shared: tuple[TestClient, Path]) -> None:
    client, _ = shared

    with client.websocket_connect("/ws/tasks/nope") as socket:
        message = socket.receive_json()
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()

    assert message == {"detail": "task 'nope' not found"}
    assert closed.value.code == 4404


# Validation


@pytest.mark.parametrize(
    ("path", "body", "detail"),
    [
        ("/api/text-to-image", {"prompt": "   "}, "prompt: prompt is empty"),
        ("/api/text-to-image", {"prompt": "x", "width": 100}, "width: width 100 is not a multiple of 8: use 96"),
        ("/api/text-to-image", {"prompt": "x", "height": 4096}, "height: height 4096 is outside 64..2048 pixels: use 2048"),
        ("/api/text-to-image", {"prompt": "x", "seed": -1}, "seed: seed -1 is outside 0..4294967295"),
        ("/api/text-to-image", {"prompt": "x", "num_inference_steps": 0}, "num_inference_steps: Input should be greater than or equal to 1"),
        ("/api/text-to-image", {"prompt": "x", "colour": "red"}, "colour: Extra inputs are not permitted"),
        ("/api/text-to-image", {}, "prompt: Field required"),
        ("/api/image-to-video", {"image_url": "a.png", "fps": 0}, "fps: Input should be greater than or equal to 1"),
        ("/api/image-to-video", {"image_url": "a.png", "transition_type": "wipe"}, "transition_type: Input should be 'fade' or 'none'"),
        ("/api/video-to-audio", {"video_url": "a.mp4", "volume": 1.5}, "volume: Input should be less than or equal to 1"),
        ("/api/merge-videos", {"video_segments": []}, "video_segments: List should have at least 1 item"),
        ("/api/merge-videos", {"video_segments": ["a.mp4"], "output_format": "avi"}, "output_format: Input should be"),
        ("/api/workflow", {"prompt": "x", "iterations": 0}, "iterations: Input should be greater than or equal to 1"),
        ("/api/workflow", {"prompt": "x", "iterations": 21}, "iterations: Input should be less than or equal to 20"),
        (
            "/api/workflow",
            {"prompt": "x", "workflow_config": {"audio_config": {"audio_style": "polka"}}},
            "workflow_config.audio_config.audio_style: Input should be",
        ),
    ],
)
def test_api_rejects_invalid_body(shared: tuple[TestClient, Path], path: str, body: dict[str, Any], detail: str) -> None:
    client, _ = shared

    response = client.post(path, json=body)

    assert response.status_code == 422
    assert response.json()["detail"].startswith(detail)


def test_api_rejects_malformed_json(shared: tuple[TestClient, Path]) -> None:
    client, _ = shared

    response = client.post("/api/workflow", content=b"{not json", headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json()["detail"].startswith("request body is not valid JSON")


@pytest.mark.parametrize(
    ("query", "detail"),
    [("status=done", "status: Input should be"), ("limit=0", "limit: Input should be greater"), ("limit=101", "limit: Input should be less"), ("offset=-1", "offset: Input should be greater")],
)
def test_api_list_rejects_invalid_query(shared: tuple[TestClient, Path], query: str, detail: str) -> None:
    client, _ = shared

    response = client.get(f"/api/tasks?{query}")

    assert response.status_code == 422
    assert response.json()["detail"].startswith(detail)


# Files


@pytest.mark.parametrize("path", ["/outputs/../tasks.db", "/outputs/%2e%2e/tasks.db", "/outputs/link", "/outputs/images/.partial-x.png", "/outputs/missing.png"])
def test_api_outputs_rejects_outside(shared: tuple[TestClient, Path], path: str) -> None:
    client, folder = shared
    (folder / "outputs" / "images").mkdir(parents=True, exist_ok=True)
    (folder / "outputs" / "images" / ".partial-x.png").write_bytes(b"half")
    link = folder / "outputs" / "link"
    if not link.is_symlink():
        link.symlink_to(folder / "tasks.db")

    response = client.get(path)

    assert response.status_code == 404


def test_api_page_served(shared: tuple[TestClient, Path]) -> None:
    client, _ = shared

    page = client.get("/")
    script = client.get("/static/app.js")

    assert page.status_code == 200
    assert 'id="prompt"' in page.text
    assert script.status_code == 200
    assert "WebSocket" in script.text


# Service routes


def test_api_healthz(shared: tuple[TestClient, Path]) -> None:
    client, _ = shared

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"


def test_api_metrics_count_requests_and_tasks(shared: tuple[TestClient, Path], image_task: dict[str, Any]) -> None:
    client, _ = shared

    text = client.get("/metrics").text

    assert 'reasoning_action_http_requests_total{method="POST",route="/api/text-to-image",status="200"}' in text
    assert 'reasoning_action_task_duration_seconds_count{status="success",type="text_to_image"} 1.0' in text
    assert 'reasoning_action_tasks{status="success"}' in text
    assert 'reasoning_action_tasks_created_total{type="text_to_image"} 1.0' in text


# Listing


def test_api_list_pages_and_filters(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'tasks.db'}"
    successes = [insert_task(database_url, "success", index=index) for index in range(5)]
    failures = [insert_task(database_url, "failed", index=index) for index in range(2)]

    with build_client(tmp_path, database_url=database_url) as client:
        first = client.get("/api/tasks?limit=3").json()
        rest = client.get("/api/tasks?limit=3&offset=3").json()
        failed = client.get("/api/tasks?status=failed").json()
        beyond = client.get("/api/tasks?offset=50").json()
        everything = client.get("/api/tasks?limit=100").json()

    listed = [task["task_id"] for task in first["tasks"] + rest["tasks"]]
    assert first["total"] == 7
    assert (first["limit"], first["offset"]) == (3, 0)
    assert len(first["tasks"]) == 3
    assert len(rest["tasks"]) == 3
    assert len(set(listed)) == 6
    assert sorted(task["task_id"] for task in failed["tasks"]) == sorted(failures)
    assert failed["total"] == 2
    assert beyond == {"tasks": [], "total": 7, "limit": 20, "offset": 50}
    assert sorted(task["task_id"] for task in everything["tasks"]) == sorted(successes + failures)


# Restart


def test_api_restart_recovers_tasks(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'tasks.db'}"
    interrupted = insert_task(database_url, "processing", index=1)
    waiting = insert_task(database_url, "pending", index=2)

    with build_client(tmp_path, database_url=database_url) as client:
        failed = client.get(f"/api/tasks/{interrupted}").json()
        messages = follow(client, waiting)

    assert failed["status"] == "failed"
    assert failed["error"] == INTERRUPTED_MESSAGE
    assert messages[-1]["status"] == "success"
    assert messages[-1]["result"]["path"].startswith("/outputs/images/")


@pytest.mark.parametrize(("resume", "run_folder"), [(False, True), (True, False)], ids=["resume-off", "no-run-folder"])
def test_api_restart_fails_unresumable_workflow(tmp_path: Path, resume: bool, run_folder: bool) -> None:
    database_url = f"sqlite:///{tmp_path / 'tasks.db'}"
    task_id = insert_task(database_url, "processing", task_type="workflow", request=tiny_workflow())
    if run_folder:
        (tmp_path / "outputs" / "runs" / task_id).mkdir(parents=True)

    with build_client(tmp_path, database_url=database_url, resume_interrupted=resume) as client:
        task = client.get(f"/api/tasks/{task_id}").json()

    assert task["status"] == "failed"
    assert task["error"] == INTERRUPTED_MESSAGE


def test_api_restart_keeps_tasks(tmp_path: Path) -> None:
    with build_client(tmp_path) as client:
        task_id = client.post("/api/text-to-image", json=tiny_image()).json()["task_id"]
        before = follow(client, task_id)[-1]

    with build_client(tmp_path) as client:
        after = client.get(f"/api/tasks/{task_id}").json()
        listed = client.get("/api/tasks").json()

    assert after == before
    assert [task["task_id"] for task in listed["tasks"]] == [task_id]


# Safety


def test_api_token_required(tmp_path: Path) -> None:
    with build_client(tmp_path, token="s3cret") as client:
        missing = client.get("/api/tasks")
        wrong = client.get("/api/tasks", headers={"Authorization": "Bearer wrong"})
        client.cookies.set("reasoning_action_token", "s3cret")
        cookie_only = client.get("/api/tasks")
        client.cookies.clear()
        right = client.get("/api/tasks", headers={"Authorization": "Bearer s3cret"})
        metrics = client.get("/metrics")
        health = client.get("/healthz")
        page = client.get("/")

    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert missing.json()["detail"].startswith("missing or invalid bearer token")
    assert wrong.status_code == 401
    assert cookie_only.status_code == 401
    assert right.status_code == 200
    assert metrics.status_code == 401
    assert health.status_code == 200
    assert page.status_code == 200


def test_api_token_cookie_reads_outputs(tmp_path: Path) -> None:
    with build_client(tmp_path, token="s3cret") as client:
        (tmp_path / "outputs" / "note.txt").write_text("hello", encoding="utf-8")
        without = client.get("/outputs/note.txt")
        client.cookies.set("reasoning_action_token", "s3cret")
        with_cookie = client.get("/outputs/note.txt")

    assert without.status_code == 401
    assert with_cookie.status_code == 200
    assert with_cookie.text == "hello"


def test_api_token_required_for_websocket(tmp_path: Path) -> None:
    with build_client(tmp_path, token="s3cret") as client:
        with client.websocket_connect("/ws/tasks/any") as socket:
            message = socket.receive_json()
            with pytest.raises(WebSocketDisconnect) as closed:
                socket.receive_json()
        with client.websocket_connect("/ws/tasks/any", headers={"Authorization": "Bearer s3cret"}) as socket:
            allowed = socket.receive_json()

    assert message["detail"].startswith("missing or invalid bearer token")
    assert closed.value.code == 4401
    assert allowed == {"detail": "task 'any' not found"}


def test_api_rate_limit_rejects(tmp_path: Path) -> None:
    with build_client(tmp_path, rate_limit=RateLimit(requests=2, period_seconds=60.0)) as client:
        statuses = [client.post("/api/text-to-image", json=tiny_image()).status_code for _ in range(2)]
        rejected = client.post("/api/text-to-image", json=tiny_image())
        invalid = client.post("/api/text-to-image", json={"prompt": ""})
        metrics = client.get("/metrics").text
        for task in client.get("/api/tasks").json()["tasks"]:
            client.delete(f"/api/tasks/{task['task_id']}")

    assert statuses == [200, 200]
    assert rejected.status_code == 429
    assert 1 <= int(rejected.headers["retry-after"]) <= 60
    assert rejected.json()["detail"].startswith("rate limit exceeded: at most 2 tasks per 60 s")
    assert invalid.status_code == 422
    assert "reasoning_action_rate_limited_requests_total 1.0" in metrics


def test_api_cors_allows_configured_origin(tmp_path: Path) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}
    with build_client(tmp_path, cors_origins=("https://studio.example",)) as client:
        allowed = client.options("/api/workflow", headers={"Origin": "https://studio.example", **preflight})
        denied = client.options("/api/workflow", headers={"Origin": "https://other.example", **preflight})

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://studio.example"
    assert denied.status_code == 400
    assert "access-control-allow-origin" not in denied.headers


# Workflows


@pytest.mark.slow
def test_api_workflow_succeeds(shared: tuple[TestClient, Path]) -> None:
    from servers.shared.media import probe

    client, folder = shared
    created = client.post("/api/workflow", json=tiny_workflow(iterations=2)).json()
    messages = follow(client, created["task_id"])
    final = messages[-1]

    assert final["status"] == "success", final["error"]
    video_url = final["result"]["video_path"]
    assert video_url.startswith("/outputs/")
    stages = {step["stage"] for step in final["steps"]}
    assert {"text2image", "image2video", "video2audio", "av_merge"} <= stages
    assert {step["segment"] for step in final["steps"] if step["stage"] == "image2video"} == {1, 2}
    assert [message["progress"] for message in messages] == sorted(message["progress"] for message in messages)
    assert final["result"]["workflow_summary"]["segments_count"] == 2
    assert str(folder) not in json.dumps(final)

    video = client.get(video_url)
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    local = folder / "outputs" / "probe.mp4"
    local.write_bytes(video.content)
    info = probe(local)
    assert abs(info.duration - 2.0) <= 1 / 8 + 1e-6


@pytest.mark.slow
def test_api_cancel_running_workflow(tmp_path: Path) -> None:
    with build_client(tmp_path, max_concurrent_workflows=1) as client:
        # Segments of a few seconds each, so the cancellation reaches a tool call in flight.
        long_run = tiny_workflow(iterations=20, fps=30, duration=4.0, size=(640, 480))
        running = client.post("/api/workflow", json=long_run).json()
        waiting = client.post("/api/workflow", json=tiny_workflow(iterations=1)).json()
        with client.websocket_connect(f"/ws/tasks/{running['task_id']}") as socket:
            # A fraction between 0 and 100 was reported by the server, so the tool runs there.
            while not any(
                step["stage"] == "image2video" and 0 < step["progress"] < 100 for step in socket.receive_json()["steps"]
            ):
                pass
        queued = client.get(f"/api/tasks/{waiting['task_id']}").json()
        cancelled_waiting = client.delete(f"/api/tasks/{waiting['task_id']}").json()
        cancelled_running = client.delete(f"/api/tasks/{running['task_id']}").json()
        after = client.post("/api/text-to-image", json=tiny_image())
        after_final = follow(client, after.json()["task_id"])[-1]

    assert queued["status"] == "pending"
    assert cancelled_waiting["status"] == "cancelled"
    assert cancelled_running["status"] == "cancelled"
    assert cancelled_running["error"] == CANCELLED_MESSAGE
    assert cancelled_running["progress"] < 100
    assert after_final["status"] == "success"
    assert list((tmp_path / "outputs").rglob(".partial-*")) == []
    server_logs = "".join(path.read_text(encoding="utf-8") for path in (tmp_path / "outputs" / "logs").glob("*.log"))
    assert "Cancelled image_to_video" in server_logs


def test_api_single_tools_chain(shared: tuple[TestClient, Path], image_task: dict[str, Any]) -> None:
    from servers.shared.media import probe

    client, folder = shared
    image_url = image_task["final"]["result"]["path"]

    def run(path: str, body: dict[str, Any]) -> dict[str, Any]:
        created = client.post(path, json=body)
        assert created.status_code == 200, created.text
        final = follow(client, created.json()["task_id"])[-1]
        assert final["status"] == "success", final["error"]
        return final

    first = run("/api/image-to-video", {"image_url": image_url, "fps": 8, "duration": 1.0, "seed": 1})
    second = run("/api/image-to-video", {"image_url": first["result"]["next_frame_path"], "fps": 8, "duration": 1.0, "seed": 2})
    merged = run("/api/merge-videos", {"video_segments": [first["result"]["path"], second["result"]["path"]]})
    audio = run("/api/video-to-audio", {"video_url": merged["result"]["path"], "audio_style": "calm", "output_format": "wav"})

    assert first["metadata"] == {"type": "image_to_video", "prompt": None}
    assert first["result"]["path"].startswith("/outputs/")
    assert first["result"]["frames"] == 8
    assert merged["result"]["duration_seconds"] == pytest.approx(2.0, abs=1 / 8)
    assert audio["result"]["duration"] == pytest.approx(2.0, abs=1 / 8)
    assert audio["result"]["path"].endswith(".wav")
    local = folder / "outputs" / merged["result"]["path"].removeprefix("/outputs/")
    assert probe(local).duration == pytest.approx(2.0, abs=1 / 8)
