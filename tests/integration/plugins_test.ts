// Plugins on a real listening gateway: hooks around every attempt (fallbacks included), a plugin
// ending the chain, the response cache (in memory, and shared by two gateways through NATS KV),
// the guardrail and header/metadata forwarding — checked where a user would notice: the answer,
// its headers, what the upstreams received, and the events.
import assert from "node:assert/strict";
import { completionText, type MockUpstream, startMockUpstream } from "../../bench/mock/mod.ts";
import { buildConfig, type ConfigFile } from "../../src/config.ts";
import type { GatewayEvent } from "../../src/events/catalogue.ts";
import { silentLogger } from "../../src/lib/logger.ts";
import type { Plugin } from "../../src/plugins/mod.ts";
import { type RunningGateway, startGateway } from "../../src/server.ts";
import { mockProvider, startTestGateway } from "../_support/gateway.ts";
import { collectEvents, startNatsServer } from "../_support/nats_server.ts";

interface Started {
  gw: RunningGateway;
  mock: MockUpstream;
  events: GatewayEvent[];
  eventsOf(requestId: string): GatewayEvent[];
}

async function withGateway(
  config: (mockUrl: string) => ConfigFile,
  fn: (s: Started) => Promise<void>,
  plugins: Plugin[] = [],
) {
  const mock = await startMockUpstream();
  const gw = startGateway(buildConfig({ port: 0, ...config(mock.url) }, () => undefined, "test"), {
    logger: silentLogger,
    hostname: "127.0.0.1",
    plugins,
  });
  const events: GatewayEvent[] = [];
  const unsubscribe = gw.bus.subscribe((e) => events.push(e));
  try {
    await fn({
      gw,
      mock,
      events,
      eventsOf: (id) => events.filter((e) => "requestId" in e && e.requestId === id),
    });
  } finally {
    unsubscribe();
    await gw.shutdown(1_000);
    await mock.close();
  }
}

const twoProviders = (url: string) => ({
  retries: { max: 0 },
  providers: { primary: mockProvider(url, "primary"), backup: mockProvider(url, "backup") },
});

async function ask(
  gw: RunningGateway,
  body: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({
      model: "primary/gpt-4o-mini",
      fallbacks: ["backup/gpt-4o-mini"],
      messages: [{ role: "user", content: "hi" }],
      ...body,
    }),
  });
  // deno-lint-ignore no-explicit-any
  const json = await res.json() as any;
  return { res, json, id: res.headers.get("x-request-id")! };
}

Deno.test("plugins run in order around EVERY attempt: a failover runs them again", async () => {
  const calls: string[] = [];
  const recorder = (name: string): Plugin => ({
    name,
    begin: () => void calls.push(`${name}.begin`),
    pre: (ctx) => void calls.push(`${name}.pre ${ctx.candidate.provider} #${ctx.attempt}`),
    post: (ctx) => void calls.push(`${name}.post ${ctx.candidate.provider} ${ctx.outcome.type}`),
  });
  await withGateway(twoProviders, async ({ gw, mock }) => {
    mock.setFaults("primary", [{ kind: "status", status: 503 }]);
    const { res, json } = await ask(gw);
    assert.equal(res.status, 200);
    assert.equal(json.choices[0].message.content, completionText("backup"));
    assert.deepEqual(calls, [
      "outer.begin",
      "inner.begin",
      "outer.pre primary #1",
      "inner.pre primary #1",
      "inner.post primary failure",
      "outer.post primary failure",
      "outer.pre backup #2",
      "inner.pre backup #2",
      "inner.post backup success",
      "outer.post backup success",
    ]);
    assert.equal(
      calls.filter((c) => c.includes(".pre ")).length,
      4,
      "pre ran once per plugin per attempt",
    );
  }, [recorder("outer"), recorder("inner")]);
});

