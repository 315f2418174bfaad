// GET /v1/gateway/events: the SSE relay, on a real listening gateway in front of the mock upstream,
// and its edges (heartbeats, replay, resume, slow clients, disconnects) on the relay itself.
import assert from "node:assert/strict";
import { Hono } from "hono";
import { startMockUpstream } from "../../bench/mock/mod.ts";
import type { GatewayEvent } from "../../src/events/catalogue.ts";
import type { CloudEvent } from "../../src/events/envelope.ts";
import { createEventsRelay } from "../../src/http/events_sse.ts";
import { eventually, mockProvider, startTestGateway } from "../_support/gateway.ts";

interface Frame {
  id?: string;
  data?: string;
  comments: string[];
  retry?: number;
}

/** Reads an SSE body frame by frame (frames end with a blank line). */
function sseReader(body: ReadableStream<Uint8Array>) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let pending: Promise<ReadableStreamReadResult<string>> | undefined;
  const frames: Frame[] = [];
  const parse = (block: string): Frame => {
    const f: Frame = { comments: [] };
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) f.comments.push(line.slice(1).trim());
      else if (line.startsWith("id: ")) f.id = line.slice(4);
      else if (line.startsWith("data: ")) f.data = line.slice(6);
      else if (line.startsWith("retry: ")) f.retry = Number(line.slice(7));
    }
    return f;
  };
  return {
    async next(timeoutMs = 5_000): Promise<Frame> {
      const deadline = Date.now() + timeoutMs;
      while (true) {
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const f = parse(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          frames.push(f);
          return f;
        }
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new Error(`no SSE frame within ${timeoutMs}ms; have ${JSON.stringify(buffer)}`);
        }
        // A read outlives a timeout: the next call picks it up, so no chunk is ever lost.
        pending ??= reader.read();
        let timer: ReturnType<typeof setTimeout> | undefined;
        const chunk = await Promise.race([
          pending,
          new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), left)),
        ]);
        clearTimeout(timer);
        if (chunk === "timeout") continue;
        pending = undefined;
        if (chunk.done) throw new Error("SSE stream ended");
        buffer += chunk.value;
      }
    },
    /** Next frame carrying an event. */
    async event(timeoutMs = 5_000): Promise<CloudEvent> {
      while (true) {
        const f = await this.next(timeoutMs);
        if (f.data) return JSON.parse(f.data);
      }
    },
    frames,
    cancel: () => reader.cancel().catch(() => {}),
  };
}

const chat = (url: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "primary/gpt-4o-mini",
      fallbacks: ["backup/b-model"],
      messages: [{ role: "user", content: "hi" }],
    }),
  });

