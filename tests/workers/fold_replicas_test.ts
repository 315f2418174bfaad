import assert from "node:assert/strict";
import { type ProviderActor, spawnProviderActor } from "../../actors/provider/mod.ts";
import { Registry } from "../../actors/runtime/mod.ts";
import { actorConfig } from "../../src/gateway.ts";
import { buildConfig } from "../../src/config.ts";
import type { GatewayEvent } from "../../src/events/mod.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { createWorkerLink, foldOtherWorkers } from "../../src/workers/mod.ts";

const T = 1_700_000_000_000;

Deno.test("fold: another worker's breaker.opened opens ours; other kinds are skipped", () => {
  const config = buildConfig(
    { providers: { openai: { type: "openai", baseUrl: "http://127.0.0.1:9/v1" } } },
    () => undefined,
    "test",
  );
  const actors = new Registry<ProviderActor>();
  const published: GatewayEvent[] = [];
  actors.register(
    spawnProviderActor(actorConfig(config.providers.openai), {
      clock: { now: () => T },
      publish: (e) => published.push(e),
    }),
  );
  const link = createWorkerLink(() => {});
  const folding = foldOtherWorkers({
    link,
    actors,
    logger: createLogger("error"),
  });
  const opened = (model: string): GatewayEvent =>
    ({
      type: "breaker.opened",
      at: T,
      provider: "openai",
      model,
      reason: "failure_rate",
      openMs: 60_000,
      until: T + 60_000,
      failureRate: 1,
      samples: 5,
      reopenCount: 0,
    }) as GatewayEvent;
  const state = (batch: GatewayEvent[]) => link.receive({ t: "state", batch });
  // The log's entries are not the fold's: only what the main thread hands over as state.
  link.receive({ t: "feed", batch: [{ event: opened("logged"), id: "1", instance: "gw-w1" }] });
  state([opened("theirs"), { type: "request.started", at: T } as unknown as GatewayEvent]);
  const models = actors.get("openai")!.snapshot(T + 1).models;
  const breaker = (m: string) => models.find((x) => x.model === m)?.breaker.state ?? "closed";
  assert.equal(breaker("theirs"), "open", "folded from the other worker");
  assert.equal(breaker("logged"), "closed", "log entries are for the relay, not folded");
  assert.equal(folding.folded, 1);
  assert.deepEqual(published, [], "folding publishes nothing");
  folding.stop();
  state([opened("later")]);
  assert.equal(folding.folded, 1, "nothing after stop");
  actors.stopAll();
});
