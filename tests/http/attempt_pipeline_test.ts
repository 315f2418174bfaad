// The attempt pipeline on its own: the layers run in order (meter outside the span, the span
// outside the plugins, the plugins around the call), the plugins' request and upstream headers
// reach the call, and a call without a key is not metered.
import assert from "node:assert/strict";
import type { AttemptInput, AttemptResult } from "../../actors/supervisor/mod.ts";
import { type AttemptCall, createAttemptPipeline } from "../../src/http/attempt_pipeline.ts";
import type { CanonicalRequest, RequestPlugins } from "../../src/plugins/mod.ts";
import type { ProviderTarget } from "../../src/providers/execute.ts";
import type { AttemptSpans } from "../../src/telemetry/mod.ts";

const input = (provider: string): AttemptInput => ({
  candidate: { provider, model: "m" },
  key: `${provider}-0`,
  requestId: "req-1",
  attempt: 1,
  fallbackIndex: 0,
  probe: false,
  signal: new AbortController().signal,
  deadlineAt: 1_000,
});

const target = { baseUrl: "http://upstream", settings: { headers: { "x-own": "1" } } };
const targets = new Map([["p", target as unknown as ProviderTarget]]);

function call(log: string[], metered: boolean): AttemptCall<string> {
  return {
    requestId: "req-1",
    admission: metered ? { meter: (a, r) => log.push(`meter ${a.key} ${r.type}`) } : {},
    spans: {
      async run(a, attempt, c) {
        log.push("span start");
        const r = await attempt(c!, a);
        log.push("span end");
        return r;
      },
      following: (r) => r,
    } as AttemptSpans,
    plugins: {
      async attempt(a, run, c) {
        log.push("pre");
        const changed = { kind: "chat", body: { model: "changed" } } as CanonicalRequest;
        const r = await run(changed, { "x-plugin": "2" }, c!, a);
        log.push("post");
        return r;
      },
    } as Pick<RequestPlugins, "attempt"> as RequestPlugins,
    attempt(t, spec, req) {
      log.push(
        `call ${spec.model} ${spec.key} ${spec.id} ${spec.deadlineAt} ${req.body.model} ` +
          JSON.stringify(t.settings.headers),
      );
      const r: AttemptResult<string> = { type: "success", status: 200, latencyMs: 1, value: "ok" };
      return Promise.resolve(r);
    },
  };
}

Deno.test("attempt pipeline: meter, span, plugins, then the call with the plugins' request", async () => {
  const attempts = createAttemptPipeline(targets);
  const log: string[] = [];
  const r = await attempts(call(log, true), input("p"));
  assert.equal(r.type, "success");
  assert.deepEqual(log, [
    "span start",
    "pre",
    'call m p-0 chatcmpl-req-1 1000 changed {"x-plugin":"2","x-own":"1"}',
    "post",
    "span end",
    "meter p-0 success",
  ]);
});

Deno.test("attempt pipeline: a call without a key is not metered", async () => {
  const attempts = createAttemptPipeline(targets);
  const log: string[] = [];
  await attempts(call(log, false), input("p"));
  assert.equal(log.filter((l) => l.startsWith("meter")).length, 0);
  assert.equal(log.length, 5);
});
