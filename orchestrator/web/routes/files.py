"""The web page, its static files, and the artifacts under `/outputs/...`."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import FileResponse

from orchestrator.web.state import get_state, require_token_or_cookie

__all__ = ["router", "STATIC_DIR"]

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

# Python's table lacks some media types on minimal systems; the page needs these exact ones.
for _suffix, _media_type in ((".mp4", "video/mp4"), (".webm", "video/webm"), (".m4a", "audio/mp4"), (".flac", "audio/flac")):
    mimetypes.add_type(_media_type, _suffix)

router = APIRouter()


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    """Serve the web page; it loads its script and styles from /static."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"})


@router.api_route("/outputs/{relative_path:path}", methods=["GET", "HEAD"], dependencies=[Depends(require_token_or_cookie)])
async def output_file(request: Request, relative_path: str) -> FileResponse:
    """Serve a file of the output folder (with HTTP range requests, so videos can seek)."""
    path = get_state(request).outputs.resolve(relative_path)
    if path is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"file {relative_path!r} not found in the output folder")
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media_type)
