// Spins up a real listening gateway (the same startGateway that `deno task serve` runs) from a
// config object, for integration tests.
import { buildConfig, type ConfigFile } from "../../src/config.ts";
import { createMemoryBus } from "../../src/events/mod.ts";
import { createGateway, type Gateway } from "../../src/gateway.ts";
import { systemClock } from "../../src/lib/clock.ts";
import { createIdGen } from "../../src/lib/ids.ts";
import { type Logger, silentLogger } from "../../src/lib/logger.ts";
import { fetchHttp } from "../../src/providers/fetch_http.ts";
import { type RunningGateway, startGateway } from "../../src/server.ts";

export function startTestGateway(
  raw: ConfigFile,
  env: Record<string, string> = {},
): RunningGateway {
  const config = buildConfig({ port: 0, ...raw }, (n) => env[n], "test");
  return startGateway(config, { logger: silentLogger, hostname: "127.0.0.1" });
}

/** A gateway that does not listen, from a config object, on the real clock and fetch; stop() it. */
export function createTestGateway(raw: ConfigFile, logger: Logger = silentLogger): Gateway {
  return createGateway({
    config: buildConfig(raw, () => undefined, "test"),
    bus: createMemoryBus(),
    clock: systemClock,
    ids: createIdGen(),
    random: Math.random,
    http: fetchHttp,
    logger,
  });
}

/** A provider entry pointing at a mock upstream target, with breaker and timeouts for tests. */
export function mockProvider(
  mockUrl: string,
  target: string,
  type: "openai" | "anthropic" = "openai",
  extra: Record<string, unknown> = {},
) {
  return {
    type,
    baseUrl: `${mockUrl}/${target}/v1`,
    timeouts: { firstTokenMs: 2_000, totalMs: 10_000 },
    ...extra,
  } as const;
}

/** Polls `cond` (every 10 ms, at most `ms`), for state that settles asynchronously. */
export async function eventually(
  cond: () => boolean,
  ms = 5_000,
  what = "condition",
): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
