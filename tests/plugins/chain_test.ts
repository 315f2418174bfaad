import assert from "node:assert/strict";
import type { AttemptInput, AttemptResult } from "../../actors/supervisor/mod.ts";
import type { GatewayEvent } from "../../src/events/catalogue.ts";
import { silentLogger } from "../../src/lib/logger.ts";
import { createPluginChain, type OpenRequest } from "../../src/plugins/chain.ts";
import type { CanonicalRequest, Plugin } from "../../src/plugins/plugin.ts";
import type { ChatCompletion, ChatRequest } from "../../src/openai/types.ts";
import { chat } from "../_support/plugin_ctx.ts";

function setup(plugins: Plugin[], over: Partial<OpenRequest> = {}) {
  const published: GatewayEvent[] = [];
  let now = 100;
  const chain = createPluginChain(plugins, {
    clock: { now: () => now },
    publish: (e) => published.push(e),
    logger: silentLogger,
  });
  const req = chain.open({
    requestId: "req-1",
    t0: 90,
    stream: false,
    headers: new Headers(),
    request: chat({ max_tokens: 50 }),
    requested: { model: "openai/gpt-4o-mini", fallbacks: ["anthropic/claude"] },
    chain: [{ provider: "openai", model: "gpt-4o-mini" }, {
      provider: "anthropic",
      model: "claude",
    }],
    ...over,
  });
  return { req, published, tick: (ms: number) => (now += ms) };
}

const attempt = (n: number, provider = "openai"): AttemptInput => ({
  candidate: { provider, model: provider === "openai" ? "gpt-4o-mini" : "claude" },
  key: "k",
  requestId: "req-1",
  attempt: n,
  fallbackIndex: n - 1,
  probe: false,
  signal: new AbortController().signal,
});
const ok = (): Promise<AttemptResult<ChatCompletion>> =>
  Promise.resolve({
    type: "success",
    status: 200,
    latencyMs: 3,
    value: {
      id: "x",
      object: "chat.completion",
      created: 0,
      model: "m",
      choices: [],
    },
  });
const down = (): Promise<AttemptResult<ChatCompletion>> =>
  Promise.resolve({
    type: "failure",
    failure: { kind: "transient", status: 503, message: "down" },
    latencyMs: 3,
  });

Deno.test("order: begin and pre in configured order, post in reverse (the first wraps the rest)", async () => {
  const calls: string[] = [];
  const p = (name: string): Plugin => ({
    name,
    begin: () => void calls.push(`${name}.begin`),
    pre: () => void calls.push(`${name}.pre`),
    post: () => void calls.push(`${name}.post`),
  });
  const { req } = setup([p("a"), p("b")]);
  assert.deepEqual(await req.begin(), { type: "continue" });
  await req.attempt(attempt(1), () => {
    calls.push("upstream");
    return ok();
  });
  assert.deepEqual(calls, ["a.begin", "b.begin", "a.pre", "b.pre", "upstream", "b.post", "a.post"]);
});

Deno.test("each attempt gets a fresh copy of the request: changes never leak into the next", async () => {
  const seen: number[] = [];
  const bump: Plugin = {
    name: "bump",
    pre: (ctx) => {
      const b = ctx.request.body as ChatRequest;
      b.max_tokens = (b.max_tokens ?? 0) + 1;
    },
  };
  const { req } = setup([bump]);
  for (const n of [1, 2, 3]) {
    await req.attempt(attempt(n), (r: CanonicalRequest) => {
      seen.push((r.body as ChatRequest).max_tokens!);
      return down();
    });
  }
  assert.deepEqual(seen, [51, 51, 51]);
});

Deno.test("pre may add upstream headers for its attempt", async () => {
  const { req } = setup([{ name: "h", pre: (ctx) => void (ctx.upstreamHeaders["x-a"] = "1") }]);
  let got: Record<string, string> = {};
  await req.attempt(attempt(1), (_r, h) => {
    got = h;
    return ok();
  });
  assert.deepEqual(got, { "x-a": "1" });
});

Deno.test("a pre stop: no upstream call, a caller-fault result that carries the stop", async () => {
  const { req } = setup([{ name: "gate", pre: () => ({ stop: { reason: "not today" } }) }]);
  let called = false;
  const r = await req.attempt(attempt(1), () => {
    called = true;
    return ok();
  });
  assert.equal(called, false);
  assert.deepEqual(r, {
    type: "failure",
    failure: { kind: "caller_fault", status: 400, message: "not today" },
    latencyMs: 0,
    stop: {
      plugin: "gate",
      reason: "not today",
      status: 400,
      errorType: "invalid_request_error",
    },
  });
  assert.deepEqual(req.stopped, {
    plugin: "gate",
    reason: "not today",
    status: 400,
    code: "plugin_stopped",
    type: "invalid_request_error",
  });
});

