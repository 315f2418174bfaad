// An MCP server's health: the breaker decider over its tool calls and pings (src/mcp/ runs it).
export {
  COUNTED,
  createMcpServerDecider,
  type McpOutcome,
  type McpServerCommand,
  type McpServerState,
} from "./decider.ts";
