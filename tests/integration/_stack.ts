// One integration stack: a real nats-server, the mock upstream, a real listening gateway wired to
// both, a live NATS subscriber, and an OpenAI SDK client pointed at the gateway.
import OpenAI from "openai";
import { type MockUpstream, startMockUpstream } from "../../bench/mock/mod.ts";
import type { ConfigFile } from "../../src/config.ts";
import type { CloudEvent } from "../../src/events/envelope.ts";
import type { RunningGateway } from "../../src/server.ts";
import { startTestGateway } from "../_support/gateway.ts";
import { collectEvents, type NatsServer, startNatsServer } from "../_support/nats_server.ts";

export interface Stack {
  nats: NatsServer;
  mock: MockUpstream;
  gw: RunningGateway;
  client: OpenAI;
  sub: Awaited<ReturnType<typeof collectEvents>>;
  /** Events about one request, in arrival order. */
  eventsOf(requestId: string): CloudEvent[];
}

export async function withStack(
  config: (mockUrl: string) => ConfigFile,
  fn: (s: Stack) => Promise<void>,
): Promise<void> {
  const nats = await startNatsServer();
  const mock = await startMockUpstream();
  let gw: RunningGateway | undefined;
  let sub: Stack["sub"] | undefined;
  try {
    sub = await collectEvents(nats.wsUrl);
    gw = startTestGateway({ ...config(mock.url), nats: { url: nats.wsUrl } });
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const events = sub.events;
    await fn({
      nats,
      mock,
      gw,
      client,
      sub,
      eventsOf: (id) => events.filter((e) => (e.data as { requestId?: string }).requestId === id),
    });
  } finally {
    await gw?.shutdown(1_000);
    await sub?.close();
    await mock.close();
    await nats.stop();
  }
}

export const types = (events: CloudEvent[]) => events.map((e) => e.type.replace(/^gateway\./, ""));

/** True when `want` appears in `have` in order (other entries may sit between). */
export function inOrder(have: string[], want: string[]): boolean {
  let i = 0;
  for (const h of have) if (h === want[i]) i++;
  return i === want.length;
}

export const hello = [{ role: "user" as const, content: "hello" }];
