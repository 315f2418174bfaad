import assert from "node:assert/strict";
import { fetchHttp } from "../../src/providers/fetch_http.ts";

Deno.test("fetchHttp sends method, headers and body and returns the upstream's answer", async () => {
  let seen: { method: string; auth: string | null; body: string } | undefined;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    seen = { method: req.method, auth: req.headers.get("authorization"), body: await req.text() };
    return Response.json({ ok: true }, { status: 201, headers: { "x-upstream": "yes" } });
  });
  try {
    const res = await fetchHttp.fetch(`http://127.0.0.1:${server.addr.port}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer sk-test" },
      body: '{"model":"m"}',
      signal: new AbortController().signal,
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("x-upstream"), "yes");
    assert.deepEqual(await res.json(), { ok: true });
    assert.deepEqual(seen, { method: "POST", auth: "Bearer sk-test", body: '{"model":"m"}' });
  } finally {
    await server.shutdown();
  }
});

Deno.test("fetchHttp honours the request's abort signal", async () => {
  const release = Promise.withResolvers<void>();
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async () => {
    await release.promise;
    return new Response("late");
  });
  try {
    const ctl = new AbortController();
    const pending = fetchHttp.fetch(`http://127.0.0.1:${server.addr.port}/`, {
      signal: ctl.signal,
    });
    setTimeout(() => ctl.abort(), 20);
    await assert.rejects(pending, (e: Error) => e.name === "AbortError");
  } finally {
    release.resolve();
    await server.shutdown();
  }
});

Deno.test("fetchHttp rejects with a TypeError when nothing listens", async () => {
  const l = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const port = l.addr.port;
  l.close();
  await assert.rejects(
    fetchHttp.fetch(`http://127.0.0.1:${port}/`, { signal: new AbortController().signal }),
    TypeError,
  );
});
