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
  for (const name of ["", "OpenAI", "Gemini", "constructor", "toString", "__proto__"]) {
    assert.equal(adapterFor(name), undefined, name);
  }
});

Deno.test("ADAPTER_FAMILIES lists every family once and cannot be changed", async () => {
  // Families land in parallel: the list to expect is the contract cases that exist, one a family.
  const cases: string[] = [];
  for await (const e of Deno.readDir(new URL("./contract/", import.meta.url))) {
    if (e.isFile && e.name !== "harness.ts") cases.push(e.name.replace(/\.ts$/, ""));
  }
  assert.ok(cases.includes("gemini") && cases.includes("openai"));
  assert.deepEqual([...ADAPTER_FAMILIES].sort(), cases.sort());
  assert.throws(() => (ADAPTER_FAMILIES as string[]).push("x"));
});
