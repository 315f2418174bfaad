// The breaker and limiter as a user sees them: a dead model stops being called (the provider's
// other models still are), comes back after openMs through a half-open probe; an unreachable
// provider is skipped for every model; a 429 Retry-After blocks that (key, model) for that long.
import assert from "node:assert/strict";
import type OpenAI from "openai";
import { eventually, mockProvider } from "../_support/gateway.ts";
import { hello, inOrder, types, withStack } from "./_stack.ts";

type Body = OpenAI.ChatCompletionCreateParamsNonStreaming;
const body = { model: "primary/gpt-4o-mini", fallbacks: ["backup/b"], messages: hello } as Body;

type Snapshot = {
  provider: string;
  breaker: { state: string };
  models: { model: string; breaker: { state: string } }[];
};

async function primaryOf(gwUrl: string) {
  const state = await (await fetch(`${gwUrl}/v1/gateway/providers`)).json();
  const p = state.data.find((p: Snapshot) => p.provider === "primary") as Snapshot;
  const model = (m: string) => p.models.find((x) => x.model === m)?.breaker.state;
  return { provider: p.breaker.state, model };
}

Deno.test("the breaker opens, dead upstream gets no calls, then half-opens and closes after openMs", async () => {
  const openMs = 1_000;
  await withStack((url) => ({
    retries: { max: 0 },
    providers: {
      primary: mockProvider(url, "primary", "openai", {
        breaker: {
          minimumRequests: 3,
          failureRateThreshold: 0.5,
          windowMs: 10_000,
          openMs,
          halfOpenProbes: 1,
        },
      }),
      backup: mockProvider(url, "backup"),
    },
  }), async ({ mock, client, gw, sub }) => {
    // gpt-4o-mini answers 503 three times; after that the upstream answers again.
    mock.setFaults("primary", [{ kind: "status", status: 503, times: 3 }]);
    for (let i = 0; i < 3; i++) {
      const { response } = await client.chat.completions.create(body).withResponse();
      assert.equal(response.headers.get("x-gateway-provider"), "backup");
    }
    assert.equal(mock.hits("primary"), 3);
    await sub.waitFor((es) => types(es).includes("breaker.opened"));
    const opened = sub.events.find((e) => e.type === "gateway.breaker.opened")!;
    assert.equal(opened.subject, "gateway.breaker.opened.primary");
    assert.equal((opened.data as { model?: string }).model, "gpt-4o-mini", "the model's breaker");

    // Open: served by the backup without a wasted call to the primary's gpt-4o-mini.
    for (let i = 0; i < 3; i++) {
      const { response } = await client.chat.completions.create(body).withResponse();
      assert.equal(response.headers.get("x-gateway-provider"), "backup");
      assert.match(response.headers.get("x-gateway-fallback-errors")!, /circuit_open/);
    }
    assert.equal(mock.hits("primary"), 3);

    // The breaker is the model's: the same provider's other model is still called.
    const other = await client.chat.completions.create({ ...body, model: "primary/gpt-4o" })
      .withResponse();
    assert.equal(other.response.headers.get("x-gateway-provider"), "primary");
    assert.equal(other.response.headers.get("x-gateway-model"), "gpt-4o");
    assert.equal(mock.hits("primary"), 4);

    const state = await primaryOf(gw.url);
    assert.equal(state.model("gpt-4o-mini"), "open");
    assert.equal(state.model("gpt-4o"), "closed");
    assert.equal(state.provider, "closed");

    // After openMs the timer half-opens the model's breaker; one probe closes it.
    await sub.waitFor((es) => types(es).includes("breaker.half_opened"), 5_000);
    const { response } = await client.chat.completions.create(body).withResponse();
    assert.equal(response.headers.get("x-gateway-provider"), "primary");
    await sub.waitFor((es) => types(es).includes("breaker.closed"));
    assert.ok(
      inOrder(types(sub.events), ["breaker.opened", "breaker.half_opened", "breaker.closed"]),
    );
    const breakerEvents = sub.events.filter((e) => e.type.startsWith("gateway.breaker."));
    assert.deepEqual(
      breakerEvents.map((e) => (e.data as { model?: string }).model),
      breakerEvents.map(() => "gpt-4o-mini"),
      "no provider-wide transition for a model's 503s",
    );
    assert.equal(mock.hits("primary"), 5);
    assert.equal((await primaryOf(gw.url)).model("gpt-4o-mini"), "closed");
  });
});

