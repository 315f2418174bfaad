// An MCP server as an actor: the health decider (actors/mcp_server/) in an actor shell, around
// the SDK connection (./connection.ts). A call asks the breaker first, so a dead server's tools
// fail at once with a clear error instead of hanging the agent; every outcome is reported back
// and every fact published on the bus. Health pings run on an interval (pingMs) and count like
// calls: a dead server opens its breaker without traffic, and the ping that answers closes it.
import { createMcpServerDecider, type McpOutcome } from "../../actors/mcp_server/mod.ts";
import type { McpServerState } from "../../actors/mcp_server/mod.ts";
import { failureStats } from "../../actors/breaker/mod.ts";
import { spawn } from "../../actors/runtime/mod.ts";
import type { McpEvent, McpFailureKind } from "../events/catalogue.ts";
import type { Logger } from "../lib/logger.ts";
import type { Clock, IdGen, Random } from "../ports.ts";
import type { McpServerConfig } from "./config.ts";
import {
  type CallToolResult,
  classify,
  createConnection,
  type McpConnection,
  type Tool,
} from "./connection.ts";

export type ToolOutcome =
  | { ok: true; result: CallToolResult }
  | { ok: false; errorType: McpFailureKind; message: string; retryAfterMs?: number };

export interface McpServerSnapshot {
  server: string;
  transport: "http" | "stdio";
  connected: boolean;
  tools: string[];
  breaker: {
    state: "closed" | "open" | "half_open";
    failureRate: number;
    samples: number;
    openUntil: string | null;
    reopenCount: number;
  };
}

export interface McpServerActor {
  readonly name: string;
  readonly config: McpServerConfig;
  /** The server's tools (allow/deny applied), by their own names. */
  tools(): readonly Tool[];
  /** Connects and lists the tools; a failure is reported like a failed ping, never thrown. */
  start(): Promise<void>;
  call(
    tool: string,
    args: Record<string, unknown>,
    opts?: { requestId?: string; signal?: AbortSignal },
  ): Promise<ToolOutcome>;
  /** One health ping (also run every pingMs once started). */
  ping(): Promise<void>;
  state(): McpServerState;
  snapshot(): McpServerSnapshot;
  stop(): Promise<void>;
}

export interface McpServerDeps {
  clock: Clock;
  ids: IdGen;
  random: Random;
  publish(e: McpEvent): void;
  logger: Logger;
  /** Injected so tests drive the pings themselves (default: setInterval). */
  every?(ms: number, fn: () => void): () => void;
}

const defaultEvery = (ms: number, fn: () => void) => {
  const id = setInterval(fn, ms);
  Deno.unrefTimer(id as unknown as number);
  return () => clearInterval(id);
};

export function spawnMcpServer(cfg: McpServerConfig, deps: McpServerDeps): McpServerActor {
  const { clock, ids, random, logger } = deps;
  const breakerCfg = { ...cfg.breaker, probeLeaseMs: cfg.timeoutMs + 5_000 };
  let wake: ReturnType<typeof setTimeout> | undefined;
  const actor = spawn(cfg.name, createMcpServerDecider(cfg.name, breakerCfg), {
    publish(e) {
      deps.publish(e);
      // An opened breaker announces half-open on time, even without traffic.
      if (e.type === "mcp.breaker_opened") {
        if (wake !== undefined) clearTimeout(wake);
        wake = setTimeout(() => actor.tell({ type: "tick", now: clock.now() }), e.until - e.at);
        Deno.unrefTimer(wake as unknown as number);
      }
    },
    onCrash: (err) =>
      logger.error("MCP server actor crashed", { server: cfg.name, error: String(err) }),
  });
  const connection: McpConnection = createConnection(cfg, {
    logger,
    onListed: (l) =>
      actor.ask({
        type: "listed",
        event: {
          type: "mcp.tools_listed",
          at: clock.now(),
          server: cfg.name,
          tools: l.tools.length,
          listed: l.listed,
          pages: l.pages,
          reason: l.reason,
        },
      }),
  });
  let stopPings: (() => void) | undefined;

  const ping = async () => {
    const t0 = clock.now();
    let outcome: McpOutcome;
    try {
      await connection.ping(cfg.timeoutMs);
      outcome = { ok: true, latencyMs: clock.now() - t0 };
    } catch (e) {
      const c = classify(e);
      outcome = {
        ok: false,
        latencyMs: clock.now() - t0,
        errorType: c.errorType,
        message: c.message,
      };
    }
    actor.ask({ type: "ping", now: clock.now(), callId: ids.next(), outcome, rand: random() });
  };

  return {
    name: cfg.name,
    config: cfg,
    tools: () => connection.tools(),
    async start() {
      try {
        await connection.ensure(cfg.timeoutMs);
      } catch (e) {
        logger.warn("MCP server not reachable at start-up", { server: cfg.name, error: String(e) });
        await ping();
      }
      if (cfg.pingMs > 0 && !stopPings) {
        stopPings = (deps.every ?? defaultEvery)(cfg.pingMs, () => void ping());
      }
    },
    async call(tool, args, opts = {}) {
      const callId = ids.next();
      const asked = actor.ask({
        type: "call",
        now: clock.now(),
        callId,
        tool,
        requestId: opts.requestId,
      });
      const last = asked[asked.length - 1];
      if (last.type === "mcp.tool_failed") {
        return {
          ok: false,
          errorType: last.errorType,
          message: last.message,
          retryAfterMs: last.retryAfterMs,
        };
      }
      const probe = last.type === "mcp.tool_called" && last.probe;
      const t0 = clock.now();
      let outcome: McpOutcome;
      let result: ToolOutcome;
      try {
        const r = await connection.call(tool, args, cfg.timeoutMs, opts.signal);
        outcome = { ok: true, latencyMs: clock.now() - t0, isError: r.isError === true };
        result = { ok: true, result: r };
      } catch (e) {
        const c = opts.signal?.aborted
          ? { errorType: "aborted" as const, message: "the caller went away" }
          : classify(e);
        const message = c.errorType === "timeout"
          ? `MCP server "${cfg.name}" did not answer tool ${tool} within ${cfg.timeoutMs} ms`
          : c.errorType === "unreachable"
          ? `MCP server "${cfg.name}" is unreachable: ${c.message}`
          : c.message;
        outcome = { ok: false, latencyMs: clock.now() - t0, errorType: c.errorType, message };
        result = { ok: false, errorType: c.errorType, message };
      }
      actor.ask({
        type: "settle",
        now: clock.now(),
        callId,
        tool,
        probe,
        outcome,
        rand: random(),
        requestId: opts.requestId,
      });
      return result;
    },
    ping,
    state: actor.state,
    snapshot() {
      const b = actor.state().breaker;
      const stats = failureStats(breakerCfg, b, clock.now());
      return {
        server: cfg.name,
        transport: cfg.transport.kind,
        connected: connection.connected(),
        tools: connection.tools().map((t) => t.name),
        breaker: {
          state: b.status,
          failureRate: stats.failureRate,
          samples: stats.samples,
          openUntil: b.status === "closed" ? null : new Date(b.until).toISOString(),
          reopenCount: b.reopenCount,
        },
      };
    },
    async stop() {
      stopPings?.();
      if (wake !== undefined) clearTimeout(wake);
      actor.stop();
      await connection.close();
    },
  };
}
