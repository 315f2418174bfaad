import assert from "node:assert/strict";
import { costNanoUsd, priceOf, toNanoUsd, toUsd } from "../../src/governance/pricing.ts";

const pricing = {
  "openai/gpt-4o-mini": { inputPerMTok: 0.15, outputPerMTok: 0.6 },
  "anthropic/claude-3-5-haiku-latest": { inputPerMTok: 0.8, outputPerMTok: 4 },
};

Deno.test("the cost of a request follows its provider/model's price per million tokens", () => {
  const price = priceOf(pricing, "openai", "gpt-4o-mini")!;
  // 1M prompt tokens = $0.15, 1M completion tokens = $0.60
  assert.equal(toUsd(costNanoUsd(price, { promptTokens: 1e6, completionTokens: 0 })), 0.15);
  assert.equal(toUsd(costNanoUsd(price, { promptTokens: 0, completionTokens: 1e6 })), 0.6);
  // 1200 in + 300 out = 1200 × 0.15 µ$ + 300 × 0.6 µ$ = 360 µ$
  assert.equal(costNanoUsd(price, { promptTokens: 1200, completionTokens: 300 }), 360_000);
  // A single token still costs something (nano-USD, not micro).
  assert.equal(costNanoUsd(price, { promptTokens: 1, completionTokens: 0 }), 150);
});

Deno.test("a model without a price is undefined, not zero", () => {
  assert.equal(priceOf(pricing, "openai", "gpt-4o"), undefined);
  assert.equal(priceOf(pricing, "anthropic", "gpt-4o-mini"), undefined);
  assert.equal(priceOf(pricing, "openai", "constructor"), undefined);
});

Deno.test("USD and nano-USD convert both ways without drift", () => {
  assert.equal(toNanoUsd(0.1) + toNanoUsd(0.2), toNanoUsd(0.3));
  assert.equal(toUsd(toNanoUsd(12.345678901)), 12.345678901);
});
