// Reading a running gateway's events back: its own account of them (GET /readyz) and what
// JetStream stored, waiting (bounded) until the two agree.
import type { CloudEvent } from "../../src/events/envelope.ts";
import { type NatsServer, readStream } from "../../tests/_support/nats_server.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface BusStats {
  published: number;
  dropped: number;
  buffered: number;
  connected: boolean;
}

async function readyz(url: string): Promise<{ events?: BusStats }> {
  const res = await fetch(`${url}/readyz`);
  return await res.json();
}

/** Waits (bounded) until the gateway's event buffer is empty and NATS connected. */
export async function settleEvents(url: string, ms: number): Promise<BusStats> {
  const end = Date.now() + ms;
  let last = await readyz(url);
  while (Date.now() < end) {
    const e = last.events;
    if (e && e.connected && e.buffered === 0) break;
    await sleep(50);
    last = await readyz(url);
  }
  return last.events ?? { published: 0, dropped: 0, buffered: 0, connected: false };
}

/**
 * Every event from `source` in the stream — the gateway process's, its workers' included
 * (`<source>-w0`, `-w1`, … when it runs one worker per core) — read again (bounded) until there
 * are `atLeast`.
 */
const fromGateway = (seen: string, source: string) =>
  seen === source ||
  (seen.startsWith(`${source}-w`) && /^\d+$/.test(seen.slice(source.length + 2)));

export async function readStreamSettled(
  nats: NatsServer,
  source: string,
  atLeast: number,
): Promise<CloudEvent[]> {
  let events: CloudEvent[] = [];
  for (let i = 0; i < 50; i++) {
    events = (await readStream(nats.wsUrl).catch(() => [])).filter((e) =>
      fromGateway(e.source, source)
    );
    if (events.length >= atLeast) break;
    await sleep(100);
  }
  return events;
}
