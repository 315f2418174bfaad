// MCP tools in chat calls: `"mcp": {"servers": [...], "execute"?: "client" | "auto",
// "maxSteps"?: N}` in a chat body adds those servers' tools (as the caller's key sees them) as
// function tools, for any provider: they go through the canonical request. By default the
// model's tool calls come back to the client (which may run them with /v1/mcp/tool/execute).
// With "execute": "auto" the gateway runs the loop: call the model through the normal failover
// pipeline, run its tool calls against the MCP servers in parallel, append the results as tool
// messages, and repeat until the model answers without tool calls or maxSteps (default 10)
// model calls were made. The steps are summarized in extra_fields.mcp. `mcp` never goes upstream.
// A Responses call's native passthrough body gets the same tools and loop items (mcp_native.ts).
import type { Gateway } from "../gateway.ts";
import type { ExecuteResult } from "../mcp/mod.ts";
import type { ChatMessage, ChatRequest, ToolCall, ToolDefinition } from "../openai/types.ts";
import { type CallStart, type ChatOutcome, invalid } from "./call.ts";
import { nativeStep, nativeWithTools } from "./mcp_native.ts";
import { type McpStep, streamMcpLoop } from "./mcp_stream.ts";
import { runChat } from "./pipeline.ts";

const DEFAULT_STEPS = 10;
const MAX_STEPS = 50;

interface McpAsk {
  servers: string[];
  execute: "client" | "auto";
  maxSteps: number;
}

/** The `mcp` field, checked; a 400/403 naming the field when it is wrong. */
function readAsk(
  gw: Gateway,
  start: CallStart,
  raw: unknown,
): { ok: true; ask: McpAsk } | ReturnType<typeof invalid> {
  const bad = (param: string, message: string) =>
    invalid(start, 400, `${param}: ${message}`, "invalid_value", param);
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return bad("mcp", 'must be an object like {"servers": ["<name>"]}');
  }
  const { servers, execute = "client", maxSteps = DEFAULT_STEPS, ...rest } = raw as Record<
    string,
    unknown
  >;
  const extra = Object.keys(rest)[0];
  if (extra) return bad(`mcp.${extra}`, "unknown field (servers, execute, maxSteps)");
  if (!Array.isArray(servers) || servers.some((s) => typeof s !== "string")) {
    return bad("mcp.servers", "must be an array of MCP server names");
  }
  const configured = Object.keys(gw.deps.config.mcp.servers);
  const unknown = servers.find((s) => !configured.includes(s));
  if (unknown !== undefined) {
    return bad(
      "mcp.servers",
      `unknown MCP server "${unknown}". Configured: ${configured.join(", ") || "none"}.`,
    );
  }
  const allowed = start.virtualKey?.mcp?.servers;
  const denied = allowed && servers.find((s) => !allowed.includes(s));
  if (denied) {
    return invalid(
      start,
      403,
      `mcp.servers: this virtual key may not use the MCP server "${denied}".`,
      "mcp_server_not_allowed",
      "mcp.servers",
    );
  }
  if (execute !== "client" && execute !== "auto") {
    return bad("mcp.execute", 'must be "client" (default) or "auto"');
  }
  if (!Number.isInteger(maxSteps) || (maxSteps as number) < 1 || (maxSteps as number) > MAX_STEPS) {
    return bad("mcp.maxSteps", `must be a whole number from 1 to ${MAX_STEPS}`);
  }
  return { ok: true, ask: { servers: servers as string[], execute, maxSteps: maxSteps as number } };
}

/** A tool result as the text of a tool message. */
function resultText(r: ExecuteResult): string {
  if (!r.ok) return `Error: ${r.message}`;
  const parts = r.result.content as { type: string; text?: string }[];
  const text = parts.map((c) => c.type === "text" ? c.text : JSON.stringify(c)).join("\n");
  return r.result.isError ? `Error: ${text}` : text;
}