Deno.test("a refused connection opens the provider-wide breaker: every model of it is skipped", async () => {
  // A port nothing listens on: connection refused.
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedPort = (l.addr as Deno.NetAddr).port;
  l.close();
  await withStack((url) => ({
    retries: { max: 0 },
    providers: {
      primary: {
        type: "openai",
        baseUrl: `http://127.0.0.1:${closedPort}/v1`,
        breaker: { minimumRequests: 1, failureRateThreshold: 0.5, openMs: 60_000 },
      },
      backup: mockProvider(url, "backup"),
    },
  }), async ({ client, gw, sub }) => {
    const first = await client.chat.completions.create(body).withResponse();
    assert.equal(first.response.headers.get("x-gateway-provider"), "backup");
    await sub.waitFor((es) => types(es).includes("breaker.opened"));
    const opened = sub.events.find((e) => e.type === "gateway.breaker.opened")!;
    assert.equal(opened.subject, "gateway.breaker.opened.primary");
    assert.equal("model" in (opened.data as object), false, "provider-wide: no model");
    const state = await primaryOf(gw.url);
    assert.equal(state.provider, "open");
    assert.notEqual(state.model("gpt-4o-mini"), "open", "not the model's breaker");

    // Another model of the same provider is skipped too, without trying the dead host.
    const other = await client.chat.completions.create({ ...body, model: "primary/gpt-4o" })
      .withResponse();
    assert.equal(other.response.headers.get("x-gateway-provider"), "backup");
    assert.match(other.response.headers.get("x-gateway-fallback-errors")!, /circuit_open/);
    const attempts = sub.events.filter((e) =>
      e.type === "gateway.attempt.started" &&
      (e.data as { provider: string }).provider === "primary"
    );
    assert.equal(attempts.length, 1, "only the first request tried primary");
  });
});

Deno.test("a failed half-open probe re-opens the breaker for longer", async () => {
  await withStack((url) => ({
    retries: { max: 0 },
    providers: {
      primary: mockProvider(url, "primary", "openai", {
        breaker: { minimumRequests: 1, failureRateThreshold: 0.5, openMs: 200, maxOpenMs: 10_000 },
      }),
      backup: mockProvider(url, "backup"),
    },
  }), async ({ mock, client, sub }) => {
    mock.setFaults("primary", [{ kind: "status", status: 500 }]);
    await client.chat.completions.create(body);
    await sub.waitFor((es) => types(es).includes("breaker.half_opened"), 5_000);
    await client.chat.completions.create(body); // the probe fails
    await sub.waitFor((es) => types(es).filter((t) => t === "breaker.opened").length === 2);
    const [first, second] = sub.events.filter((e) => e.type === "gateway.breaker.opened")
      .map((e) =>
        e.data as { openMs: number; reopenCount: number; reason: string; model?: string }
      );
    assert.equal(first.openMs, 200);
    assert.equal(first.model, "gpt-4o-mini");
    assert.equal(second.model, "gpt-4o-mini");
    assert.equal(second.reason, "probe_failed");
    assert.equal(second.reopenCount, 1);
    assert.ok(second.openMs >= 320 && second.openMs <= 480, `grown open time ${second.openMs}`);
  });
});

