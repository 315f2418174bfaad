// The suite's client reads answers as a user would: against a canned server, a JSON success and
// its headers, OpenAI-shaped and unshaped errors, SSE framing ([DONE] count, error events,
// unparseable frames) and a server that never answers.
import assert from "node:assert/strict";
import { type Ask, askJson, askStream } from "../../bench/faults/suite_client.ts";

const chunk = (content: string, model = "m") =>
  `data: ${JSON.stringify({ model, choices: [{ index: 0, delta: { content } }] })}\n\n`;
const SSE = { "content-type": "text/event-stream" };
const ERROR = { error: { message: "down", type: "unavailable", code: "x", param: null } };

const CANNED: Record<string, () => Response> = {
  ok: () =>
    Response.json({ model: "m", choices: [{ message: { content: "hi" } }] }, {
      headers: {
        "x-gateway-provider": "b",
        "x-gateway-model": "m",
        "x-gateway-fallback-index": "1",
      },
    }),
  shaped: () => Response.json(ERROR, { status: 503 }),
  unshaped: () => new Response("Internal Server Error", { status: 500 }),
  whole: () => new Response(chunk("Hel") + chunk("lo") + "data: [DONE]\n\n", { headers: SSE }),
  broken: () =>
    new Response(
      chunk("Hel") + 'data: {"choices": [\n\n' + `event: error\ndata: ${JSON.stringify(ERROR)}\n\n`,
      { headers: SSE },
    ),
  hang: () => new Response(new ReadableStream({ pull: () => new Promise(() => {}) })),
};

Deno.test("the suite client: what a user sees of each kind of answer", async () => {
  const server = Deno.serve({ port: 0, onListen() {} }, async (req) => {
    const { model } = await req.json();
    return CANNED[model]();
  });
  const ask = (model: string): Ask => ({
    gatewayUrl: `http://127.0.0.1:${server.addr.port}`,
    id: `t.${model}`,
    model,
    fallbacks: [],
    timeoutMs: 500,
  });
  try {
    const ok = await askJson(ask("ok"));
    assert.deepEqual(
      [ok.status, ok.text, ok.provider, ok.model, ok.fallbackIndex],
      [200, "hi", "b", "m", 1],
    );
    const shaped = await askJson(ask("shaped"));
    assert.deepEqual([shaped.status, shaped.error, shaped.unshaped], [503, ERROR.error, undefined]);
    const unshaped = await askJson(ask("unshaped"));
    assert.equal(unshaped.status, 500);
    assert.equal(unshaped.error, undefined);
    assert.match(unshaped.unshaped!, /500/);
    const hung = await askJson(ask("hang"));
    assert.deepEqual([hung.status, hung.transport], [0, "no answer within 500 ms"]);

    const whole = await askStream(ask("whole"));
    assert.equal(whole.text, "Hello");
    assert.deepEqual(
      [whole.sse!.done, whole.sse!.errorEvents, whole.sse!.garbage, whole.sse!.chunks.length],
      [1, 0, 0, 2],
    );
    const broken = await askStream(ask("broken"));
    assert.equal(broken.text, "Hel");
    assert.deepEqual([broken.sse!.done, broken.sse!.errorEvents, broken.sse!.garbage], [0, 1, 1]);
    assert.deepEqual(broken.error, ERROR.error);
    const streamError = await askStream(ask("shaped"));
    assert.deepEqual([streamError.status, streamError.error], [503, ERROR.error]);
    const stalled = await askStream(ask("hang"));
    assert.equal(stalled.transport, "no complete answer within 500 ms");
  } finally {
    await server.shutdown();
  }
});
