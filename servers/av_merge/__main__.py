"""Console script `reasoning-action-av-merge`."""

from __future__ import annotations

import logging
import sys

from servers.av_merge.server import build_server
from servers.shared.cli import server_main
from servers.shared.errors import EngineUnavailableError

logger = logging.getLogger(__name__)

DEFAULT_PORT = 8104
EXIT_ENGINE_UNAVAILABLE = 2


def main(argv: list[str] | None = None) -> int:
    try:
        return server_main(
            "av_merge",
            build_server,
            description="MCP server that joins video segments, lays soundtracks and probes media "
            "(tools: merge_videos, mux_audio, probe_media).",
            default_port=DEFAULT_PORT,
            argv=argv,
        )
    except EngineUnavailableError as error:
        logger.error("Cannot start: %s", error)
        return EXIT_ENGINE_UNAVAILABLE


if __name__ == "__main__":
    sys.exit(main())
