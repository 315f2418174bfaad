import assert from "node:assert/strict";
import {
  ADAPTER_FAMILIES,
  adapterFor,
  anthropicAdapter,
  openaiAdapter,
} from "../../src/providers/mod.ts";

Deno.test("adapterFor finds each family by its config type", () => {
  assert.equal(adapterFor("openai"), openaiAdapter);
  assert.equal(adapterFor("anthropic"), anthropicAdapter);
  for (const family of ADAPTER_FAMILIES) assert.equal(adapterFor(family)?.family, family);
});

Deno.test("adapterFor knows nothing else, not even Object.prototype names", () => {
  for (const name of ["", "OpenAI", "gemini", "constructor", "toString", "__proto__"]) {
    assert.equal(adapterFor(name), undefined, name);
  }
});

Deno.test("ADAPTER_FAMILIES lists every family once and cannot be changed", () => {
  assert.deepEqual([...ADAPTER_FAMILIES].sort(), ["anthropic", "openai"]);
  assert.throws(() => (ADAPTER_FAMILIES as string[]).push("x"));
});
