// Prometheus figures per MCP server and tool, fed from the mcp.* events on the bus (the same way
// src/telemetry/metrics.ts feeds the provider figures): calls, failures by kind, latency, and
// each server's breaker state (0 closed, 1 half-open, 2 open).
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { EventBus } from "../ports.ts";

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function observeMcpMetrics(registry: Registry, bus: EventBus, servers: readonly string[]) {
  const registers = [registry];
  const calls = new Counter({
    name: "gateway_mcp_tool_calls_total",
    help: "MCP tool calls by server and tool (circuit-open refusals included).",
    labelNames: ["server", "tool"] as const,
    registers,
  });
  const failures = new Counter({
    name: "gateway_mcp_tool_failures_total",
    help: "Failed MCP tool calls by server, tool and error type.",
    labelNames: ["server", "tool", "error_type"] as const,
    registers,
  });
  const latency = new Histogram({
    name: "gateway_mcp_tool_latency_seconds",
    help: "MCP tool call latency by server and tool.",
    labelNames: ["server", "tool"] as const,
    buckets: BUCKETS,
    registers,
  });
  const breaker = new Gauge({
    name: "gateway_mcp_breaker_state",
    help: "MCP server breaker: 0 closed, 1 half-open, 2 open.",
    labelNames: ["server"] as const,
    registers,
    aggregator: "max", // across workers: the worst any worker sees, never a sum of states
  });
  for (const s of servers) breaker.set({ server: s }, 0);
  return bus.subscribe((e) => {
    switch (e.type) {
      case "mcp.tool_called":
        calls.inc({ server: e.server, tool: e.tool });
        break;
      case "mcp.tool_succeeded":
        latency.observe({ server: e.server, tool: e.tool }, e.latencyMs / 1000);
        break;
      case "mcp.tool_failed":
        if (e.errorType === "circuit_open") calls.inc({ server: e.server, tool: e.tool });
        else latency.observe({ server: e.server, tool: e.tool }, e.latencyMs / 1000);
        failures.inc({ server: e.server, tool: e.tool, error_type: e.errorType });
        break;
      case "mcp.breaker_opened":
        breaker.set({ server: e.server }, 2);
        break;
      case "mcp.breaker_half_opened":
        breaker.set({ server: e.server }, 1);
        break;
      case "mcp.breaker_closed":
        breaker.set({ server: e.server }, 0);
        break;
    }
  });
}
