// `deno bench -A bench/decision_path_bench.ts`: the in-process cost of deciding, per request,
// with no network. It prints figures and asserts nothing: the gateway's overhead budget is
// judged from these numbers and bench/e2e.ts, never by timed assertions in tests.
import type { GatewayEvent } from "../src/events/catalogue.ts";
import { toCloudEvent } from "../src/events/envelope.ts";
import { createMemoryBus } from "../src/events/memory_bus.ts";
import { systemClock } from "../src/lib/clock.ts";
import {
  type ProviderActor,
  type ProviderActorConfig,
  spawnProviderActor,
} from "../actors/provider/mod.ts";
import {
  type AttemptResult,
  type Candidate,
  supervise,
  type SupervisorDeps,
} from "../actors/supervisor/mod.ts";

function providerConfig(id: string): ProviderActorConfig {
  return {
    id,
    keys: [{ id: `${id}-1`, weight: 3 }, { id: `${id}-2`, weight: 1 }, {
      id: `${id}-3`,
      weight: 1,
    }],
    breaker: {
      failureRateThreshold: 0.5,
      // Never opens here, so every iteration walks the same path.
      minimumRequests: Number.MAX_SAFE_INTEGER,
      windowMs: 60_000,
      openMs: 30_000,
      maxOpenMs: 300_000,
      halfOpenProbes: 1,
      probeLeaseMs: 60_000,
    },
    rateLimit: { rpm: 0, tpm: 0 },
    modelCooldownMs: 300_000,
    defaultRetryAfterMs: 5_000,
    quotaCooldownMs: 60_000,
  };
}

// A memory bus with one subscriber, as when NATS is off and metrics listen in-process.
const bus = createMemoryBus();
let seen = 0;
bus.subscribe(() => seen++);

const actors = new Map<string, ProviderActor>(
  ["openai", "anthropic"].map((id) => [
    id,
    spawnProviderActor(providerConfig(id), { clock: systemClock, publish: bus.publish }),
  ]),
);
const openai = actors.get("openai")!;
let n = 0;

Deno.bench("provider actor: admit + report success", { group: "provider" }, () => {
  const ref = { requestId: `b-${n++}`, attempt: 1, model: "gpt-4o" };
  const now = systemClock.now();
  const admitted = openai.ask({ kind: "admit", now, estTokens: 200, rand: Math.random(), ...ref });
  const started = admitted[admitted.length - 1];
  if (started.type !== "attempt.started") throw new Error(`not admitted: ${started.type}`);
  openai.ask({
    kind: "report",
    now: systemClock.now(),
    key: started.key,
    probe: started.probe,
    reservedTokens: started.reservedTokens,
    outcome: { type: "success", status: 200, latencyMs: 120 },
    rand: Math.random(),
    ...ref,
  });
});

const deps: SupervisorDeps = {
  config: { maxRetries: 0, backoffBaseMs: 100, backoffMaxMs: 2_000 },
  provider: (id) => actors.get(id),
  publish: bus.publish,
  clock: systemClock,
  random: Math.random,
  sleep: () => Promise.resolve(),
};
const candidates: Candidate[] = [
  { provider: "openai", model: "gpt-4o" },
  { provider: "anthropic", model: "claude-sonnet" },
];
const signal = new AbortController().signal;
const okRun = (): Promise<AttemptResult<null>> =>
  Promise.resolve({ type: "success", status: 200, latencyMs: 0, value: null });
const failOpenaiRun = (a: { candidate: Candidate }): Promise<AttemptResult<null>> =>
  Promise.resolve(
    a.candidate.provider === "openai"
      ? { type: "failure", failure: { kind: "transient", status: 503, message: "x" }, latencyMs: 0 }
      : { type: "success", status: 200, latencyMs: 0, value: null },
  );

const input = () => ({
  requestId: `s-${n++}`,
  model: "gpt-4o",
  candidates,
  stream: false,
  estTokens: 200,
  signal,
});

Deno.bench("supervise(): first candidate succeeds (no-op run)", {
  group: "supervise",
  baseline: true,
}, async () => {
  const res = await supervise(deps, input(), okRun);
  if (!res.ok) throw new Error("request failed");
});

Deno.bench("supervise(): first fails, falls over to the second (no-op run)", {
  group: "supervise",
}, async () => {
  const res = await supervise(deps, input(), failOpenaiRun);
  if (!res.ok) throw new Error("request failed");
});

const event: GatewayEvent = {
  type: "attempt.failed",
  at: Date.now(),
  requestId: "0192f0c4a1b2000a1b2c3d4e5f",
  attempt: 2,
  provider: "openai",
  model: "gpt-4o",
  key: "openai-1",
  probe: false,
  status: 503,
  errorType: "transient",
  message: "The server is overloaded or not ready yet.",
  latencyMs: 412,
  counted: true,
};

Deno.bench("toCloudEvent(attempt.failed) + JSON.stringify", { group: "envelope" }, () => {
  const body = JSON.stringify(toCloudEvent(event, "0192f0c4a1b2000a1b2c3d4e5f", "gw-1"));
  if (body.length === 0) throw new Error("empty");
});

globalThis.addEventListener("unload", () => {
  for (const a of actors.values()) a.stop();
  if (seen === 0) console.error("no events reached the bus");
});
