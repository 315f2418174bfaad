// MCP gateway: servers from gateway.json as actors with breakers, one tool namespace.
export { type McpConfig, McpSchema, type McpServerConfig, resolveMcp } from "./config.ts";
export { mayUse, type McpAccess } from "./access.ts";
export { createMcpHub, type ExecuteResult, type McpHub, type McpTool } from "./hub.ts";
export { observeMcpMetrics } from "./metrics.ts";
export { publicToolName } from "./names.ts";
export type { McpServerSnapshot } from "./server.ts";
