// Every configured MCP server, one actor each, behind one tool namespace: `<server>__<tool>`
// (./names.ts). The HTTP routes (/v1/mcp/tool/execute, /mcp) and the chat loop use this only.
// Execute answers as data: the tool's CallToolResult, or an error with its HTTP status —
// 404 unknown tool, 400 bad arguments (checked against the tool's inputSchema first), 403 a tool
// the key may not call, 503 server down or circuit open, 504 timeout.
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";
import type { McpEvent } from "../events/catalogue.ts";
import { mayUse, type McpAccess } from "./access.ts";
import type { McpConfig } from "./config.ts";
import type { CallToolResult, Tool } from "./connection.ts";
import { publicToolNames } from "./names.ts";
import {
  type McpServerActor,
  type McpServerDeps,
  type McpServerSnapshot,
  spawnMcpServer,
} from "./server.ts";

/** A tool as gateway clients see it. */
export interface McpTool {
  /** `<server>__<tool>`: its name in /v1/mcp/tool/execute, /mcp and chat function tools. */
  name: string;
  server: string;
  /** Its name on its own server. */
  tool: string;
  description?: string;
  inputSchema: Tool["inputSchema"];
}

export type ExecuteResult =
  | { ok: true; result: CallToolResult; server: string; tool: string }
  | {
    ok: false;
    status: 400 | 403 | 404 | 499 | 502 | 503 | 504;
    code: string;
    message: string;
    param: string | null;
    server?: string;
    retryAfterMs?: number;
  };

export interface McpHub {
  servers(): readonly McpServerActor[];
  /** Connects every server (in parallel); one that is down does not stop the others. */
  start(): Promise<void>;
  tools(access?: McpAccess, servers?: readonly string[]): McpTool[];
  execute(
    name: string,
    args: unknown,
    opts?: { access?: McpAccess; requestId?: string; signal?: AbortSignal },
  ): Promise<ExecuteResult>;
  snapshot(): McpServerSnapshot[];
  stop(): Promise<void>;
}

export interface McpHubDeps extends Omit<McpServerDeps, "publish"> {
  publish(e: McpEvent): void;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export function createMcpHub(config: McpConfig, deps: McpHubDeps): McpHub {
  const actors = Object.values(config.servers).map((s) => spawnMcpServer(s, deps));
  const byName = new Map(actors.map((a) => [a.name, a]));
  const validator = new AjvJsonSchemaValidator();
  const validators = new WeakMap<
    object,
    (v: unknown) => { valid: boolean; errorMessage?: string }
  >();
  const validate = (schema: Tool["inputSchema"], args: unknown) => {
    let v = validators.get(schema);
    if (!v) {
      try {
        v = validator.getValidator(schema as Parameters<typeof validator.getValidator>[0]);
      } catch {
        v = () => ({ valid: true }); // a schema ajv cannot compile: the server judges
      }
      validators.set(schema, v);
    }
    return v(args);
  };

  const all = (): McpTool[] =>
    actors.flatMap((a) => {
      const tools = a.tools();
      const names = publicToolNames(a.name, tools.map((t) => t.name));
      return tools.map((t, i) => ({
        name: names[i],
        server: a.name,
        tool: t.name,
        description: t.description,
        inputSchema: t.inputSchema,
      }));
    });

  return {
    servers: () => actors,
    async start() {
      await Promise.all(actors.map((a) => a.start()));
    },
    tools(access, servers) {
      return all().filter((t) =>
        mayUse(access, t.server, t.name) && (!servers || servers.includes(t.server))
      );
    },
    async execute(name, args, opts = {}) {
      if (typeof name !== "string" || name === "") {
        return {
          ok: false,
          status: 400,
          code: "invalid_value",
          message: "name: required, a tool name like <server>__<tool>",
          param: "name",
        };
      }
      const tool = all().find((t) => t.name === name);
      if (!tool) {
        return {
          ok: false,
          status: 404,
          code: "tool_not_found",
          message:
            `No MCP tool "${name}". Tools are named <server>__<tool>; GET /v1/mcp/tools lists them.`,
          param: "name",
        };
      }
      if (!mayUse(opts.access, tool.server, tool.name)) {
        return {
          ok: false,
          status: 403,
          code: "tool_not_allowed",
          message: `This virtual key may not call the MCP tool "${name}".`,
          param: "name",
          server: tool.server,
        };
      }
      const input = args === undefined || args === null
        ? {}
        : typeof args === "string"
        ? parseArgs(args)
        : args;
      if (!isObject(input)) {
        return {
          ok: false,
          status: 400,
          code: "invalid_arguments",
          message: "arguments: must be a JSON object (or a string holding one)",
          param: "arguments",
        };
      }
      const checked = validate(tool.inputSchema, input);
      if (!checked.valid) {
        return {
          ok: false,
          status: 400,
          code: "invalid_arguments",
          message: `arguments: do not match the input schema of ${name}: ${checked.errorMessage}`,
          param: "arguments",
          server: tool.server,
        };
      }
      const out = await byName.get(tool.server)!.call(tool.tool, input, opts);
      if (out.ok) return { ok: true, result: out.result, server: tool.server, tool: tool.tool };
      const status = out.errorType === "invalid_arguments"
        ? 400
        : out.errorType === "timeout"
        ? 504
        : out.errorType === "aborted"
        ? 499
        : out.errorType === "protocol"
        ? 502
        : 503;
      return {
        ok: false,
        status,
        code: out.errorType === "circuit_open" ? "mcp_server_unavailable" : `mcp_${out.errorType}`,
        message: out.message,
        param: status === 400 ? "arguments" : null,
        server: tool.server,
        retryAfterMs: out.retryAfterMs ?? (status === 503 ? 1_000 : undefined),
      };
    },
    snapshot: () => actors.map((a) => a.snapshot()),
    async stop() {
      await Promise.all(actors.map((a) => a.stop()));
    },
  };
}

function parseArgs(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
