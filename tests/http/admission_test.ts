// The pipeline's admission hooks on a real (unstarted) gateway's governor and planner: where the
// credential is read from, how a refusal becomes a CallError, and that exactly the served attempt
// is charged, once.
import assert from "node:assert/strict";
import type { AttemptInput, AttemptResult, Supervised } from "../../actors/supervisor/mod.ts";
import { buildConfig } from "../../src/config.ts";
import { createMemoryBus, type EventOf, type GatewayEvent } from "../../src/events/mod.ts";
import { createGateway, type Gateway } from "../../src/gateway.ts";
import { systemClock } from "../../src/lib/clock.ts";
import { createIdGen } from "../../src/lib/ids.ts";
import { silentLogger } from "../../src/lib/logger.ts";
import { admitCall, authenticateCall, credentialOf } from "../../src/http/admission.ts";
import type { CallStart } from "../../src/http/call.ts";
import { fetchHttp } from "../../src/providers/fetch_http.ts";

const req = (headers: Record<string, string>, path = "/v1/chat/completions") =>
  new Request(`http://gw${path}`, { method: "POST", headers });

Deno.test("the credential comes from Bearer, x-api-key, x-goog-api-key or ?key= on /genai", () => {
  const cases: [Request, string | undefined][] = [
    [req({ authorization: "Bearer vk-abc" }), "vk-abc"],
    [req({ authorization: "bearer   vk-abc  " }), "vk-abc"],
    [req({ "x-api-key": "vk-ant" }), "vk-ant"],
    [req({ "x-goog-api-key": "vk-goog" }), "vk-goog"],
    [req({ authorization: "Bearer vk-1", "x-api-key": "vk-2" }), "vk-1"],
    // The AWS SDK signs with SigV4: that Authorization is not a key.
    [req({ authorization: "AWS4-HMAC-SHA256 Credential=AKIA/x", "x-api-key": "vk-3" }), "vk-3"],
    [req({}, "/genai/v1beta/models/m:generateContent?key=vk-q"), "vk-q"],
    [req({}, "/v1/chat/completions?key=vk-q"), undefined],
    [req({ authorization: "Basic dXNlcjpwYXNz" }), undefined],
    [req({}), undefined],
  ];
  for (const [r, want] of cases) assert.equal(credentialOf(r), want, `${r.url} ${[...r.headers]}`);
});

function gateway(): { gw: Gateway; events: GatewayEvent[] } {
  const bus = createMemoryBus();
  const events: GatewayEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const gw = createGateway({
    config: buildConfig(
      {
        providers: {
          openai: { type: "openai", baseUrl: "http://127.0.0.1:9/v1" },
          azure: { type: "openai", baseUrl: "http://127.0.0.1:9/v1" },
        },
        pricing: { "openai/m": { inputPerMTok: 1, outputPerMTok: 1 } },
      },
      () => undefined,
      "test",
    ),
    bus,
    clock: systemClock,
    ids: createIdGen(),
    random: () => 0,
    http: fetchHttp,
    logger: silentLogger,
  });
  return { gw, events };
}

const start = (): CallStart => ({ t0: 0, requestId: "req-1" });

Deno.test("open gateway: any credential passes and the request is planned as it is", async () => {
  const { gw } = gateway();
  const s = start();
  assert.equal(
    await authenticateCall(gw.governor, s, req({ authorization: "Bearer whatever" })),
    undefined,
  );
  assert.equal(s.virtualKey, undefined);
  const gate = await admitCall(gw.governor, gw.plan, s, { model: "openai/m" });
  assert.ok(gate.ok);
  assert.deepEqual(gate.plan.candidates, [{ provider: "openai", model: "m" }]);
  // The plan's 400 is a CallError naming the field.
  const bad = await admitCall(gw.governor, gw.plan, s, { model: "openai/m", fallbacks: ["x"] });
  assert.ok(!bad.ok);
  assert.deepEqual([bad.status, bad.type, bad.code, bad.param, bad.headers], [
    400,
    "invalid_request_error",
    "invalid_model",
    "fallbacks[0]",
    { "x-request-id": "req-1" },
  ]);
  gw.stop();
});

