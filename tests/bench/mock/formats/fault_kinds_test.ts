// The newer fault kinds in every wire format: refusals (context length, content policy, a
// rejected prefill) in the provider's own shape, and the stream faults (stall, slow first token,
// one malformed event, no end marker) in its own framing.
import assert from "node:assert/strict";
import { completionText } from "../../../../bench/mock/mod.ts";
import { withMock } from "./_helpers.ts";
import { type Any, type Body, call, CASES } from "./_cases.ts";

/** The same request ending with the model's own (partial) turn. */
function prefilled(body: Body): Body {
  const list = (v: unknown) => (v as unknown[]) ?? [];
  return body.contents
    ? { ...body, contents: [...list(body.contents), { role: "model", parts: [{ text: "Hel" }] }] }
    : { ...body, messages: [...list(body.messages), { role: "assistant", content: "Hel" }] };
}

const REFUSAL_WORDS: Record<string, RegExp> = {
  context_length: /context length|too long|token count|too many tokens/i,
  content_filter: /safety|content|polic/i,
  reject_prefill: /end with a user|must be a user|prefill/i,
};

Deno.test("every format: context_length, content_filter and reject_prefill refusals", async () => {
  await withMock(async (mock) => {
    for (const [name, c] of Object.entries(CASES)) {
      for (const kind of Object.keys(REFUSAL_WORDS)) {
        const body = kind === "reject_prefill" ? prefilled(c.body) : undefined;
        const res = await call(mock, name, false, { kind }, body);
        const json: Any = await res.json();
        if (name === "gemini" && kind === "content_filter") {
          // Gemini blocks a prompt with a 200 that has no candidates, only promptFeedback.
          assert.equal(res.status, 200);
          assert.equal(json.promptFeedback.blockReason, "SAFETY");
          assert.equal(json.candidates, undefined);
          continue;
        }
        assert.equal(res.status, 400, `${name} ${kind}`);
        assert.match(c.message(json), REFUSAL_WORDS[kind], `${name} ${kind}`);
      }
      // Without a prefill the reject_prefill fault lets the request through.
      const res = await call(mock, name, false, { kind: "reject_prefill" });
      assert.equal(res.status, 200, name);
      assert.equal(c.text(await res.json()), completionText(name), name);
    }
  });
});

Deno.test("OpenAI and Anthropic refusals carry the providers' own codes and words", async () => {
  await withMock(async (mock) => {
    const openai = async (kind: string, body?: Body) =>
      (await (await call(mock, "openai", false, { kind }, body)).json()).error;
    assert.deepEqual(await openai("context_length"), {
      message: "This model's maximum context length is 128000 tokens. However, your messages " +
        "resulted in 130000 tokens. Please reduce the length of the messages.",
      type: "invalid_request_error",
      param: "messages",
      code: "context_length_exceeded",
    });
    const policy = await openai("content_filter");
    assert.equal(policy.code, "content_policy_violation");
    assert.equal(policy.type, "invalid_request_error");
    assert.match(policy.message, /^Your request was rejected as a result of our safety system/);

    const anthropic = async (kind: string, body?: Body) =>
      await (await call(mock, "anthropic", false, { kind }, body)).json();
    assert.deepEqual(await anthropic("context_length"), {
      type: "error",
      error: {
        type: "invalid_request_error",
        message: "prompt is too long: 210000 tokens > 200000 maximum",
      },
    });
    const prefill = await anthropic("reject_prefill", prefilled(CASES.anthropic.body));
    assert.equal(prefill.error.type, "invalid_request_error");
    assert.match(prefill.error.message, /does not support assistant message prefill/);
  });
});

/** Reads a stream for up to `ms`: the bytes, and whether it ended (cleanly, or with an error). */
async function readFor(res: Response, ms: number) {
  const reader = res.body!.getReader();
  const parts: Uint8Array[] = [];
  const deadline = Date.now() + ms;
  let error: unknown;
  let ended = false;
  while (!ended && error === undefined) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((r) =>
      timer = setTimeout(() => r("late"), deadline - Date.now())
    );
    const r = await Promise.race([reader.read(), late]).catch((e) => (error = e, undefined));
    clearTimeout(timer);
    if (r === "late") break;
    if (r?.done) ended = true;
    else if (r) parts.push(r.value);
  }
  if (!ended) await reader.cancel().catch(() => {});
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (bytes.set(p, at), at + p.length), 0);
  return { bytes, error, ended: ended || error !== undefined };
}

Deno.test("every format: stall, slow_first_token, malformed_chunk and no_done streams", async () => {
  await withMock(async (mock) => {
    for (const [name, c] of Object.entries(CASES)) {
      const stalled = await readFor(
        await call(mock, name, true, { kind: "stall", afterChunks: 2 }),
        300,
      );
      assert.equal(stalled.ended, false, `${name}: a stalled stream stays open`);

      const t0 = performance.now();
      const slow = await readFor(
        await call(mock, name, true, { kind: "slow_first_token", ms: 200 }),
        3000,
      );
      assert.ok(performance.now() - t0 >= 190, name);
      assert.equal(slow.error, undefined, name);
      assert.equal(c.streamText(slow.bytes), completionText(name), name);

      const broken = await readFor(await call(mock, name, true, { kind: "malformed_chunk" }), 3000);
      assert.equal(broken.error, undefined, `${name}: the stream itself ends cleanly`);
      assert.throws(() => c.streamText(broken.bytes), `${name}: one event does not parse`);

      const noDone = await readFor(await call(mock, name, true, { kind: "no_done" }), 3000);
      assert.equal(noDone.error, undefined, name);
      assert.equal(c.streamText(noDone.bytes), completionText(name), name);
    }
  });
});
