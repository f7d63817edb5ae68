"""Console script `reasoning-action-video2audio`."""

from __future__ import annotations

import sys

from servers.shared.cli import server_main
from servers.video2audio.server import build_server

DEFAULT_PORT = 8103


def main(argv: list[str] | None = None) -> int:
    return server_main(
        "video2audio",
        build_server,
        description="MCP server that writes a soundtrack of exactly a video's length (tool: video_to_audio).",
        default_port=DEFAULT_PORT,
        argv=argv,
    )


if __name__ == "__main__":
    sys.exit(main())
