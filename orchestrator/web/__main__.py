"""`python -m orchestrator.web`: the same as `reasoning-action serve`."""

from __future__ import annotations

import sys

from orchestrator.web.cli import main

if __name__ == "__main__":
    sys.exit(main())
