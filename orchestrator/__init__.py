"""The orchestrator: an MCP client that drives the four stage servers through the workflow.

Public API: `orchestrator.config` (`OrchestratorConfig`, `load_config`),
`orchestrator.connections` (`StageConnections`, `StageError`) and `orchestrator.workflow`
(`WorkflowRequest`, `WorkflowEvent`, `WorkflowResult`, `run_workflow`).
"""