Deno.test("a 429 with a short Retry-After is waited out and the same model retried once", async () => {
  await withStack((url) => ({
    retries: { max: 0 },
    providers: { primary: mockProvider(url, "primary"), backup: mockProvider(url, "backup") },
  }), async ({ mock, client, sub }) => {
    mock.setFaults("primary", [{ kind: "rate_limit", retryAfterMs: 300, times: 1 }]);
    const t0 = Date.now();
    const { response } = await client.chat.completions.create(body).withResponse();
    assert.ok(Date.now() - t0 >= 300, "not called again before its Retry-After");
    assert.equal(response.headers.get("x-gateway-provider"), "primary");
    assert.equal(mock.hits("primary"), 2);
    assert.equal(mock.hits("backup"), 0);
    await sub.waitFor((es) => types(es).includes("attempt.retrying"));
  });
});

Deno.test("a 429 with a Retry-After past maxRetryAfterMs blocks that provider for that long, then it serves again", async () => {
  await withStack((url) => ({
    // 700 ms is more than this gateway waits for one model: it falls over at once.
    retries: { max: 0, maxRetryAfterMs: 500 },
    providers: { primary: mockProvider(url, "primary"), backup: mockProvider(url, "backup") },
  }), async ({ mock, client, sub }) => {
    mock.setFaults("primary", [{ kind: "rate_limit", retryAfterMs: 700, times: 1 }]);
    const t0 = Date.now();
    const first = await client.chat.completions.create(body).withResponse();
    assert.equal(first.response.headers.get("x-gateway-provider"), "backup");
    await sub.waitFor((es) => types(es).includes("ratelimit.blocked"));
    const blocked = sub.events.find((e) => e.type === "gateway.ratelimit.blocked")!;
    const data = blocked.data as {
      until: number;
      reason: string;
      provider: string;
      model?: string;
    };
    assert.equal(data.reason, "retry_after");
    assert.equal(data.provider, "primary");
    assert.equal(data.model, "gpt-4o-mini");
    assert.ok(
      data.until - t0 >= 650 && data.until - t0 <= 2_000,
      `blocked for ${data.until - t0} ms`,
    );

    // Inside the window: skipped without a call.
    const second = await client.chat.completions.create(body).withResponse();
    assert.equal(second.response.headers.get("x-gateway-provider"), "backup");
    assert.match(second.response.headers.get("x-gateway-fallback-errors")!, /rate_limited/);
    assert.equal(mock.hits("primary"), 1);
    // The same key still serves the provider's other models.
    const other = await client.chat.completions.create({ ...body, model: "primary/gpt-4o" })
      .withResponse();
    assert.equal(other.response.headers.get("x-gateway-provider"), "primary");
    assert.equal(mock.hits("primary"), 2);

    // After it: the primary serves again and the limiter says it refilled.
    await eventually(() => Date.now() > data.until + 20, 3_000, "block to pass");
    const third = await client.chat.completions.create(body).withResponse();
    assert.equal(third.response.headers.get("x-gateway-provider"), "primary");
    assert.equal(mock.hits("primary"), 3);
    await sub.waitFor((es) => types(es).includes("ratelimit.refilled"));
  });
});

Deno.test("every candidate unavailable answers 503 at once with Retry-After", async () => {
  await withStack((url) => ({
    retries: { max: 0 },
    providers: {
      primary: mockProvider(url, "primary", "openai", {
        breaker: { minimumRequests: 1, openMs: 60_000, maxOpenMs: 120_000 },
      }),
    },
  }), async ({ mock, gw }) => {
    mock.setFaults("primary", [{ kind: "status", status: 503 }]);
    const send = () =>
      fetch(`${gw.url}/v1/chat/completions`, {
        method: "POST",
        body: JSON.stringify({ model: "primary/m", messages: hello }),
      });
    assert.equal((await send()).status, 502);
    await (await send()).text().catch(() => {});
    const res = await send();
    const err = await res.json();
    assert.equal(res.status, 503);
    assert.equal(err.error.code, "providers_unavailable");
    const wait = Number(res.headers.get("retry-after"));
    assert.ok(wait > 50 && wait <= 60, `retry-after ${wait}`);
    assert.equal(mock.hits("primary"), 1);
  });
});