Deno.test("a post stop after a failure ends the chain with that failure's status", async () => {
  const { req } = setup([{
    name: "first_failure",
    post: (ctx) =>
      ctx.outcome.type === "failure" ? { stop: { reason: "one try only" } } : undefined,
  }]);
  const r = await req.attempt(attempt(1), down);
  assert.equal(r.type, "failure");
  assert.deepEqual(r.type === "failure" && r.stop, {
    plugin: "first_failure",
    reason: "one try only",
    status: 503,
    errorType: "transient",
  });
  assert.equal(r.type === "failure" && r.failure.kind, "transient", "the real failure is kept");
});

Deno.test("a post stop after a success changes nothing (a success ends the chain anyway)", async () => {
  const { req } = setup([{ name: "p", post: () => ({ stop: { reason: "no" } }) }]);
  const r = await req.attempt(attempt(1), ok);
  assert.equal(r.type, "success");
  assert.equal(req.stopped, undefined);
});

Deno.test("post sees the JSON response on success and the failure on failure", async () => {
  const outcomes: string[] = [];
  const { req } = setup([{
    name: "p",
    post: (ctx) => {
      const o = ctx.outcome;
      outcomes.push(
        o.type === "success" ? `ok ${o.response ? "with body" : "no body"}` : `${o.type}`,
      );
    },
  }]);
  await req.attempt(attempt(1), down);
  await req.attempt(attempt(2, "anthropic"), ok);
  assert.deepEqual(outcomes, ["failure", "ok with body"]);
});

Deno.test("a begin stop publishes started, plugin.stopped and failed with metadata", async () => {
  const { req, published } = setup([
    { name: "meta", begin: (ctx) => void (ctx.metadata.team = "search") },
    { name: "deny", begin: () => ({ stop: { reason: "denied", code: "nope" } }) },
  ]);
  const b = await req.begin();
  assert.deepEqual(b, {
    type: "stop",
    stopped: {
      plugin: "deny",
      reason: "denied",
      status: 400,
      code: "nope",
      type: "invalid_request_error",
    },
  });
  assert.deepEqual(published.map((e) => e.type), [
    "request.started",
    "plugin.stopped",
    "request.failed",
  ]);
  const [started, stopped, failed] = published;
  assert.deepEqual(started.type === "request.started" && started.metadata, { team: "search" });
  assert.deepEqual(
    stopped.type === "plugin.stopped" && [stopped.plugin, stopped.status, "provider" in stopped],
    ["deny", 400, false],
  );
  assert.deepEqual(
    failed.type === "request.failed" &&
      [failed.status, failed.message, failed.attempts, failed.metadata],
    [400, "denied", 0, { team: "search" }],
  );
});

Deno.test("an answer from begin: started, the plugin's own events, then completed", async () => {
  const { req, published, tick } = setup([{
    name: "cache",
    begin: (ctx) => {
      ctx.publish({
        type: "cache.hit",
        at: ctx.now(),
        requestId: ctx.requestId,
        provider: "anthropic",
        model: "claude",
        key: "k",
        ageMs: 1,
      });
      tick(5);
      return {
        answer: {
          response: { id: "x", object: "chat.completion", created: 0, model: "m", choices: [] },
          provider: "anthropic",
          model: "claude",
        },
      };
    },
  }]);
  const b = await req.begin();
  assert.equal(b.type, "answer");
  assert.deepEqual(published.map((e) => e.type), [
    "request.started",
    "cache.hit",
    "request.completed",
  ]);
  const done = published[2];
  assert.deepEqual(
    done.type === "request.completed" &&
      [done.provider, done.model, done.attempts, done.fallbackIndex, done.latencyMs],
    ["anthropic", "claude", 0, 0, 15],
  );
});

Deno.test("an answer for a stream request is not taken (a stream cannot be replayed)", async () => {
  const { req, published } = setup([{
    name: "bad",
    begin: () => ({
      answer: {
        response: { id: "x", object: "chat.completion", created: 0, model: "m", choices: [] },
        provider: "openai",
        model: "gpt-4o-mini",
      },
    }),
  }], { stream: true });
  assert.deepEqual(await req.begin(), { type: "continue" });
  assert.deepEqual(published, []);
});

