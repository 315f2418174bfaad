import assert from "node:assert/strict";
import { Hono } from "hono";
import { callSignal, type ServeEnv } from "../../src/http/signal.ts";

function appSeeing(seen: AbortSignal[]) {
  const app = new Hono();
  app.get("/", (c) => {
    seen.push(callSignal(c));
    return c.text("ok");
  });
  return app;
}

Deno.test("callSignal is the call's own signal from the serve env", async () => {
  const seen: AbortSignal[] = [];
  const call = new AbortController();
  const env: ServeEnv = { signal: call.signal };
  await appSeeing(seen).fetch(new Request("http://gw/"), env);
  assert.equal(seen[0], call.signal);
});

Deno.test("callSignal without a serve env (in-process calls) is the request's own signal", async () => {
  const seen: AbortSignal[] = [];
  const ctl = new AbortController();
  const req = new Request("http://gw/", { signal: ctl.signal });
  await appSeeing(seen).fetch(req);
  ctl.abort();
  assert.equal(seen[0].aborted, true);
});
