"""Console script `reasoning-action-av-merge`.

A missing ffmpeg binary is found while the server is built, so the script exits with
status 2 and the reinstall command before it serves anything.
"""

from __future__ import annotations

import sys

from servers.av_merge.server import build_server
from servers.shared.cli import server_main

DEFAULT_PORT = 8104
EXIT_ENGINE_UNAVAILABLE = 2  # The status `server_main` returns when the server cannot start.


def main(argv: list[str] | None = None) -> int:
    return server_main(
        "av_merge",
        build_server,
        description="MCP server that joins video segments, lays soundtracks and probes media "
        "(tools: merge_videos, mux_audio, probe_media).",
        default_port=DEFAULT_PORT,
        argv=argv,
    )


if __name__ == "__main__":
    sys.exit(main())
