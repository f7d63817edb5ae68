"""Console script `reasoning-action-text2image`."""

from __future__ import annotations

import sys

from servers.shared.cli import server_main
from servers.text2image.server import build_server

DEFAULT_PORT = 8101


def main(argv: list[str] | None = None) -> int:
    return server_main(
        "text2image",
        build_server,
        description="MCP server that turns a text prompt into an image (tool: text_to_image).",
        default_port=DEFAULT_PORT,
        argv=argv,
    )


if __name__ == "__main__":
    sys.exit(main())
