import assert from "node:assert/strict";
import { Registry, type Stoppable } from "../../../actors/runtime/mod.ts";

class Fake implements Stoppable {
  stopped = 0;
  constructor(readonly id: string) {}
  stop() {
    this.stopped++;
  }
}

Deno.test("a registered actor is found by id; unknown ids are not", () => {
  const reg = new Registry<Fake>();
  const openai = new Fake("openai");
  assert.equal(reg.register(openai), openai, "register hands the actor back");
  reg.register(new Fake("anthropic"));
  assert.equal(reg.get("openai"), openai);
  assert.equal(reg.has("anthropic"), true);
  assert.equal(reg.get("groq"), undefined);
  assert.equal(reg.has("groq"), false);
  assert.deepEqual(reg.ids(), ["openai", "anthropic"], "in registration order");
  assert.deepEqual(reg.all().map((a) => a.id), ["openai", "anthropic"]);
});

Deno.test("registering the same id twice is refused and keeps the first actor", () => {
  const reg = new Registry<Fake>();
  const first = reg.register(new Fake("openai"));
  assert.throws(() => reg.register(new Fake("openai")), /openai is already registered/);
  assert.equal(reg.get("openai"), first);
  assert.equal(reg.all().length, 1);
});

Deno.test("stopAll stops every actor once and empties the registry", () => {
  const reg = new Registry<Fake>();
  const actors = ["a", "b", "c"].map((id) => reg.register(new Fake(id)));
  reg.stopAll();
  assert.deepEqual(actors.map((a) => a.stopped), [1, 1, 1]);
  assert.deepEqual(reg.ids(), []);
  assert.equal(reg.has("a"), false);
  reg.stopAll();
  assert.deepEqual(actors.map((a) => a.stopped), [1, 1, 1], "a stopped actor is not stopped again");
  reg.register(new Fake("a")); // the id is free again, e.g. after a config reload
  assert.equal(reg.has("a"), true);
});
