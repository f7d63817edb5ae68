"""The av_merge MCP server: joins video segments, lays soundtracks and exports finished files."""