Deno.test("a plugin that stops on the first failure: the fallback is never called, the client reads why", async () => {
  const oneShot: Plugin = {
    name: "one_shot",
    post: (ctx) =>
      ctx.outcome.type === "failure"
        ? {
          stop: {
            reason: `no fallback after ${ctx.candidate.provider} failed`,
            code: "no_fallback",
          },
        }
        : undefined,
  };
  await withGateway(twoProviders, async ({ gw, mock, eventsOf }) => {
    mock.setFaults("primary", [{ kind: "status", status: 503 }]);
    const { res, json, id } = await ask(gw);
    assert.equal(res.status, 503);
    assert.deepEqual(json.error, {
      message: "no fallback after primary failed",
      type: "transient",
      code: "no_fallback",
      param: null,
    });
    assert.equal(mock.hits("primary"), 1);
    assert.equal(mock.hits("backup"), 0);
    const story = eventsOf(id).map((e) => e.type);
    assert.deepEqual(story.slice(-3), ["attempt.failed", "plugin.stopped", "request.failed"]);
    const stopped = eventsOf(id).find((e) => e.type === "plugin.stopped");
    assert.deepEqual(
      stopped?.type === "plugin.stopped" &&
        [stopped.plugin, stopped.provider, stopped.status, stopped.reason],
      ["one_shot", "primary", 503, "no fallback after primary failed"],
    );
  }, [oneShot]);
});

Deno.test("cache: the second identical request is a hit, with no upstream call", async () => {
  await withGateway((url) => ({ ...twoProviders(url), plugins: [{ type: "cache" }] }), async (
    { gw, mock, eventsOf },
  ) => {
    const first = await ask(gw);
    assert.equal(first.res.headers.get("x-gateway-cache"), "miss");
    assert.equal(mock.hits("primary"), 1);
    const second = await ask(gw);
    assert.equal(second.res.status, 200);
    assert.equal(second.res.headers.get("x-gateway-cache"), "hit");
    assert.equal(mock.hits("primary"), 1, "no upstream call");
    assert.equal(mock.hits("backup"), 0);
    assert.deepEqual(second.json.choices, first.json.choices);
    assert.equal(second.res.headers.get("x-gateway-provider"), "primary");
    assert.equal(second.res.headers.get("x-gateway-attempts"), "0");
    assert.deepEqual(second.json.extra_fields.attempts, []);
    assert.deepEqual(eventsOf(second.id).map((e) => e.type), [
      "request.started",
      "cache.hit",
      "request.completed",
    ]);
    // A different request, or a stream, is not served from the cache.
    const other = await ask(gw, { temperature: 0.5 });
    assert.equal(other.res.headers.get("x-gateway-cache"), "miss");
    assert.equal(mock.hits("primary"), 2);
    const stream = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "primary/gpt-4o-mini",
        fallbacks: ["backup/gpt-4o-mini"],
        messages: [{ role: "user", content: "hi" }],
        stream: true,
      }),
    });
    await stream.text();
    assert.equal(stream.headers.get("x-gateway-cache"), null);
    assert.equal(mock.hits("primary"), 3);
  });
});

Deno.test("cache on NATS KV: a second gateway answers from the first one's entry", async () => {
  const nats = await startNatsServer();
  const mock = await startMockUpstream();
  const config = {
    ...twoProviders(mock.url),
    nats: { url: nats.wsUrl },
    plugins: [{ type: "cache" as const }],
  };
  const one = startTestGateway(config);
  const two = startTestGateway(config);
  const sub = await collectEvents(nats.wsUrl);
  try {
    const first = await ask(one);
    assert.equal(first.res.headers.get("x-gateway-cache"), "miss");
    const second = await ask(two);
    assert.equal(second.res.headers.get("x-gateway-cache"), "hit");
    assert.equal(mock.hits("primary"), 1);
    assert.deepEqual(second.json.choices, first.json.choices);
    await sub.waitFor(() =>
      sub.events.some((e) =>
        e.type === "gateway.cache.hit" && (e.data as { requestId: string }).requestId === second.id
      )
    );
    const hit = sub.events.find((e) => e.type === "gateway.cache.hit")!;
    assert.equal(hit.subject, "gateway.cache.hit.primary");
  } finally {
    await sub.close();
    await one.shutdown(1_000);
    await two.shutdown(1_000);
    await mock.close();
    await nats.stop();
  }
});

