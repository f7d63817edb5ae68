"""ReasoningACTION MCP servers: one subpackage a stage, plus the shared core in `servers.shared`."""
