"""The video2audio MCP server: a soundtrack of exactly a video's length, inferred from what it shows."""