Deno.test("guardrail deny: 400 naming the rule, no upstream called, plugin.stopped told", async () => {
  await withGateway((url) => ({
    ...twoProviders(url),
    plugins: [{
      type: "guardrail",
      deny: [{ name: "card_number", pattern: "\\b(?:\\d[ -]?){15}\\d\\b" }],
    }],
  }), async ({ gw, mock, eventsOf }) => {
    // Even with every provider down, a denied request is a 400, not a 503.
    mock.setFaults("primary", [{ kind: "status", status: 503 }]);
    const { res, json, id } = await ask(gw, {
      messages: [{ role: "user", content: "charge 4111 1111 1111 1111 please" }],
    });
    assert.equal(res.status, 400);
    assert.equal(json.error.code, "guardrail_denied");
    assert.equal(json.error.type, "invalid_request_error");
    assert.match(json.error.message, /guardrail rule "card_number"/);
    assert.doesNotMatch(json.error.message, /4111/);
    assert.deepEqual(mock.allHits(), {});
    assert.deepEqual(eventsOf(id).map((e) => e.type), [
      "request.started",
      "plugin.stopped",
      "request.failed",
    ]);
    const ok = await ask(gw, { messages: [{ role: "user", content: "order 12 apples" }] });
    assert.equal(ok.res.status, 200);
  });
});

/** An OpenAI-compatible upstream that records what it receives; paths under /down/ answer 503. */
function recordingUpstream() {
  const seen: { path: string; body: Record<string, unknown>; headers: Headers }[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    seen.push({ path, body: await req.json(), headers: req.headers });
    if (path.startsWith("/down/")) {
      return Response.json({ error: { message: "down", type: "server_error", code: null } }, {
        status: 503,
      });
    }
    return Response.json({
      id: "chatcmpl-rec",
      object: "chat.completion",
      created: 1,
      model: "m",
      choices: [{
        index: 0,
        message: { role: "assistant", content: "recorded" },
        finish_reason: "stop",
        logprobs: null,
      }],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    seen,
    close: () => server.shutdown(),
  };
}

Deno.test("guardrail maxTokens clamp and header forwarding reach every attempt's upstream; metadata reaches the events", async () => {
  const up = recordingUpstream();
  const gw = startTestGateway({
    retries: { max: 0 },
    providers: {
      primary: {
        type: "openai",
        baseUrl: `${up.url}/down/v1`,
        keys: [{ value: "env:PRIMARY_KEY" }],
        headers: { "x-title": "from-config" },
      },
      backup: { type: "openai", baseUrl: `${up.url}/up/v1`, keys: [{ value: "env:BACKUP_KEY" }] },
    },
    plugins: [
      { type: "headers", forwardHeaders: ["x-trace-id", "x-title"] },
      { type: "guardrail", maxTokens: 64 },
    ],
  }, { PRIMARY_KEY: "sk-primary", BACKUP_KEY: "sk-backup" });
  const events: GatewayEvent[] = [];
  const unsubscribe = gw.bus.subscribe((e) => events.push(e));
  try {
    const { res, json, id } = await ask(gw, { max_tokens: 1_000 }, {
      "x-trace-id": "trace-77",
      "x-title": "from-client",
      authorization: "Bearer client-secret",
      "x-gateway-metadata": '{"team":"search","ticket":42}',
    });
    assert.equal(res.status, 200);
    assert.equal(json.choices[0].message.content, "recorded");
    assert.deepEqual(up.seen.map((s) => s.path), [
      "/down/v1/chat/completions",
      "/up/v1/chat/completions",
    ]);
    for (const s of up.seen) {
      assert.equal(s.body.max_tokens, 64, `${s.path} got the clamped max_tokens`);
      assert.equal(s.headers.get("x-trace-id"), "trace-77", s.path);
      assert.notEqual(s.headers.get("authorization"), "Bearer client-secret");
    }
    assert.equal(up.seen[0].headers.get("authorization"), "Bearer sk-primary");
    assert.equal(
      up.seen[0].headers.get("x-title"),
      "from-config",
      "the provider's own header wins",
    );
    assert.equal(up.seen[1].headers.get("x-title"), "from-client");
    const story = events.filter((e) => "requestId" in e && e.requestId === id);
    for (const type of ["request.started", "request.completed"]) {
      const e = story.find((x) => x.type === type);
      assert.deepEqual(e && "metadata" in e && e.metadata, { team: "search", ticket: "42" }, type);
    }
    const bad = await ask(gw, {}, { "x-gateway-metadata": "{nope" });
    assert.equal(bad.res.status, 400);
    assert.equal(bad.json.error.code, "invalid_metadata");
    assert.equal(up.seen.length, 2, "a refused request calls nobody");
  } finally {
    unsubscribe();
    await gw.shutdown(1_000);
    await up.close();
  }
});
