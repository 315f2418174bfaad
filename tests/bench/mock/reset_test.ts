// The `reset` fault: with the mock's TCP front (resets: true) the connection is dropped before
// any response byte, so fetch() fails with a network error and no status; everything else goes
// through the front untouched. Without the front a reset fault is refused, never faked.
import assert from "node:assert/strict";
import OpenAI from "openai";
import { completionText, startMockUpstream } from "../../../bench/mock/mod.ts";

const body = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }], ...extra });
const post = (url: string, headers: Record<string, string> = {}, payload = body()) =>
  fetch(`${url}/a/v1/chat/completions`, { method: "POST", headers, body: payload });

Deno.test("reset: fetch sees a network error, not a status; the next request is served", async () => {
  const mock = await startMockUpstream({ resets: true, chunks: 4 });
  try {
    mock.setFaults("a", [{ kind: "reset", model: "gpt-4o" }]);
    await assert.rejects(post(mock.url), TypeError);
    // Model-scoped: another model on the target is served.
    const other = await post(mock.url, {}, body({ model: "gpt-4o-mini" }));
    assert.equal(other.status, 200);
    await other.body?.cancel();
    await assert.rejects(post(mock.url), TypeError);
    mock.clearFaults("a");
    const ok = await post(mock.url);
    assert.equal((await ok.json()).choices[0].message.content, completionText("a"));
    const faults = (model: string) =>
      mock.calls().filter((c) => c.model === model).map((c) => c.fault ?? "none");
    // fetch retries once by itself when a reused keep-alive connection closes unanswered, so
    // the second failure may have cost two calls.
    assert.ok(faults("gpt-4o").length >= 3 && faults("gpt-4o").at(-1) === "none");
    assert.ok(faults("gpt-4o").slice(0, -1).every((f) => f === "reset"));
    assert.deepEqual(faults("gpt-4o-mini"), ["none"]);

    // As a header fault, and through the openai SDK: a connection error, not an APIError status.
    const client = new OpenAI({ apiKey: "k", baseURL: `${mock.url}/a/v1`, maxRetries: 0 });
    await assert.rejects(
      client.chat.completions.create(
        { model: "gpt-4o", messages: [{ role: "user", content: "hi" }] },
        { headers: { "x-mock-fault": '{"kind":"reset"}' } },
      ),
      (e: unknown) => e instanceof OpenAI.APIConnectionError,
    );
  } finally {
    await mock.close();
  }
});

Deno.test("the TCP front relays streams, keep-alive and hangs; close() stays prompt", async () => {
  const mock = await startMockUpstream({ resets: true, chunks: 4 });
  const res = await post(mock.url, {}, body({ stream: true }));
  const text = await res.text();
  assert.ok(text.endsWith("data: [DONE]\n\n"));
  for (let i = 0; i < 20; i++) {
    const r = await post(mock.url);
    assert.equal(r.status, 200);
    await r.body?.cancel();
  }
  const hang = post(mock.url, { "x-mock-fault": '{"kind":"hang"}' }).then(
    () => "answered",
    () => "failed",
  );
  while (mock.hits("a") < 22) await new Promise((r) => setTimeout(r, 5));
  const t0 = performance.now();
  await mock.close();
  assert.ok(performance.now() - t0 < 2000, `close took ${performance.now() - t0} ms`);
  assert.equal(await hang, "failed");
});

Deno.test("reset without the front is refused with a clear message, not faked", async () => {
  const mock = await startMockUpstream();
  try {
    assert.throws(
      () => mock.setFaults("a", [{ kind: "reset" }]),
      /reset faults need the mock started with resets: true \(CLI: --resets\)/,
    );
    const control = await fetch(`${mock.url}/_mock/faults/a`, {
      method: "POST",
      body: '{"kind":"reset"}',
    });
    assert.equal(control.status, 400);
    assert.match((await control.json()).error.message, /--resets/);
    const header = await post(mock.url, { "x-mock-fault": '{"kind":"reset"}' });
    assert.equal(header.status, 400);
    assert.match((await header.json()).error.message, /x-mock-fault: reset faults need/);
  } finally {
    await mock.close();
  }
});
