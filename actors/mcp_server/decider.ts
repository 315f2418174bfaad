// An MCP server's health, pure: the provider breaker (actors/breaker/) folded over the server's
// tool calls and health pings. A call asks the breaker first: open → the call fails at once
// (`mcp.tool_failed`, circuit_open, with the wait); else it is `mcp.tool_called` (a probe when
// half-open). Its outcome is one event, then the breaker's verdict as `mcp.breaker_*`. A ping
// is judged like a call (so a dead server opens without traffic, and a ping is the probe that
// closes it again). Time and ids arrive in commands; the breaker sees its own attempt.* and
// breaker.* facts, translated from the mcp.* ones, so its logic is the providers' own.
import type {
  EventOf,
  GatewayEvent,
  McpEvent,
  McpFailureKind,
} from "../../src/events/catalogue.ts";
import type { Decider } from "../runtime/mod.ts";
import {
  type BreakerConfig,
  type BreakerEvent,
  type BreakerState,
  evolveBreaker,
  gate,
  initialBreaker,
  judge,
  tick,
} from "../breaker/mod.ts";

export interface McpServerState {
  breaker: BreakerState;
}

/** What a tool call or ping came to. */
export type McpOutcome =
  | { ok: true; latencyMs: number; isError?: boolean }
  | { ok: false; latencyMs: number; errorType: McpFailureKind; message: string };

export type McpServerCommand =
  | { type: "call"; now: number; callId: string; tool: string; requestId?: string }
  | {
    type: "settle";
    now: number;
    callId: string;
    tool: string;
    probe: boolean;
    outcome: McpOutcome;
    rand: number;
    requestId?: string;
  }
  | { type: "ping"; now: number; callId: string; outcome: McpOutcome; rand: number }
  | { type: "tick"; now: number }
  | { type: "listed"; event: EventOf<"mcp.tools_listed"> };

/** Failures that say the server is unwell (its breaker counts them). */
export const COUNTED: ReadonlySet<McpFailureKind> = new Set(["timeout", "unreachable", "protocol"]);

/** The breaker's own view of an mcp.* event (undefined: nothing for the breaker). */
function asBreakerFact(server: string, e: McpEvent): GatewayEvent | undefined {
  const attempt = { requestId: "", attempt: 0, provider: server, model: "", key: "" };
  switch (e.type) {
    case "mcp.tool_called":
      return {
        ...attempt,
        type: "attempt.started",
        at: e.at,
        requestId: e.callId,
        probe: e.probe,
        reservedTokens: 0,
      };
    case "mcp.tool_succeeded":
    case "mcp.pinged":
      if (e.type === "mcp.pinged" && !e.ok) {
        return failed(attempt, e.at, e.callId, e.probe, true, e.latencyMs);
      }
      return {
        ...attempt,
        type: "attempt.succeeded",
        at: e.at,
        requestId: e.callId,
        probe: e.probe,
        status: 200,
        latencyMs: e.latencyMs,
        reservedTokens: 0,
      };
    case "mcp.tool_failed":
      return failed(attempt, e.at, e.callId, e.probe, e.counted, e.latencyMs);
    case "mcp.breaker_opened": {
      const { server: _, ...rest } = e;
      return { ...rest, type: "breaker.opened", provider: server };
    }
    case "mcp.breaker_half_opened":
      return { type: "breaker.half_opened", at: e.at, provider: server, probes: e.probes };
    case "mcp.breaker_closed":
      return { type: "breaker.closed", at: e.at, provider: server };
    default:
      return undefined;
  }
}

function failed(
  attempt: { requestId: string; attempt: number; provider: string; model: string; key: string },
  at: number,
  callId: string,
  probe: boolean,
  counted: boolean,
  latencyMs: number,
): GatewayEvent {
  return {
    ...attempt,
    type: "attempt.failed",
    at,
    requestId: callId,
    probe,
    errorType: "transient",
    message: "",
    latencyMs,
    counted,
    scope: "model",
  };
}

