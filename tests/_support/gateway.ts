// Spins up a real listening gateway (the same startGateway that `deno task serve` runs) from a
// config object, for integration tests.
import { buildConfig, type ConfigFile } from "../../src/config.ts";
import { silentLogger } from "../../src/lib/logger.ts";
import { type RunningGateway, startGateway } from "../../src/server.ts";

export function startTestGateway(
  raw: ConfigFile,
  env: Record<string, string> = {},
): RunningGateway {
  const config = buildConfig({ port: 0, ...raw }, (n) => env[n], "test");
  return startGateway(config, { logger: silentLogger, hostname: "127.0.0.1" });
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
