// The gateway as one MCP server: POST /mcp speaks Streamable HTTP, stateless (no Mcp-Session-Id,
// so any replica answers any request). Each request gets a fresh low-level SDK Server and a
// web-standard transport (Request → Response, JSON answers): `tools/list` serves every configured
// server's tools the caller's virtual key may see, named `<server>__<tool>`; `tools/call` runs
// one through gw.mcp.execute (breakers, events and metrics apply) and answers a failed call as a
// tool result with `isError: true`, never as a transport error. POST /mcp/{server} serves one
// server's tools under their own names. GET and DELETE answer 405: a stateless server has no
// stream to open and no session to end. With virtual keys on, a request without a valid key
// (`Authorization: Bearer`) is a 401.
import type { Context, Hono } from "hono";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import {
  type CallToolRequest,
  CallToolRequestSchema,
  type CallToolResult,
  ListToolsRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import type { Gateway } from "../gateway.ts";
import type { McpAccess, McpTool } from "../mcp/mod.ts";
import { type CallError, startCall } from "./call.ts";
import { errorResponse, jsonErrorResponse } from "./errors.ts";
import { mcpCaller } from "./mcp_tools.ts";

export function mountMcpEndpoint(app: Hono, gw: Gateway): void {
  app.post("/mcp", serveMcp(gw));
  app.post("/mcp/:server", serveMcp(gw));
  for (const path of ["/mcp", "/mcp/:server"]) {
    app.on(["GET", "DELETE"], path, () =>
      new Response(
        JSON.stringify({
          jsonrpc: "2.0",
          error: { code: -32000, message: "Method not allowed: this MCP server is stateless." },
          id: null,
        }),
        { status: 405, headers: { allow: "POST", "content-type": "application/json" } },
      ));
  }
}

/** A refusal the gateway answers itself (draining, overloaded) as a JSON-RPC error, with its status. */
export function jsonRpcRefusal(e: CallError): Response {
  return jsonErrorResponse(
    e.status,
    { jsonrpc: "2.0", error: { code: -32000, message: e.message }, id: null },
    new Headers(e.headers),
    e.retryAfterMs,
  );
}

function serveMcp(gw: Gateway) {
  return async (c: Context) => {
    const start = startCall(gw, c.req.header("x-request-id"));
    const who = await mcpCaller(gw, c.req.raw, start);
    if (!who.ok) return who.response;
    const only = c.req.param("server");
    if (only !== undefined && !gw.mcp.servers().some((s) => s.name === only)) {
      return errorResponse(
        404,
        `No MCP server "${only}"; GET /v1/gateway/mcp lists them.`,
        "invalid_request_error",
        "not_found",
      );
    }
    const server = buildServer(gw, who.access, only, start.requestId, c.req.raw.signal);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await server.connect(transport);
    try {
      const res = await transport.handleRequest(c.req.raw);
      res.headers.set("x-request-id", start.requestId);
      return res;
    } finally {
      await server.close();
    }
  };
}

/** The tools one request sees: all the key may use, or one server's under their own names. */
function visible(gw: Gateway, access: McpAccess | undefined, only: string | undefined) {
  const tools = gw.mcp.tools(access, only === undefined ? undefined : [only]);
  return tools.map((t) => ({ exposed: only === undefined ? t.name : t.tool, tool: t }));
}

function buildServer(
  gw: Gateway,
  access: McpAccess | undefined,
  only: string | undefined,
  requestId: string,
  signal: AbortSignal,
): Server {
  const server = new Server(
    { name: only === undefined ? "failover-gateway" : `failover-gateway/${only}`, version: "1" },
    { capabilities: { tools: {} } },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: visible(gw, access, only).map(({ exposed, tool }) => ({
      name: exposed,
      ...(tool.description !== undefined && { description: tool.description }),
      inputSchema: tool.inputSchema,
    })),
  }));
  server.setRequestHandler(
    CallToolRequestSchema,
    async (req: CallToolRequest): Promise<CallToolResult> => {
      const name = req.params.name;
      const found: McpTool | undefined = only === undefined
        ? undefined
        : visible(gw, access, only).find((v) => v.exposed === name)?.tool;
      const publicName = only === undefined ? name : found?.name ?? `${only}__${name}`;
      const out = await gw.mcp.execute(publicName, req.params.arguments, {
        access,
        requestId,
        signal,
      });
      if (out.ok) return out.result as CallToolResult;
      return {
        content: [{ type: "text", text: out.message }],
        isError: true,
        _meta: {
          "gateway/error": {
            status: out.status,
            code: out.code,
            ...(out.server && { server: out.server }),
            ...(out.retryAfterMs !== undefined && { retry_after_ms: out.retryAfterMs }),
          },
        },
      };
    },
  );
  return server;
}
