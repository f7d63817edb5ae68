"""Request bodies over the size limit are rejected with 413 before they fill memory."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from orchestrator.web.body_limit import MAX_BODY_BYTES, BodySizeLimit
from tests.test_web_api import build_client


async def _echo_size(request: Request) -> JSONResponse:
    return JSONResponse({"size": len(await request.body())})


@pytest.fixture
def echo_client() -> TestClient:
    app = Starlette(routes=[Route("/echo", _echo_size, methods=["POST"])])
    return TestClient(BodySizeLimit(app, max_bytes=1000))


def test_body_limit_accepts_small_body(echo_client):
    response = echo_client.post("/echo", content=b"x" * 1000)

    assert response.status_code == 200
    assert response.json() == {"size": 1000}


def test_body_limit_rejects_declared_length(echo_client):
    response = echo_client.post("/echo", content=b"x" * 1001)

    assert response.status_code == 413
    assert response.json()["detail"] == "request body of 1001 bytes is over the 1000-byte limit: send a smaller JSON object"


def test_body_limit_rejects_chunked_body(echo_client):
    def chunks():
        for _ in range(5):
            yield b"x" * 400

    response = echo_client.post("/echo", content=chunks())

    assert response.status_code == 413
    assert "over the 1000-byte limit" in response.json()["detail"]


def test_body_limit_rejects_zero_limit():
    with pytest.raises(ValueError, match="max_bytes must be positive, got 0"):
        BodySizeLimit(object(), max_bytes=0)


def test_api_rejects_oversized_workflow(tmp_path):
    with build_client(tmp_path) as client:
        response = client.post(
            "/api/workflow", content=b'{"prompt": "' + b"x" * MAX_BODY_BYTES + b'"}', headers={"content-type": "application/json"}
        )
        listed = client.get("/api/tasks")

    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    assert listed.json()["total"] == 0
