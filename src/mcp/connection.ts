// One MCP server, as a client of the official SDK: connects over Streamable HTTP (the transport
// keeps the Mcp-Session-Id of a session-based server; a stateless one needs none) or stdio, lists
// the tools (every page, following nextCursor) and keeps the list fresh on
// notifications/tools/list_changed and on every reconnect. A transport that closes or fails is
// dropped; the next call or ping connects again. The only file here that talks to the network.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {
  getDefaultEnvironment,
  StdioClientTransport,
} from "@modelcontextprotocol/sdk/client/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  type CallToolResult,
  ErrorCode,
  McpError,
  type Tool,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import type { McpFailureKind } from "../events/catalogue.ts";
import type { Logger } from "../lib/logger.ts";
import type { McpServerConfig } from "./config.ts";

export type { CallToolResult, Tool };

/** What one listing found: the tools kept after allow/deny, and what the server had. */
export interface Listing {
  tools: Tool[];
  listed: number;
  pages: number;
  reason: "connected" | "list_changed" | "reconnected";
}

export interface McpConnection {
  /** The tools served (allow/deny applied), from the latest listing. */
  tools(): readonly Tool[];
  connected(): boolean;
  /** Connects (and lists the tools) unless connected; throws what went wrong. */
  ensure(timeoutMs: number): Promise<void>;
  call(
    tool: string,
    args: Record<string, unknown>,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<CallToolResult>;
  ping(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Allow/deny over the server's own tool names. */
export function served(cfg: Pick<McpServerConfig, "allow" | "deny">, tools: Tool[]): Tool[] {
  return tools.filter((t) =>
    (cfg.allow === undefined || cfg.allow.includes(t.name)) && !cfg.deny?.includes(t.name)
  );
}

/** An error from the SDK or the transport, as the failure taxonomy of MCP calls. */
export function classify(err: unknown): { errorType: McpFailureKind; message: string } {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof DOMException && err.name === "AbortError") {
    return { errorType: "aborted", message };
  }
  if (err instanceof McpError) {
    const code = (err as { code: number }).code;
    if (code === ErrorCode.RequestTimeout) return { errorType: "timeout", message };
    if (code === ErrorCode.InvalidParams) return { errorType: "invalid_arguments", message };
    if (code === ErrorCode.ConnectionClosed) return { errorType: "unreachable", message };
    return { errorType: "protocol", message };
  }
  return { errorType: "unreachable", message };
}

const MAX_PAGES = 100;

export function createConnection(
  cfg: McpServerConfig,
  deps: { logger: Logger; onListed(l: Listing): void },
): McpConnection {
  let client: Client | undefined;
  let connecting: Promise<void> | undefined;
  let tools: Tool[] = [];
  let everConnected = false;

  const transport = (): Transport => {
    const t = cfg.transport;
    if (t.kind === "http") {
      return new StreamableHTTPClientTransport(new URL(t.url), {
        requestInit: { headers: t.headers },
      });
    }
    return new StdioClientTransport({
      command: t.command,
      args: t.args,
      env: { ...getDefaultEnvironment(), ...t.env },
      stderr: "ignore",
    });
  };

  const list = async (c: Client, reason: Listing["reason"], timeoutMs: number) => {
    const all: Tool[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await c.listTools(cursor ? { cursor } : undefined, { timeout: timeoutMs });
      all.push(...page.tools);
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < MAX_PAGES);
    if (c !== client) return; // replaced meanwhile
    tools = served(cfg, all);
    deps.onListed({ tools, listed: all.length, pages, reason });
  };

  const drop = (c: Client) => {
    if (client !== c) return;
    client = undefined;
    c.close().catch(() => {});
  };

  const connect = async (timeoutMs: number) => {
    const c = new Client({ name: "llm-failover-gateway", version: "1" });
    c.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      list(c, "list_changed", cfg.timeoutMs).catch((e) =>
        deps.logger.warn("MCP tools/list after list_changed failed", {
          server: cfg.name,
          error: String(e),
        })
      );
    });
    c.onclose = () => drop(c);
    try {
      await c.connect(transport(), { timeout: timeoutMs });
      client = c;
      await list(c, everConnected ? "reconnected" : "connected", timeoutMs);
      everConnected = true;
    } catch (e) {
      client = c;
      drop(c);
      throw e;
    }
  };

  const ensure = (timeoutMs: number): Promise<void> => {
    if (client) return Promise.resolve();
    connecting ??= connect(timeoutMs).finally(() => connecting = undefined);
    return connecting;
  };

  /** Runs `op` on a connected client; a transport failure drops it, so the next one reconnects. */
  const withClient = async <T>(timeoutMs: number, op: (c: Client) => Promise<T>): Promise<T> => {
    await ensure(timeoutMs);
    const c = client!;
    try {
      return await op(c);
    } catch (e) {
      const kind = classify(e).errorType;
      if (kind === "unreachable" || kind === "timeout") drop(c);
      throw e;
    }
  };

  return {
    tools: () => tools,
    connected: () => client !== undefined,
    ensure,
    call: (tool, args, timeoutMs, signal) =>
      withClient(
        timeoutMs,
        async (c) =>
          await c.callTool({ name: tool, arguments: args }, undefined, {
            timeout: timeoutMs,
            signal,
          }) as CallToolResult,
      ),
    ping: (timeoutMs) =>
      withClient(timeoutMs, async (c) => void await c.ping({ timeout: timeoutMs })),
    async close() {
      const c = client;
      client = undefined;
      await c?.close().catch(() => {});
    },
  };
}