Deno.test("a failover reaches an SSE client as it happens, filtered by ?types", async () => {
  const mock = await startMockUpstream();
  const gw = startTestGateway({
    retries: { max: 0 },
    providers: {
      primary: mockProvider(mock.url, "primary", "openai", {
        breaker: { minimumRequests: 2, failureRateThreshold: 0.5, openMs: 60_000 },
      }),
      backup: mockProvider(mock.url, "backup"),
    },
  });
  const abort = new AbortController();
  try {
    const res = await fetch(`${gw.url}/v1/gateway/events?types=fallback.taken,breaker.*`, {
      signal: abort.signal,
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /^text\/event-stream/);
    assert.match(res.headers.get("cache-control")!, /no-cache/);
    const sse = sseReader(res.body!);
    const hello = await sse.next();
    assert.equal(hello.retry, 2000);

    mock.setFaults("primary", [{ kind: "status", status: 503 }]);
    const first = await chat(gw.url);
    assert.equal(first.headers.get("x-gateway-provider"), "backup");
    const requestId = first.headers.get("x-request-id");
    await first.body?.cancel();

    const fallback = await sse.event();
    assert.equal(fallback.type, "gateway.fallback.taken");
    assert.equal(fallback.specversion, "1.0");
    assert.equal(fallback.subject, "gateway.fallback.taken.backup");
    assert.equal(fallback.source, `/gateway/${gw.gateway.deps.config.instance}`);
    assert.deepEqual(
      {
        ...(fallback.data as Record<string, unknown>),
      },
      {
        requestId,
        provider: "backup",
        model: "b-model",
        fallbackIndex: 1,
        fromProvider: "primary",
        fromModel: "gpt-4o-mini",
        reason: "transient",
      },
    );

    // The second failure opens the breaker: the next event is that, not any request.* or attempt.*.
    await (await chat(gw.url)).body?.cancel();
    const types = [(await sse.event()).type, (await sse.event()).type];
    assert.deepEqual(types.sort(), ["gateway.breaker.opened", "gateway.fallback.taken"]);
    const ids = sse.frames.filter((f) => f.data).map((f) => f.id!);
    assert.equal(new Set(ids).size, ids.length, "every event has its own id");
  } finally {
    abort.abort();
    await gw.shutdown(1_000);
    await mock.close();
  }
});

Deno.test("?types with an unknown type, a bad provider or a bad replay count is a 400 naming it", async () => {
  const gw = startTestGateway({});
  try {
    const bad = await fetch(`${gw.url}/v1/gateway/events?types=fallback.takn`);
    assert.equal(bad.status, 400);
    const body = await bad.json();
    assert.match(body.error.message, /unknown event type "fallback\.takn"/);
    assert.equal(body.error.param, "types");
    const p = await fetch(`${gw.url}/v1/gateway/events?provider=Open%20AI`);
    assert.equal(p.status, 400);
    assert.equal((await p.json()).error.param, "provider");
    const r = await fetch(`${gw.url}/v1/gateway/events?replay=-1`);
    assert.equal(r.status, 400);
    assert.equal((await r.json()).error.param, "replay");
  } finally {
    await gw.shutdown(1_000);
  }
});

/** A relay on a real gateway's bus, served by a bare Hono app so the test holds the relay. */
function relayOn(
  gw: ReturnType<typeof startTestGateway>,
  opts: Parameters<typeof createEventsRelay>[1],
) {
  const relay = createEventsRelay(gw.gateway, opts);
  const app = new Hono();
  app.get("/events", relay.handler);
  return { relay, app };
}

const closed = (provider: string): GatewayEvent => ({
  type: "breaker.closed",
  at: Date.now(),
  provider,
});

Deno.test("an idle stream gets heartbeat comments; a client that leaves is unhooked at once", async () => {
  const gw = startTestGateway({});
  const { relay, app } = relayOn(gw, { heartbeatMs: 30 });
  try {
    const abort = new AbortController();
    const res = await app.request("/events", { signal: abort.signal });
    const sse = sseReader(res.body!);
    await sse.next(); // retry + greeting
    assert.equal(relay.clients(), 1);
    const beat = await sse.next(1_000);
    assert.deepEqual(beat.comments, ["heartbeat"]);
    assert.equal(beat.data, undefined);

    abort.abort();
    await eventually(() => relay.clients() === 0, 2_000, "client unhooked");
    gw.bus.publish(closed("x")); // nobody listening: nothing breaks
    await sse.cancel();

    // A reader that cancels its body is unhooked too.
    const res2 = await app.request("/events");
    const sse2 = sseReader(res2.body!);
    await sse2.next();
    assert.equal(relay.clients(), 1);
    await sse2.cancel();
    assert.equal(relay.clients(), 0);
  } finally {
    relay.close();
    await gw.shutdown(1_000);
  }
});

Deno.test("?replay=N starts with the last N events; Last-Event-ID resumes after the one given", async () => {
  const gw = startTestGateway({});
  const { relay, app } = relayOn(gw, { backlog: 3, heartbeatMs: 60_000 });
  try {
    for (const p of ["p1", "p2", "p3", "p4", "p5"]) gw.bus.publish(closed(p));
    const providerOf = (ce: CloudEvent) => (ce.data as { provider: string }).provider;

    const res = await app.request("/events?replay=2");
    const sse = sseReader(res.body!);
    const replayed = [await sse.event(), await sse.event()];
    assert.deepEqual(replayed.map(providerOf), ["p4", "p5"]);
    gw.bus.publish(closed("p6")); // then live
    const live = await sse.event();
    assert.equal(providerOf(live), "p6");
    await sse.cancel();

    // The ring now holds p4, p5, p6. Resuming after p4 gives p5 and p6, nothing twice.
    const resumed = sseReader(
      (await app.request("/events", { headers: { "last-event-id": replayed[0].id } })).body!,
    );
    assert.deepEqual([providerOf(await resumed.event()), providerOf(await resumed.event())], [
      "p5",
      "p6",
    ]);
    await resumed.cancel();

    // ?replay with ?types counts matching events only.
    gw.bus.publish({ ...closed("p7"), type: "breaker.half_opened", probes: 1 } as GatewayEvent);
    const typed = sseReader(
      (await app.request("/events?replay=5&types=breaker.half_opened")).body!,
    );
    assert.equal(providerOf(await typed.event()), "p7");
    await typed.cancel();
  } finally {
    relay.close();
    await gw.shutdown(1_000);
  }
});

Deno.test("a client that does not read loses events past a bound, is told how many, and never holds up publishing", async () => {
  const gw = startTestGateway({});
  const { relay, app } = relayOn(gw, { maxQueued: 5, heartbeatMs: 60_000 });
  try {
    const res = await app.request("/events");
    const started = performance.now();
    for (let i = 0; i < 500; i++) gw.bus.publish(closed(`p${i}`));
    assert.ok(performance.now() - started < 1_000, "publishing did not wait for the client");

    const sse = sseReader(res.body!);
    await sse.next(); // greeting
    const delivered: string[] = [];
    for (let i = 0; i < 20; i++) {
      const f = await sse.next(200).catch(() => undefined);
      if (!f) break;
      if (f.data) delivered.push((JSON.parse(f.data).data as { provider: string }).provider);
    }
    assert.ok(delivered.length >= 1 && delivered.length <= 6, `queued: ${delivered.length}`);
    assert.deepEqual(delivered, delivered.map((_, i) => `p${i}`), "the oldest are kept, in order");

    gw.bus.publish(closed("after"));
    const note = await sse.next();
    assert.match(note.comments[0], /^dropped (\d+) events: this client read too slowly$/);
    const dropped = Number(/dropped (\d+)/.exec(note.comments[0])![1]);
    assert.equal(dropped + delivered.length, 500);
    assert.equal(((await sse.event()).data as { provider: string }).provider, "after");
    await sse.cancel();
  } finally {
    relay.close();
    await gw.shutdown(1_000);
  }
});

Deno.test("closing the relay ends every stream", async () => {
  const gw = startTestGateway({});
  const { relay, app } = relayOn(gw, {});
  try {
    const sse = sseReader((await app.request("/events")).body!);
    await sse.next();
    relay.close();
    await assert.rejects(() => sse.next(1_000), /SSE stream ended/);
    assert.equal(relay.clients(), 0);
  } finally {
    await gw.shutdown(1_000);
  }
});

Deno.test("shutting the gateway down ends open event streams instead of waiting on them", async () => {
  const gw = startTestGateway({});
  const res = await fetch(`${gw.url}/v1/gateway/events`);
  const sse = sseReader(res.body!);
  await sse.next();
  const started = performance.now();
  await gw.shutdown(5_000);
  assert.ok(performance.now() - started < 2_000, "shutdown did not wait for the SSE client");
  await assert.rejects(() => sse.next(2_000), /SSE stream ended|error/i);
});
