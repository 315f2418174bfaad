// The MockFormat contract, checked for every format the mock speaks: routes and base URLs agree,
// answers carry the target's completion text (JSON and streamed), and every fault kind is
// answered in that format's own way.
import assert from "node:assert/strict";
import { completionText, FORMATS } from "../../../../bench/mock/mod.ts";
import { DEFAULT_DIMENSIONS, embedding } from "../../../../bench/mock/formats/mod.ts";
import { drainBytes, withMock } from "./_helpers.ts";
import { call, CASES } from "./_cases.ts";

Deno.test("FORMATS: unique names, every route lies under its format's base URL", () => {
  assert.deepEqual(FORMATS.map((f) => f.name), [
    "openai",
    "anthropic",
    "azure",
    "gemini",
    "bedrock",
    "cohere",
  ]);
  for (const f of FORMATS) {
    assert.ok(f.routes.length > 0, f.name);
    for (const route of f.routes) assert.ok(route.startsWith(`POST ${f.baseUrl}/`), route);
  }
  assert.deepEqual(Object.keys(CASES).sort(), FORMATS.map((f) => f.name).sort());
});

Deno.test("every format answers with the target's completion text, as JSON and as a stream", async () => {
  await withMock(async (mock) => {
    for (const [name, c] of Object.entries(CASES)) {
      const res = await call(mock, name);
      assert.equal(res.status, 200, name);
      assert.equal(c.text(await res.json()), completionText(name), name);
      const streamed = await drainBytes(await call(mock, name, true));
      assert.equal(streamed.error, undefined, name);
      assert.equal(c.streamText(streamed.bytes), completionText(name), name);
      assert.equal(mock.hits(name), 2, name);
    }
  });
});

Deno.test("every format: status, rate_limit and quota faults in its own error shape", async () => {
  await withMock(async (mock) => {
    for (const [name, c] of Object.entries(CASES)) {
      let res = await call(mock, name, false, { kind: "status", status: 503, message: "down" });
      assert.equal(res.status, 503, name);
      assert.equal(c.message(await res.json()), "down", name);

      res = await call(mock, name, true, { kind: "rate_limit", retryAfterMs: 1500 });
      assert.equal(res.status, 429, name);
      assert.equal(res.headers.get("retry-after"), "2", name);
      assert.equal(res.headers.get("retry-after-ms"), "1500", name);
      assert.ok(c.message(await res.json()).length > 0, name);

      res = await call(mock, name, false, { kind: "quota" });
      assert.ok([402, 429].includes(res.status), `${name}: ${res.status}`);
      assert.ok(c.message(await res.json()).length > 0, name);
    }
  });
});

Deno.test("every format: malformed answers do not parse, cut ones break off mid-answer", async () => {
  await withMock(async (mock) => {
    const half = completionText("x").length / 2; // 2 of the default 4 pieces
    for (const [name, c] of Object.entries(CASES)) {
      let res = await call(mock, name, false, { kind: "malformed" });
      assert.equal(res.status, 200, name);
      await assert.rejects(res.json(), SyntaxError, name);
      const bad = await drainBytes(await call(mock, name, true, { kind: "malformed" }));
      assert.equal(bad.error, undefined, name);
      assert.ok(bad.bytes.length > 0, name);
      assert.throws(() => c.streamText(bad.bytes), name);

      res = await call(mock, name, false, { kind: "cut" });
      await assert.rejects(res.json(), name);
      const cut = await drainBytes(await call(mock, name, true, { kind: "cut", afterChunks: 2 }));
      assert.ok(cut.error, `${name}: the stream must break`);
      assert.equal(c.streamText(cut.bytes), completionText(name).slice(0, half), name);
    }
  });
});

Deno.test("every format: hang holds the answer, latency delays it, queued faults count per target", async () => {
  await withMock(async (mock) => {
    for (const name of Object.keys(CASES)) {
      mock.setFaults(name, [{ kind: "hang", times: 1 }, { kind: "latency", ms: 60, times: 1 }]);
      const c = CASES[name];
      await assert.rejects(
        fetch(`${mock.url}/${name}${c.json}`, {
          method: "POST",
          body: JSON.stringify(c.body),
          headers: c.headers,
          signal: AbortSignal.timeout(50),
        }),
        (e: Error) => e.name === "TimeoutError",
        name,
      );
      const started = performance.now();
      const res = await call(mock, name);
      assert.ok(performance.now() - started >= 55, name);
      assert.equal(res.status, 200, name);
      await res.body?.cancel();
      assert.equal(mock.hits(name), 2, name);
    }
  });
});

Deno.test("embedding vectors: deterministic per text, unit length, sized on request", () => {
  const a = embedding("hello");
  assert.equal(a.length, DEFAULT_DIMENSIONS);
  assert.deepEqual(embedding("hello"), a);
  assert.notDeepEqual(embedding("hello!"), a);
  assert.ok(Math.abs(Math.hypot(...a) - 1) < 1e-6);
  assert.equal(embedding("hello", 3).length, 3);
});
