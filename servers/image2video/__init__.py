"""The image2video MCP server: animates a still image into a video segment that chains seamlessly."""
