"""Procedural landscape painting for the `procedural` text-to-image engine.

`scene` turns a prompt (English or Chinese) into a `Scene`, and `layout` places it on the
canvas from the seed. The layer modules paint it: `sky`, `terrain`, `water`, `vegetation`,
`city` and `weather`. `styles` applies a painting technique as texture, and `painter` runs
the stages in order with progress. Everything is numpy and Pillow on the CPU, deterministic
per seed.
"""

from __future__ import annotations

from servers.text2image.procedural.painter import paint_scene
from servers.text2image.procedural.scene import Scene, parse_prompt

__all__ = ["Scene", "parse_prompt", "paint_scene"]
