"""The text2image MCP server: a prompt in, a PNG image out."""