/** The breaker's transitions as the server's own events. */
function asMcp(server: string, e: BreakerEvent): McpEvent {
  switch (e.type) {
    case "breaker.opened": {
      const { provider: _p, model: _m, ...rest } = e;
      return { ...rest, type: "mcp.breaker_opened", server };
    }
    case "breaker.half_opened":
      return { type: "mcp.breaker_half_opened", at: e.at, server, probes: e.probes };
    case "breaker.closed":
      return { type: "mcp.breaker_closed", at: e.at, server };
  }
}

export function createMcpServerDecider(
  server: string,
  cfg: BreakerConfig,
): Decider<McpServerState, McpServerCommand, McpEvent> {
  const evolve = (s: McpServerState, e: McpEvent): McpServerState => {
    const fact = asBreakerFact(server, e);
    return fact ? { breaker: evolveBreaker(cfg, s.breaker, fact) } : s;
  };
  /** The outcome event, then what the breaker makes of it. */
  const settle = (
    s: McpServerState,
    outcome: McpEvent,
    probe: boolean,
    now: number,
    rand: number,
  ) => {
    const after = evolve(s, outcome);
    const verdict = "ok" in outcome
      ? (outcome.ok ? "success" : "failure")
      : outcome.type === "mcp.tool_succeeded"
      ? "success"
      : outcome.type === "mcp.tool_failed" && outcome.counted
      ? "failure"
      : "neutral";
    const transitions = judge(cfg, after.breaker, server, { now, verdict, probe, rand });
    return [outcome, ...transitions.map((t) => asMcp(server, t))];
  };
  return {
    initialState: { breaker: initialBreaker },
    evolve,
    decide(s, c): McpEvent[] {
      switch (c.type) {
        case "call": {
          const g = gate(cfg, s.breaker, server, c.now);
          const ids = { at: c.now, server, tool: c.tool, callId: c.callId };
          const req = c.requestId === undefined ? {} : { requestId: c.requestId };
          if (!g.ok) {
            return [{
              ...ids,
              ...req,
              type: "mcp.tool_failed",
              probe: false,
              latencyMs: 0,
              errorType: "circuit_open",
              message: `MCP server "${server}" is unavailable (circuit open); retry in ${
                Math.ceil(g.retryAfterMs / 1000)
              }s`,
              counted: false,
              retryAfterMs: g.retryAfterMs,
            }];
          }
          const out: McpEvent[] = g.transition ? [asMcp(server, g.transition)] : [];
          return [...out, { ...ids, ...req, type: "mcp.tool_called", probe: g.probe }];
        }
        case "settle": {
          const ids = { at: c.now, server, tool: c.tool, callId: c.callId, probe: c.probe };
          const req = c.requestId === undefined ? {} : { requestId: c.requestId };
          const o = c.outcome;
          const event: McpEvent = o.ok
            ? {
              ...ids,
              ...req,
              type: "mcp.tool_succeeded",
              latencyMs: o.latencyMs,
              isError: !!o.isError,
            }
            : {
              ...ids,
              ...req,
              type: "mcp.tool_failed",
              latencyMs: o.latencyMs,
              errorType: o.errorType,
              message: o.message,
              counted: COUNTED.has(o.errorType),
            };
          return settle(s, event, c.probe, c.now, c.rand);
        }
        case "ping": {
          // A ping while open waits for the open time, then goes as the half-open probe.
          const g = gate(cfg, s.breaker, server, c.now);
          if (!g.ok) return [];
          const pre: McpEvent[] = g.transition ? [asMcp(server, g.transition)] : [];
          const started = pre.reduce(evolve, s);
          // The probe slot is taken and given back within the one command.
          const held = g.probe
            ? evolve(started, {
              type: "mcp.tool_called",
              at: c.now,
              server,
              tool: "",
              callId: c.callId,
              probe: true,
            })
            : started;
          const o = c.outcome;
          const ping: McpEvent = {
            type: "mcp.pinged",
            at: c.now,
            server,
            callId: c.callId,
            ok: o.ok,
            latencyMs: o.latencyMs,
            probe: g.probe,
            ...(!o.ok && { message: o.message }),
          };
          return [...pre, ...settle(held, ping, g.probe, c.now, c.rand)];
        }
        case "tick":
          return tick(cfg, s.breaker, server, c.now).map((t) => asMcp(server, t));
        case "listed":
          return [c.event];
      }
    },
  };
}
