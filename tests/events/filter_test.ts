import assert from "node:assert/strict";
import { toCloudEvent } from "../../src/events/envelope.ts";
import {
  concernsProvider,
  FilterError,
  providersOf,
  typeMatcher,
} from "../../src/events/filter.ts";
import { SAMPLES } from "./_samples.ts";

const ce = (type: keyof typeof SAMPLES) => toCloudEvent(SAMPLES[type], "id", "test");

Deno.test("a fallback concerns the provider fallen over to and the one left behind", () => {
  const fallback = ce("fallback.taken"); // openai → anthropic
  assert.deepEqual(providersOf(fallback), ["anthropic", "openai"]);
  assert.ok(concernsProvider(fallback, "openai"));
  assert.ok(concernsProvider(fallback, "anthropic"));
  assert.ok(!concernsProvider(fallback, "groq"));
});

Deno.test("request-level events without a provider concern no provider", () => {
  assert.deepEqual(providersOf(ce("request.started")), []);
  assert.ok(!concernsProvider(ce("request.failed"), "openai"));
  assert.ok(concernsProvider(ce("breaker.opened"), "openai"));
});

Deno.test("type lists accept exact types, the gateway. prefix, categories and category.*", () => {
  const m = typeMatcher("fallback.taken, gateway.request.failed,breaker.*");
  const pass = ["fallback.taken", "request.failed", "breaker.opened", "breaker.closed"] as const;
  const block = ["request.completed", "attempt.failed", "ratelimit.blocked"] as const;
  for (const t of pass) assert.ok(m(ce(t)), t);
  for (const t of block) assert.ok(!m(ce(t)), t);
  const category = typeMatcher("ratelimit");
  assert.ok(category(ce("ratelimit.blocked")) && category(ce("ratelimit.refilled")));
  assert.ok(!category(ce("breaker.opened")));
});

Deno.test("a typo in a type list is an error naming it and the known types, not a silent filter", () => {
  assert.throws(() => typeMatcher("fallback.takn"), (e: Error) => {
    assert.ok(e instanceof FilterError);
    assert.match(e.message, /unknown event type "fallback\.takn"/);
    assert.match(e.message, /fallback\.taken/);
    return true;
  });
  assert.throws(() => typeMatcher("nope.*"), /unknown event type "nope\.\*"/);
  assert.throws(() => typeMatcher(" , "), /empty type list/);
});
