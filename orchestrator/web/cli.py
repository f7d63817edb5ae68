"""`reasoning-action serve`: the HTTP API and the web page on uvicorn.

    reasoning-action serve                       # http://127.0.0.1:8000
    reasoning-action serve --port 9000 --token "$(openssl rand -hex 16)"
    python -m orchestrator.web --database-url postgresql+psycopg://user@db/reasoning
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from orchestrator.config import ConfigError
from orchestrator.web.settings import DEFAULT_DATABASE_FILE, DEFAULT_HOST, DEFAULT_PORT, RateLimit, WebSettings

__all__ = ["add_serve_arguments", "serve_main", "main"]

logger = logging.getLogger(__name__)


def _rate_limit(text: str) -> RateLimit | str:
    try:
        return RateLimit.parse(text) or "off"
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of `serve` to `parser`; options the orchestrator CLI already has are skipped."""
    known = {option for action in parser._actions for option in action.option_strings}

    def add(*names: str, **options: object) -> None:
        if not known.intersection(names):
            parser.add_argument(*names, **options)  # type: ignore[arg-type]

    add("--host", default=None, help=f"address to listen on (default: {DEFAULT_HOST}; use 0.0.0.0 for every interface)")
    add("--port", type=int, default=None, help=f"TCP port (default: {DEFAULT_PORT})")
    add("--token", default=None, help="bearer token every API request must send (env REASONING_ACTION_API_TOKEN; default: no authentication)")
    add(
        "--database-url",
        default=None,
        help=f"SQLAlchemy URL of the task database (env REASONING_ACTION_DATABASE_URL; default: sqlite file ./{DEFAULT_DATABASE_FILE})",
    )
    add("--max-concurrent-workflows", type=_positive, default=None, help="workflows that run at once; the rest wait as pending (default: 1)")
    add("--max-concurrent-tasks", type=_positive, default=None, help="single-tool tasks that run at once (default: 2)")
    add(
        "--cors-origin",
        action="append",
        default=None,
        help="origin allowed to call the API from a browser, such as https://example.com; repeat for several (default: none)",
    )
    add(
        "--rate-limit",
        type=_rate_limit,
        default=None,
        help="task creations allowed per client address, as COUNT/PERIOD (second, minute, hour) or off (default: 30/minute)",
    )
    add(
        "--no-resume",
        action="store_true",
        default=False,
        help="at start-up, mark workflows interrupted by a restart as failed instead of resuming them",
    )
    add("--config", type=Path, default=None, help="orchestrator config file (TOML): stage servers, engines, output folder")
    add("--output-dir", type=Path, default=None, help="folder for outputs, served under /outputs (default: ./outputs)")
    add(
        "--engine",
        action="append",
        default=[],
        metavar="STAGE=NAME",
        help="engine of one stage, for example image2video=diffusers; repeat for several stages",
    )
    add(
        "--model",
        action="append",
        default=[],
        metavar="STAGE=MODEL",
        help="model of one stage's diffusers engine: a hub id or a local folder; repeat for several stages",
    )
    add("--log-level", default="INFO", help="log level on stderr (default: INFO)")


def build_settings(args: argparse.Namespace) -> WebSettings:
    """Turn parsed options into settings; options left unset fall back to the environment."""
    rate_limit = getattr(args, "rate_limit", None)
    overrides: dict[str, object] = {
        "host": args.host,
        "port": args.port,
        "token": args.token,
        "database_url": args.database_url,
        "max_concurrent_workflows": args.max_concurrent_workflows,
        "max_concurrent_tasks": args.max_concurrent_tasks,
        "cors_origins": tuple(args.cors_origin) if args.cors_origin else None,
        "rate_limit": rate_limit if isinstance(rate_limit, RateLimit) else None,
        "resume_interrupted": False if getattr(args, "no_resume", False) else None,
    }
    settings = WebSettings.from_env(**overrides)
    if rate_limit == "off":
        settings = dataclasses.replace(settings, rate_limit=None)
    return settings


def serve_main(args: argparse.Namespace) -> int:
    """Run the service until interrupted; return the exit status."""
    import uvicorn

    from orchestrator.cli import config_from_args
    from orchestrator.web.app import create_app

    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, str(getattr(args, "log_level", "INFO")).upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        config = config_from_args(args)
        settings = build_settings(args)
    except (ConfigError, ValueError) as error:
        print(f"reasoning-action serve: {error}", file=sys.stderr)
        return 2

    app = create_app(settings, config)
    if settings.token is None and settings.host not in ("127.0.0.1", "::1", "localhost"):
        logger.warning("Listening on %s without --token: anyone who can reach it can start tasks", settings.host)
    logger.info("Web page at http://%s:%d/", settings.host, settings.port)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=str(getattr(args, "log_level", "INFO")).lower(), workers=1)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestrator.web", description="Serve the HTTP API and the web page.")
    add_serve_arguments(parser)
    return serve_main(parser.parse_args(argv))
