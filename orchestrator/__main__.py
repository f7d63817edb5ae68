"""`python -m orchestrator`: the same as the `reasoning-action` command."""

import sys

from orchestrator.cli import main

if __name__ == "__main__":
    sys.exit(main())