/** runChat, with the MCP tools the body asks for, and the auto loop when it asks for one. */
export function runChatWithMcp(...args: Parameters<typeof runChat>): Promise<ChatOutcome> {
  // Not async: a body without "mcp" is runChat's own promise, with no layer around it.
  return "mcp" in args[2] ? runWithMcp(...args) : runChat(...args);
}

async function runWithMcp(
  gw: Gateway,
  start: CallStart,
  req: ChatRequest,
  signal: AbortSignal,
  bodyLength: number,
): Promise<ChatOutcome> {
  const { mcp: raw, ...body } = req;
  const read = readAsk(gw, start, raw);
  if (!read.ok) return read;
  const { ask } = read;
  const access = start.virtualKey?.mcp;
  const tools = gw.mcp.tools(access, ask.servers);
  const taken = new Set((body.tools ?? []).map((t) => t.function.name));
  const added: ToolDefinition[] = tools.filter((t) => !taken.has(t.name)).map((t) => ({
    type: "function",
    function: {
      name: t.name,
      ...(t.description !== undefined && { description: t.description }),
      parameters: t.inputSchema as Record<string, unknown>,
    },
  }));
  const withTools = nativeWithTools({ ...body, tools: [...(body.tools ?? []), ...added] }, added);
  if (ask.execute === "client") return runChat(gw, start, withTools, signal, bodyLength);
  const ours = new Set(tools.map((t) => t.name));
  const messages: ChatMessage[] = [...withTools.messages];
  /** Each model call is its own supervised request (attempt numbers start again). */
  const model = (step: number) =>
    runChat(
      gw,
      step === 1 ? start : { ...start, requestId: `${start.requestId}-s${step}` },
      nativeStep(withTools, [...messages]),
      signal,
      bodyLength,
    );
  if (withTools.stream === true) {
    return streamMcpLoop({
      maxSteps: ask.maxSteps,
      ours: (name) => ours.has(name),
      model,
      async runTools(step, provider, calls, text) {
        messages.push({
          role: "assistant",
          content: text || null,
          tool_calls: calls.map((c) => ({
            id: c.id,
            type: "function",
            function: { name: c.name, arguments: c.arguments },
          })),
        });
        const results = await Promise.all(
          calls.map((c) =>
            gw.mcp.execute(c.name, c.arguments, { access, requestId: start.requestId, signal })
          ),
        );
        calls.forEach((c, i) =>
          messages.push({ role: "tool", tool_call_id: c.id, content: resultText(results[i]) })
        );
        return {
          step,
          provider,
          tool_calls: calls.map((c, i) => ({ name: c.name, ok: results[i].ok })),
        };
      },
    });
  }
  const steps: McpStep[] = [];
  let out: ChatOutcome | undefined;
  for (let step = 1; step <= ask.maxSteps; step++) {
    out = await model(step);
    if (!out.ok || out.kind !== "json") return out;
    const message = out.completion.choices[0]?.message;
    const calls: ToolCall[] = message?.tool_calls ?? [];
    if (calls.length === 0 || calls.some((c) => !ours.has(c.function.name))) break;
    // Out of steps: the model's last tool calls go back to the client unrun, as in a stream.
    if (step === ask.maxSteps) break;
    messages.push({ role: "assistant", content: message.content ?? null, tool_calls: calls });
    const results = await Promise.all(
      calls.map((c) =>
        gw.mcp.execute(c.function.name, c.function.arguments, {
          access,
          requestId: start.requestId,
          signal,
        })
      ),
    );
    calls.forEach((c, i) =>
      messages.push({ role: "tool", tool_call_id: c.id, content: resultText(results[i]) })
    );
    steps.push({
      step,
      provider: out.extra.provider,
      tool_calls: calls.map((c, i) => ({ name: c.function.name, ok: results[i].ok })),
    });
  }
  if (!out || !out.ok || out.kind !== "json") return out!;
  return { ...out, extra: { ...out.extra, mcp: { steps } } as typeof out.extra };
}
