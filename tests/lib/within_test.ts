import assert from "node:assert/strict";
import { within } from "../../src/lib/within.ts";

Deno.test("within: the value when it comes in time, undefined when it fails or is late", async () => {
  assert.equal(await within(Promise.resolve(7), 1_000), 7);
  assert.equal(await within(Promise.reject(new Error("no")), 1_000), undefined);
  assert.equal(await within(new Promise(() => {}), 1), undefined);
});