Deno.test("refusals are CallErrors with the request id, WWW-Authenticate on 401, Retry-After on 429", async () => {
  const { gw } = gateway();
  const made = await gw.governor.createKey({
    name: "k",
    providers: [{ provider: "openai", models: ["m"], weight: 1 }],
    limits: { rpm: 1 },
  });
  assert.ok(made.ok);
  const s = start();
  const unknown = await authenticateCall(gw.governor, s, req({ authorization: "Bearer nope" }));
  assert.deepEqual(unknown && [unknown.status, unknown.code, unknown.headers], [
    401,
    "invalid_api_key",
    { "x-request-id": "req-1", "www-authenticate": 'Bearer realm="failover-gateway"' },
  ]);
  // A route that never authenticated is refused too, now that keys exist.
  const skipped = await admitCall(gw.governor, gw.plan, start(), { model: "openai/m" });
  assert.ok(!skipped.ok && skipped.status === 401);

  assert.equal(
    await authenticateCall(gw.governor, s, req({ authorization: `Bearer ${made.value.secret}` })),
    undefined,
  );
  assert.equal(s.virtualKey?.id, made.value.view.id);
  const forbidden = await admitCall(gw.governor, gw.plan, s, { model: "openai/other" });
  assert.ok(!forbidden.ok);
  assert.deepEqual([forbidden.status, forbidden.code, forbidden.param], [
    403,
    "model_not_allowed",
    "model",
  ]);
  const first = await admitCall(gw.governor, gw.plan, s, { model: "m" });
  assert.ok(first.ok);
  assert.deepEqual(first.plan.candidates, [{ provider: "openai", model: "m" }]);
  const limited = await admitCall(gw.governor, gw.plan, s, { model: "m" });
  assert.ok(!limited.ok);
  assert.equal(limited.status, 429);
  assert.ok(limited.retryAfterMs! > 0 && limited.retryAfterMs! <= 60_000);
  assert.equal(limited.headers["x-request-id"], "req-1");
  gw.stop();
});

const attempt = (provider: string): AttemptInput => ({
  candidate: { provider, model: "m" },
  key: "k",
  requestId: "req-1",
  attempt: 1,
  fallbackIndex: provider === "openai" ? 0 : 1,
  probe: false,
  signal: new AbortController().signal,
});

async function keyed(gw: Gateway) {
  const made = await gw.governor.createKey({
    name: "k",
    providers: [{ provider: "openai", weight: 1 }, { provider: "azure", weight: 1 }],
  });
  assert.ok(made.ok);
  const s = start();
  await authenticateCall(gw.governor, s, req({ authorization: `Bearer ${made.value.secret}` }));
  const gate = await admitCall(gw.governor, gw.plan, s, { model: "openai/m" });
  assert.ok(gate.ok);
  return gate;
}

const spends = async (events: GatewayEvent[], n: number) => {
  const deadline = Date.now() + 2_000;
  while (events.filter((e) => e.type === "key.spend").length < n && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, 20)); // and nothing more arrives
  return events.filter((e): e is EventOf<"key.spend"> => e.type === "key.spend");
};

Deno.test("a JSON answer is charged once, for the attempt that served it", async () => {
  const { gw, events } = gateway();
  const gate = await keyed(gw);
  const attempt_ = (a: AttemptInput): AttemptResult<string> => (
    a.candidate.provider === "openai"
      ? {
        type: "failure" as const,
        failure: { kind: "transient" as const, message: "503" },
        latencyMs: 1,
      }
      : {
        type: "success" as const,
        status: 200,
        latencyMs: 1,
        value: "ok",
        usage: { promptTokens: 4, completionTokens: 6 },
      }
  );
  const run = (a: AttemptInput) => gate.meter!(a, attempt_(a));
  await run(attempt("openai"));
  await run(attempt("azure"));
  const s = await spends(events, 1);
  assert.deepEqual(s.map((e) => [e.provider, e.promptTokens, e.completionTokens]), [[
    "azure",
    4,
    6,
  ]]);
  gw.stop();
});

Deno.test("a stream is charged when it ends successfully, not when aborted", async () => {
  const { gw, events } = gateway();
  const gate = await keyed(gw);
  const settled: string[] = [];
  const supervised = (): Supervised<string> => ({
    ok: true,
    value: "stream",
    candidate: { provider: "openai", model: "m" },
    state: () => ({}) as never,
    settle: (o) => void settled.push(o.type),
    resume: () => Promise.reject(new Error("unused")),
    continued() {},
  });
  const aborted = gate.settle(supervised());
  assert.ok(aborted.ok);
  aborted.settle({ type: "aborted", latencyMs: 5 });
  assert.deepEqual(await spends(events, 0), []);

  const gate2 = await keyed(gw);
  const done = gate2.settle(supervised());
  assert.ok(done.ok);
  done.settle({
    type: "success",
    status: 200,
    latencyMs: 5,
    usage: { promptTokens: 1_000_000, completionTokens: 0 },
  });
  done.settle({
    type: "success",
    status: 200,
    latencyMs: 5,
    usage: { promptTokens: 1, completionTokens: 0 },
  });
  const s = await spends(events, 1);
  assert.equal(s.length, 1, "charged once");
  assert.equal(s[0].costUsd, 1); // 1M prompt tokens at $1 per million
  assert.deepEqual(
    settled,
    ["aborted", "success", "success"],
    "the supervisor still hears every settle",
  );
  gw.stop();
});