Deno.test("the request's bus adds metadata to request.* events only", () => {
  const { req, published } = setup([{ name: "m", begin: () => {} }]);
  (req.metadata as Record<string, string>).team = "x";
  req.publish({
    type: "request.started",
    at: 0,
    requestId: "req-1",
    model: "m",
    candidates: [],
    stream: false,
  });
  req.publish({
    type: "fallback.taken",
    at: 0,
    requestId: "req-1",
    provider: "b",
    model: "m",
    fallbackIndex: 1,
    fromProvider: "a",
    fromModel: "m",
    reason: "transient",
  });
  assert.deepEqual(published.map((e) => "metadata" in e ? e.metadata : null), [
    { team: "x" },
    null,
  ]);
});

Deno.test("a plugin that throws in begin/pre stops the request with a 500 naming it", async () => {
  const { req } = setup([{
    name: "buggy",
    pre: () => {
      throw new Error("oops");
    },
  }]);
  const r = await req.attempt(attempt(1), ok);
  assert.equal(r.type === "failure" && r.stop?.status, 500);
  assert.equal(req.stopped?.code, "plugin_error");
  assert.match(req.stopped!.reason, /plugin "buggy" failed: oops/);
});

Deno.test("two plugins with one name are refused; no plugins means no copies and no events", async () => {
  assert.throws(
    () =>
      createPluginChain([{ name: "a" }, { name: "a" }], {
        clock: { now: () => 0 },
        publish: () => {},
        logger: silentLogger,
      }),
    /two plugins are named "a"/,
  );
  const request = chat();
  const { req, published } = setup([], { request });
  assert.deepEqual(await req.begin(), { type: "continue" });
  let same = false;
  await req.attempt(attempt(1), (r) => {
    same = r === request;
    return ok();
  });
  assert.equal(same, true);
  assert.deepEqual(published, []);
});

/** A started stream as the executor hands it over: two chunks, then an end or a failure. */
function started(opts: { fail?: boolean; continuation?: "continue" } = {}) {
  const chunk = (content: string, finish: "stop" | null) => ({
    id: "s1",
    object: "chat.completion.chunk" as const,
    created: 1,
    model: "gpt-4o-mini",
    choices: [{ index: 0, delta: { content }, finish_reason: finish }],
  });
  async function* rest() {
    yield chunk("lo", null);
    if (opts.fail) throw new Error("cut");
    yield chunk(".", "stop");
  }
  return {
    startedAt: 0,
    first: [chunk("Hel", null)],
    rest: rest(),
    usage: () => ({ prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 }),
    skippedEvents: () => 0,
    ...(opts.continuation ? { continuation: opts.continuation } : {}),
  };
}

async function drain(s: ReturnType<typeof started>) {
  const out: string[] = s.first.map((c) => c.choices[0].delta.content);
  for await (const c of s.rest) out.push(c.choices[0].delta.content);
  return out.join("");
}

Deno.test("streamed: a chat stream that ended well is handed to the plugin as one answer", async () => {
  const got: { content: unknown; usage: unknown; provider: string }[] = [];
  const { req } = setup([{
    name: "keep",
    streamed: (ctx) =>
      void got.push({
        content: ctx.response.choices[0].message.content,
        usage: ctx.response.usage,
        provider: ctx.candidate.provider,
      }),
  }], { stream: true });
  const r = await req.attempt(
    attempt(1),
    () =>
      Promise.resolve({ type: "success" as const, status: 200, latencyMs: 1, value: started() }),
  );
  assert.equal(r.type, "success");
  assert.deepEqual(got, [], "not before the stream is read");
  assert.equal(await drain(r.type === "success" ? r.value : started()), "Hello.");
  await new Promise((res) => setTimeout(res, 0));
  assert.deepEqual(got, [{
    content: "Hello.",
    usage: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 },
    provider: "openai",
  }]);
});

Deno.test("streamed: not for a stream that broke off, nor for one continuing another answer", async () => {
  let calls = 0;
  const plugins: Plugin[] = [{ name: "keep", streamed: () => void calls++ }];
  const { req } = setup(plugins, { stream: true });
  const cut = await req.attempt(attempt(1), () =>
    Promise.resolve({
      type: "success" as const,
      status: 200,
      latencyMs: 1,
      value: started({ fail: true }),
    }));
  await assert.rejects(drain(cut.type === "success" ? cut.value : started()), /cut/);
  const continued = await req.attempt(attempt(2), () =>
    Promise.resolve({
      type: "success" as const,
      status: 200,
      latencyMs: 1,
      value: started({ continuation: "continue" }),
    }));
  await drain(continued.type === "success" ? continued.value : started());
  await new Promise((res) => setTimeout(res, 0));
  assert.equal(calls, 0);
});
