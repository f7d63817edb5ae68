"""HTTP API, live task updates and the web page, on top of the orchestrator.

`create_app` builds the FastAPI app; `reasoning-action serve` (see `cli.py`) runs it on
uvicorn. Tasks are stored through SQLAlchemy and run through the same MCP connections as
the command line.
"""
