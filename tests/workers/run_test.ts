// WORKERS=2 as a user runs it: one process, two gateway workers on one port, and every number
// the same as one process would give — requests land on both workers, a breaker opened on one is
// open on the other, /metrics and /v1/gateway/events count each request once, a virtual key's
// limit holds across workers, and SIGTERM drains both and exits 0.
import assert from "node:assert/strict";
import { startMockUpstream } from "../../bench/mock/mod.ts";
import { spawnGateway } from "../../bench/faults/procs.ts";
import { parsePrometheus } from "../_support/prometheus.ts";

const hello = [{ role: "user", content: "hello" }];
const OPEN_KEY = "sk-open-0123456789abcdef";
const CAPPED_KEY = "sk-capped-0123456789abcdef";
/** A key for the dead provider alone (a key's providers are also its fallbacks). */
const DEAD_KEY = "sk-dead-0123456789abcdef";

/** A new connection per request, so the kernel spreads them over both workers' listeners. */
const fresh = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });

function chat(url: string, model: string, key: string, id: string) {
  return fetch(`${url}/v1/chat/completions`, {
    client: fresh,
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${key}`,
      "x-request-id": id,
    },
    body: JSON.stringify({ model, messages: hello }),
  });
}

interface Ce {
  id: string;
  source: string;
  type: string;
  data: { requestId?: string; provider?: string };
}

/** The events the gateway relays (the last `n`), as whichever worker answers sees them. */
async function events(url: string, n = 500): Promise<Ce[]> {
  const res = await fetch(`${url}/v1/gateway/events?replay=${n}`, { client: fresh });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  // The replayed backlog arrives at once; what follows is live. Read until a short quiet.
  while (true) {
    const next = reader.read();
    const r = await Promise.race([
      next,
      new Promise<"quiet">((ok) => setTimeout(ok, 300, "quiet")),
    ]);
    if (r === "quiet" || r.done) break;
    text += r.value;
  }
  await reader.cancel();
  return text.split("\n").filter((l) => l.startsWith("data: ")).map((l) => JSON.parse(l.slice(6)));
}

Deno.test("WORKERS=2: both workers serve one port and share breakers, events, metrics, keys; SIGTERM drains both", async () => {
  const mock = await startMockUpstream();
  const dir = await Deno.makeTempDir({ prefix: "gateway-workers-" });
  mock.setFaults("dead", [{ kind: "status", status: 500 }]);
  mock.setFaults("slow", [{ kind: "latency", ms: 700 }]);
  const config = `${dir}/gateway.json`;
  const all = ["ok", "dead", "slow"].map((provider) => ({ provider }));
  const breaker = {
    minimumRequests: 4,
    failureRateThreshold: 0.5,
    openMs: 60_000,
    maxOpenMs: 60_000,
  };
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      providers: {
        ok: { type: "openai", baseUrl: `${mock.url}/ok/v1` },
        dead: { type: "openai", baseUrl: `${mock.url}/dead/v1`, breaker },
        slow: { type: "openai", baseUrl: `${mock.url}/slow/v1` },
      },
      retries: { max: 0 },
      virtualKeys: [
        { name: "open", key: "env:OPEN_KEY", providers: all },
        { name: "dead", key: "env:DEAD_KEY", providers: [{ provider: "dead" }] },
        { name: "capped", key: "env:CAPPED_KEY", providers: all, limits: { rpm: 4 } },
      ],
    }),
  );
  const gw = await spawnGateway({
    GATEWAY_CONFIG: config,
    WORKERS: "2",
    OPEN_KEY,
    CAPPED_KEY,
    DEAD_KEY,
    GATEWAY_INSTANCE: "wtest",
  });
  try {
    assert.match(gw.stdout(), /workers: 2 \(WORKERS=2\)/);
    assert.equal(gw.stdout().match(/listening on/g)?.length, 1, "start-up lines printed once");
    const url = gw.url;

    // 1. Requests on fresh connections land on both workers; each is relayed and counted once.
    const ids = Array.from({ length: 16 }, (_, i) => `spread-${i}`);
    for (const id of ids) {
      const res = await chat(url, "ok/m", OPEN_KEY, id);
      const text = await res.text();
      assert.equal(res.status, 200, text);
    }
    const seen = await events(url);
    const completed = seen.filter((e) =>
      e.type === "gateway.request.completed" && ids.includes(e.data.requestId!)
    );
    assert.deepEqual(
      completed.map((e) => e.data.requestId).sort(),
      [...ids].sort(),
      "each request once",
    );
    assert.deepEqual(
      new Set(completed.map((e) => e.source)),
      new Set(["/gateway/wtest-w0", "/gateway/wtest-w1"]),
      "requests served by both workers",
    );
    assert.equal(new Set(seen.map((e) => e.id)).size, seen.length, "no event twice");
    const scrape = parsePrometheus(await (await fetch(`${url}/metrics`, { client: fresh })).text());
    const total = (name: string, labels: Record<string, string>) =>
      scrape.find(name, labels).reduce((sum, s) => sum + s.value, 0);
    assert.equal(total("gateway_requests_served_total", { provider: "ok" }), 16);
    assert.equal(total("gateway_http_requests_total", { route: "/v1/chat/completions" }), 16);
    // /readyz on either worker counts the whole process's events, not its own half.
    const ready = await (await fetch(`${url}/readyz`, { client: fresh })).json();
    assert.ok(ready.events.published >= seen.length, JSON.stringify(ready.events));

    // 2. A breaker opened by failures is open on both workers: no call reaches the dead upstream.
    for (let i = 0; i < 12; i++) {
      const res = await chat(url, "dead/m", DEAD_KEY, `dead-${i}`);
      await res.body?.cancel();
    }
    const opened = (await events(url)).filter((e) => e.type === "gateway.breaker.opened");
    assert.ok(opened.length >= 1, "the breaker opened");
    const deadCalls = mock.hits("dead");
    // One failure window for the process: the breaker opens after minimumRequests failures in
    // all, not minimumRequests on each worker (plus at most the one call the other worker may
    // take while it folds the opening).
    assert.ok(
      deadCalls >= breaker.minimumRequests && deadCalls <= breaker.minimumRequests + 1,
      `${deadCalls} calls before the breaker opened`,
    );
    const refusedIds = Array.from({ length: 12 }, (_, i) => `refused-${i}`);
    for (const id of refusedIds) {
      const res = await chat(url, "dead/m", DEAD_KEY, id);
      assert.equal(res.status, 503, "circuit open on whichever worker answers");
      await res.body?.cancel();
    }
    assert.equal(mock.hits("dead"), deadCalls, "no wasted call to the dead upstream");
    const refused = (await events(url)).filter((e) =>
      e.type === "gateway.request.failed" && refusedIds.includes(e.data.requestId!)
    );
    assert.equal(
      new Set(refused.map((e) => e.source)).size,
      2,
      "both workers refused at once (each saw the breaker open)",
    );

    // 3. A virtual key's rpm holds across workers: 4 a minute in all, not 4 per worker.
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await chat(url, "ok/m", CAPPED_KEY, `capped-${i}`);
      statuses.push(res.status);
      await res.body?.cancel();
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429, 429, 429]);

    // 4. SIGTERM drains both workers: requests in flight on each finish, the process exits 0.
    const inFlight = Array.from(
      { length: 6 },
      (_, i) => chat(url, "slow/m", OPEN_KEY, `slow-${i}`),
    );
    while (mock.hits("slow") < 6) await new Promise((r) => setTimeout(r, 10));
    const status = gw.stop("SIGTERM");
    const answers = await Promise.all(inFlight);
    assert.deepEqual(answers.map((r) => r.status), [200, 200, 200, 200, 200, 200]);
    for (const r of answers) await r.body?.cancel();
    assert.equal((await status).code, 0, gw.stderr());
    assert.match(gw.stdout(), /gateway: stopped/);
  } finally {
    await gw.stop("SIGKILL", 1_000);
    await mock.close();
    await Deno.remove(dir, { recursive: true });
  }
});
