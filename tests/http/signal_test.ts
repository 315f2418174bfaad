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

Deno.test("callSignal aborts when the client leaves or when the server's closing signal fires", async () => {
  const seen: AbortSignal[] = [];
  const app = appSeeing(seen);
  const closing = new AbortController();
  const client = new AbortController();
  const env: ServeEnv = { closing: closing.signal };
  await app.fetch(new Request("http://gw/", { signal: client.signal }), env);
  await app.fetch(new Request("http://gw/"), env);
  assert.equal(seen[0].aborted, false);
  client.abort();
  assert.equal(seen[0].aborted, true, "the client went away");
  assert.equal(seen[1].aborted, false, "another call is untouched");
  closing.abort(new DOMException("shutting down", "AbortError"));
  assert.equal(seen[1].aborted, true, "the shutdown grace ended");
  assert.equal((seen[1].reason as DOMException).message, "shutting down");
});

Deno.test("callSignal without a serve env (in-process calls) is the request's own signal", async () => {
  const seen: AbortSignal[] = [];
  const ctl = new AbortController();
  const req = new Request("http://gw/", { signal: ctl.signal });
  await appSeeing(seen).fetch(req);
  ctl.abort();
  assert.equal(seen[0].aborted, true);
});
