// Liveness, readiness and the read-only provider state (breaker and limiter snapshots).
import type { Context } from "hono";
import type { Gateway } from "../gateway.ts";
import { within } from "../lib/within.ts";

export const healthz = () => (c: Context) => c.json({ status: "ok" });

/** Ready when not draining and at least one provider is configured. */
export function readyz(gw: Gateway) {
  return async (c: Context) => {
    const providers = gw.actors.ids();
    // Under workers the whole process's counts; this worker's own if the others cannot answer
    // within a second (a probe must not hang on a busy worker).
    const whole = gw.deps.processEvents ? await within(gw.deps.processEvents(), 1_000) : undefined;
    const bus = whole?.bus ?? gw.deps.bus.stats();
    const replicas = whole ? whole.replicas : gw.deps.replicas?.();
    const ready = !gw.draining && providers.length > 0;
    const reason = gw.draining
      ? "draining"
      : providers.length === 0
      ? "no providers configured: set OPENAI_API_KEY / ANTHROPIC_API_KEY or GATEWAY_CONFIG"
      : undefined;
    return c.json(
      {
        status: ready ? "ready" : "not_ready",
        reason,
        providers,
        events: { bus: gw.deps.bus.kind, ...bus },
        ...(replicas && { replicas }),
      },
      ready ? 200 : 503,
    );
  };
}

export function providerState(gw: Gateway) {
  return (c: Context) => {
    const now = gw.deps.clock.now();
    return c.json({
      object: "list",
      data: gw.actors.all().map((a) => ({
        ...a.snapshot(now),
        type: gw.deps.config.providers[a.id].type,
      })),
    });
  };
}
