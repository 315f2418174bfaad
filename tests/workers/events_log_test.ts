// WORKERS=2, the events log as a user reads it: the log is the main thread's, read on demand by
// whichever worker answers /v1/gateway/events — a client connected live, one resuming with
// Last-Event-ID and one asking for a replay all see each request once, from both workers; and a
// breaker opened on one worker is open on the other (only state events are handed over).
import assert from "node:assert/strict";
import { startMockUpstream } from "../../bench/mock/mod.ts";
import { spawnGateway } from "../../bench/faults/procs.ts";

const hello = [{ role: "user", content: "hello" }];
/** A new connection per request, so the kernel spreads them over both workers' listeners. */
const fresh = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });

interface Ce {
  id: string;
  source: string;
  type: string;
  data: { requestId?: string };
}

function chat(url: string, model: string, id: string) {
  return fetch(`${url}/v1/chat/completions`, {
    client: fresh,
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": id },
    body: JSON.stringify({ model, messages: hello }),
  });
}

/** An SSE client of /v1/gateway/events: the events it got so far, and a way to wait for more. */
function watch(url: string, query = "", headers: Record<string, string> = {}) {
  const got: Ce[] = [];
  const controller = new AbortController();
  const done = (async () => {
    const res = await fetch(`${url}/v1/gateway/events${query}`, {
      client: fresh,
      headers,
      signal: controller.signal,
    });
    assert.equal(res.status, 200);
    let buffer = "";
    for await (const text of res.body!.pipeThrough(new TextDecoderStream())) {
      buffer += text;
      const frames = buffer.split("\n\n");
      buffer = frames.pop()!;
      for (const f of frames) {
        const data = f.split("\n").find((l) => l.startsWith("data: "));
        if (data) got.push(JSON.parse(data.slice(6)));
      }
    }
  })().catch((e) => {
    if (!controller.signal.aborted) throw e;
  });
  return {
    got,
    async until(ok: (events: Ce[]) => boolean, what: string) {
      const deadline = Date.now() + 10_000;
      while (!ok(got)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    /** Reads on a little (nothing more should come), then disconnects. */
    async close() {
      await new Promise((r) => setTimeout(r, 300));
      controller.abort();
      await done;
    },
  };
}

const completedOf = (events: Ce[], ids: string[]) =>
  events.filter((e) => e.type === "gateway.request.completed" && ids.includes(e.data.requestId!));

Deno.test("WORKERS=2: /v1/gateway/events live, resumed and replayed shows each request once whichever worker answers; a breaker opened on one worker holds on the other", async () => {
  const mock = await startMockUpstream();
  const dir = await Deno.makeTempDir({ prefix: "gateway-events-log-" });
  mock.setFaults("dead", [{ kind: "status", status: 500 }]);
  const config = `${dir}/gateway.json`;
  const breaker = { minimumRequests: 4, failureRateThreshold: 0.5, openMs: 60_000 };
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      providers: {
        ok: { type: "openai", baseUrl: `${mock.url}/ok/v1` },
        dead: { type: "openai", baseUrl: `${mock.url}/dead/v1`, breaker },
      },
      retries: { max: 0 },
    }),
  );
  const gw = await spawnGateway({ GATEWAY_CONFIG: config, WORKERS: "2", GATEWAY_INSTANCE: "elog" });
  const clients: ReturnType<typeof watch>[] = [];
  try {
    const url = gw.url;
    // Two live clients, most likely on different workers (fresh connections): each follows the
    // main thread's log from the moment it connects.
    const live = [watch(url), watch(url)];
    clients.push(...live);
    await new Promise((r) => setTimeout(r, 300));
    const ids = Array.from({ length: 16 }, (_, i) => `live-${i}`);
    for (const id of ids) {
      const res = await chat(url, "ok/m", id);
      assert.equal(res.status, 200, await res.text());
    }
    for (const [n, c] of live.entries()) {
      await c.until((e) => completedOf(e, ids).length >= ids.length, `client ${n}'s requests`);
      await c.close();
      const completed = completedOf(c.got, ids);
      assert.deepEqual(completed.map((e) => e.data.requestId).sort(), [...ids].sort(), "once");
      assert.deepEqual(
        new Set(completed.map((e) => e.source)),
        new Set(["/gateway/elog-w0", "/gateway/elog-w1"]),
        "requests served by both workers, relayed by one",
      );
      assert.equal(new Set(c.got.map((e) => e.id)).size, c.got.length, "no event twice");
    }
    assert.deepEqual(
      live[0].got.map((e) => e.id),
      live[1].got.map((e) => e.id),
      "both clients saw one log, with the same ids",
    );

    // A client resuming where it stopped gets exactly what came after, from either worker.
    const log = live[0].got;
    const stop = log[Math.floor(log.length / 2)].id;
    const more = Array.from({ length: 6 }, (_, i) => `more-${i}`);
    for (const id of more) await (await chat(url, "ok/m", id)).body?.cancel();
    for (let k = 0; k < 2; k++) {
      const resumed = watch(url, "", { "last-event-id": stop });
      clients.push(resumed);
      await resumed.until((e) => completedOf(e, more).length >= more.length, "the resume");
      await resumed.close();
      assert.deepEqual(
        resumed.got.filter((e) => e.id <= log.at(-1)!.id).map((e) => e.id),
        log.filter((e) => e.id > stop).map((e) => e.id),
        "the missed events, once, in order",
      );
      assert.equal(new Set(resumed.got.map((e) => e.id)).size, resumed.got.length);
    }
    // ?replay=N: the last N matching events from the main thread's log.
    const replayed = watch(url, "?replay=6&types=request.completed");
    clients.push(replayed);
    await replayed.until((e) => e.length >= 6, "the replay");
    await replayed.close();
    assert.deepEqual(replayed.got.map((e) => e.data.requestId), more);

    // A breaker opened by failures on either worker is open on both: the dead upstream sees
    // minimumRequests calls in all, then both workers refuse at once.
    for (let i = 0; i < 8; i++) await (await chat(url, "dead/m", `dead-${i}`)).body?.cancel();
    // The other worker folds the opening a moment after it is decided: a call that lands there
    // in that moment is the one extra call workers may cost (docs/operations.md#workers).
    const deadHits = mock.hits("dead");
    assert.ok(
      deadHits >= breaker.minimumRequests && deadHits <= breaker.minimumRequests + 1,
      `dead upstream called ${deadHits} times`,
    );
    const refusedIds = Array.from({ length: 12 }, (_, i) => `refused-${i}`);
    for (const id of refusedIds) {
      const res = await chat(url, "dead/m", id);
      assert.equal(res.status, 503);
      await res.body?.cancel();
    }
    assert.equal(mock.hits("dead"), deadHits, "no call after the breaker opened");
    // Workers' batches reach the main thread in their own rhythm, so the log orders events of
    // different workers by arrival: compare the refusals as a set, each exactly once.
    const failed = watch(url, "?replay=30&types=request.failed");
    clients.push(failed);
    const isRefusal = (e: { data: { requestId?: string } }) =>
      e.data.requestId?.startsWith("refused-") === true;
    await failed.until((e) => e.filter(isRefusal).length >= 12, "the refusals");
    await failed.close();
    const refusals = failed.got.filter(isRefusal);
    assert.deepEqual(refusals.map((e) => e.data.requestId).sort(), [...refusedIds].sort());
    assert.equal(new Set(refusals.map((e) => e.source)).size, 2, "both workers refused");
  } finally {
    for (const c of clients) await c.close().catch(() => {});
    await gw.stop("SIGKILL", 1_000);
    await mock.close();
    await Deno.remove(dir, { recursive: true });
  }
});
