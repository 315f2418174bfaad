// A stdio MCP server built with the official SDK's McpServer, for the stdio transport test:
// one tool, shout {text} → TEXT.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

const server = new McpServer({ name: "stdio-test", version: "1.0.0" });
server.registerTool(
  "shout",
  { description: "Upper-cases text", inputSchema: { text: z.string() } },
  ({ text }: { text: string }) => ({ content: [{ type: "text", text: text.toUpperCase() }] }),
);
await server.connect(new StdioServerTransport());
