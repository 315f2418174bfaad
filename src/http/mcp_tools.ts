// The MCP tools over plain HTTP: GET /v1/mcp/tools lists them (as the caller's key sees them) and
// POST /v1/mcp/tool/execute {"name", "arguments"} runs one, answering the tool's CallToolResult
// ({"content", "isError", "structuredContent"?}) or an OpenAI-shaped error: 404 unknown tool,
// 400 bad arguments, 403 a tool the key may not call, 503 server down or circuit open (naming
// the server, with Retry-After), 504 the server did not answer in its timeoutMs.
import type { Context } from "hono";
import type { Gateway } from "../gateway.ts";
import type { McpAccess } from "../mcp/mod.ts";
import { authenticateCall } from "./admission.ts";
import { openaiError } from "../formats/openai/errors.ts";
import { type CallStart, startCall } from "./call.ts";
import { errorResponse } from "./errors.ts";

/** The caller's MCP access (undefined: everything), or the 401/503 to answer. */
export async function mcpCaller(
  gw: Gateway,
  req: Request,
  start: CallStart,
): Promise<{ ok: true; access?: McpAccess } | { ok: false; response: Response }> {
  if (gw.governor.open()) return { ok: true };
  const refused = await authenticateCall(gw.governor, start, req);
  if (refused) return { ok: false, response: openaiError(refused) };
  return { ok: true, access: start.virtualKey?.mcp };
}

export function listMcpTools(gw: Gateway) {
  return async (c: Context) => {
    const start = startCall(gw, c.req.header("x-request-id"));
    const who = await mcpCaller(gw, c.req.raw, start);
    if (!who.ok) return who.response;
    const data = gw.mcp.tools(who.access).map((t) => ({
      name: t.name,
      server: t.server,
      tool: t.tool,
      description: t.description ?? null,
      input_schema: t.inputSchema,
    }));
    return c.json({ object: "list", data });
  };
}

export function executeMcpTool(gw: Gateway) {
  return async (c: Context) => {
    const start = startCall(gw, c.req.header("x-request-id"));
    const headers = { "x-request-id": start.requestId };
    const who = await mcpCaller(gw, c.req.raw, start);
    if (!who.ok) return who.response;
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return errorResponse(
        400,
        'The body must be JSON: {"name", "arguments"}.',
        "invalid_request_error",
        "invalid_json",
        { headers },
      );
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return errorResponse(
        400,
        'The body must be a JSON object: {"name", "arguments"}.',
        "invalid_request_error",
        "invalid_json",
        { headers },
      );
    }
    const { name, arguments: args } = body as { name?: unknown; arguments?: unknown };
    const out = await gw.mcp.execute(name as string, args, {
      access: who.access,
      requestId: start.requestId,
      signal: c.req.raw.signal,
    });
    if (out.ok) {
      return c.json(out.result, 200, { ...headers, "x-gateway-mcp-server": out.server });
    }
    const type = out.status === 400 || out.status === 404 || out.status === 403
      ? "invalid_request_error"
      : out.status === 504
      ? "timeout"
      : "unavailable";
    return errorResponse(out.status, out.message, type, out.code, {
      param: out.param,
      headers: out.server ? { ...headers, "x-gateway-mcp-server": out.server } : headers,
      retryAfterMs: out.retryAfterMs,
    });
  };
}

/** GET /v1/gateway/mcp: every MCP server's connection, tools and breaker (operator endpoint). */
export function mcpState(gw: Gateway) {
  return (c: Context) => c.json({ servers: gw.mcp.snapshot() });
}
