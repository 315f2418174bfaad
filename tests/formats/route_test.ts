// formatRoute(gw, format): one toy format ({"q"} in, {"a"} out, its own error shape) served
// through the real pipeline against a mock upstream, so what the route itself does is visible:
// a refused target is answered before the body is read, a bad body and a failed call come back
// in the format's error shape, and answers and streams are the format's own encoding.
import { invalidRequest, notFound } from "../../src/lib/errors.ts";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { completionText, startMockUpstream } from "../../bench/mock/mod.ts";
import { formatRoute } from "../../src/formats/route.ts";
import type { WireFormat } from "../../src/formats/wire_format.ts";
import { sseFrame } from "../../src/http/stream.ts";
import { createTestGateway, mockProvider } from "../_support/gateway.ts";

const toy: WireFormat<{ stream: boolean }> = {
  name: "toy",
  target(req) {
    const path = new URL(req.url).pathname;
    if (path === "/toy" || path === "/toy/stream") {
      return { ok: true, value: { stream: path.endsWith("stream") } };
    }
    return notFound(`no toy at ${path}`);
  },
  decode(json, { params, headers }) {
    const q = (json as { q?: unknown }).q;
    if (typeof q !== "string") return invalidRequest("q: a string", "q");
    return {
      ok: true,
      value: {
        model: headers.get("x-toy-model") ?? "p/m",
        messages: [{ role: "user", content: q }],
        stream: params.stream,
      },
    };
  },
  encode: (out) =>
    Response.json({ a: out.completion.choices[0].message.content }, { headers: out.headers }),
  stream: (out) => ({
    framing: {
      push: (c) => c.choices[0]?.delta.content ? [sseFrame(c.choices[0].delta.content)] : [],
      end: () => [sseFrame("END")],
      failed: () => [sseFrame("FAILED")],
    },
    headers: { "content-type": "text/event-stream", ...out.headers },
  }),
  encodeError: (e) =>
    Response.json({ toy_error: e.message, code: e.code }, { status: e.status, headers: e.headers }),
};

async function withToy(
  fn: (post: (path: string, body: string, model?: string) => Promise<Response>) => Promise<void>,
) {
  const mock = await startMockUpstream();
  const gw = createTestGateway({ providers: { p: mockProvider(mock.url, "p") } });
  const app = new Hono();
  app.post("/*", formatRoute(gw, toy));
  try {
    await fn(async (path, body, model) =>
      await app.request(path, {
        method: "POST",
        body,
        headers: { "content-type": "application/json", ...(model ? { "x-toy-model": model } : {}) },
      })
    );
  } finally {
    gw.stop();
    await mock.close();
  }
}

Deno.test("formatRoute: a refused target, a bad body and an unknown provider are the format's errors", async () => {
  await withToy(async (post) => {
    const notFound = await post("/elsewhere", "not even json");
    assert.equal(notFound.status, 404);
    assert.deepEqual(await notFound.json(), {
      toy_error: "no toy at /elsewhere",
      code: "not_found",
    });
    assert.ok(notFound.headers.get("x-request-id"));

    const bad = await post("/toy", '{"q": 1}');
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), { toy_error: "q: a string", code: "invalid_request" });

    const notJson = await post("/toy", "{");
    assert.equal(notJson.status, 400);
    assert.equal((await notJson.json()).code, "invalid_json");

    const unknown = await post("/toy", '{"q": "hi"}', "nope/m");
    assert.equal(unknown.status, 400);
    assert.ok("toy_error" in await unknown.json());
  });
});

Deno.test("formatRoute: answers and streams are encoded by the format, with gateway headers", async () => {
  await withToy(async (post) => {
    const res = await post("/toy", '{"q": "hi"}');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-gateway-provider"), "p");
    assert.deepEqual(await res.json(), { a: completionText("p") });

    const stream = await post("/toy/stream", '{"q": "hi"}');
    assert.equal(stream.status, 200);
    assert.equal(stream.headers.get("x-gateway-provider"), "p");
    const text = await stream.text();
    assert.ok(text.endsWith("data: END\n\n"), text);
    assert.ok(text.includes("data: Hello"), text);
  });
});
