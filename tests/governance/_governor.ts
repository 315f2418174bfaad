// Shared by the governance tests that drive the composed governor: an in-memory store (or the one
// given), an injected clock, a recorded event stream and log, the gateway's planner, and helpers
// to create a key and pick events by type.
import assert from "node:assert/strict";
import type { EventOf, GatewayEvent } from "../../src/events/mod.ts";
import { createGovernor, type GovernorDeps } from "../../src/governance/governor.ts";
import { createMemoryKeyStore } from "../../src/governance/memory_store.ts";
import type { KeyStore } from "../../src/governance/store.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { createPlanner } from "../../src/routing/plan.ts";

export const T0 = Date.parse("2025-03-05T13:14:15.000Z");
export const CONFIG_SECRET = "declared-secret-0123456789";

export function setup(opts: {
  declared?: boolean;
  store?: KeyStore;
  admin?: boolean;
  syncWaitMs?: number;
  /** The team (id) the declared key names. */
  declaredTeam?: string;
} = {}) {
  const clock = {
    t: T0,
    now() {
      return this.t;
    },
  };
  const events: GatewayEvent[] = [];
  const logs: string[] = [];
  const store = opts.store ?? createMemoryKeyStore();
  const config = {
    providers: { openai: {}, azure: {} },
    routes: {},
    pricing: { "openai/gpt-4o-mini": { inputPerMTok: 1_000_000, outputPerMTok: 2_000_000 } },
    virtualKeys: opts.declared
      ? [{
        id: "cfg-batch",
        name: "batch",
        secret: CONFIG_SECRET,
        env: "BATCH_KEY",
        providers: [{ provider: "azure", weight: 1 }],
        ...(opts.declaredTeam ? { team: opts.declaredTeam } : {}),
      }]
      : [],
    adminKey: opts.admin === false ? undefined : "adm",
  } as unknown as GovernorDeps["config"];
  const g = createGovernor({
    config,
    store,
    clock,
    publish: (e) => events.push(e),
    logger: createLogger("info", (l) => logs.push(l)),
    syncWaitMs: opts.syncWaitMs,
  });
  return { g, clock, events, logs, store };
}

/** What the gateway's planner gives a key for `model` (the config's providers, no routes). */
const planner = createPlanner({
  config: { providers: { openai: {}, azure: {} }, routes: {} },
  random: () => 0,
});
export const plan = (model: string) => (key: Parameters<typeof planner>[1]) =>
  planner({ model }, key);

export const fields = (extra: Record<string, unknown> = {}) => ({
  name: "team-a",
  providers: [{ provider: "openai", weight: 1 }],
  ...extra,
});

export async function created(
  g: ReturnType<typeof setup>["g"],
  extra: Record<string, unknown> = {},
) {
  const r = await g.createKey(fields(extra) as never);
  assert.ok(r.ok);
  return r.value;
}

export const ofType = <T extends GatewayEvent["type"]>(events: GatewayEvent[], type: T) =>
  events.filter((e): e is EventOf<T> => e.type === type);
