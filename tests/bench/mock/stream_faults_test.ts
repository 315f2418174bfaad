// The stream faults in OpenAI's and Anthropic's SSE, frame by frame: stall, slow_first_token,
// malformed_chunk and no_done (every other format is covered in formats/stream_faults_test.ts).
import assert from "node:assert/strict";
import { completionText, type MockUpstream, startMockUpstream } from "../../../bench/mock/mod.ts";
import { parseSse, withMock } from "./formats/_helpers.ts";

const OPENAI = {
  path: "/t/v1/chat/completions",
  body: { model: "gpt-4o", messages: [{ role: "user", content: "hi" }] },
};
const ANTHROPIC = {
  path: "/t/v1/messages",
  body: { model: "claude", max_tokens: 32, messages: [{ role: "user", content: "hi" }] },
};

const ask = (
  mock: MockUpstream,
  api: typeof OPENAI,
  fault: unknown,
  extra: Record<string, unknown> = { stream: true },
) =>
  fetch(`${mock.url}${api.path}`, {
    method: "POST",
    headers: { "x-mock-fault": JSON.stringify(fault) },
    body: JSON.stringify({ ...api.body, ...extra }),
  });

/** Reads until the body ends or `quietMs` pass without a byte; says which, with arrival times. */
async function readUntilQuiet(res: Response, quietMs: number) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const t0 = performance.now();
  const parts: { at: number; text: string }[] = [];
  while (true) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const quiet = new Promise<"quiet">((r) => timer = setTimeout(() => r("quiet"), quietMs));
    const r = await Promise.race([reader.read(), quiet]);
    clearTimeout(timer);
    if (r === "quiet") {
      await reader.cancel();
      return { ended: false, parts, text: parts.map((p) => p.text).join("") };
    }
    if (r.done) return { ended: true, parts, text: parts.map((p) => p.text).join("") };
    parts.push({ at: performance.now() - t0, text: r.value });
  }
}

const openaiText = (text: string) =>
  parseSse(text).filter((f) => f.data !== "[DONE]").map((f) => JSON.parse(f.data))
    .map((c) => c.choices[0]?.delta?.content ?? "").join("");
const anthropicText = (text: string) =>
  parseSse(text).map((f) => JSON.parse(f.data)).filter((e) => e.type === "content_block_delta")
    .map((e) => e.delta.text).join("");
const pieces = (n: number) => completionText("t").slice(0, (completionText("t").length / 4) * n);

Deno.test("stall: pieces, then silence on an open connection; the mock still closes promptly", async () => {
  const mock = await startMockUpstream({ chunks: 4 });
  const res = await ask(mock, OPENAI, { kind: "stall", afterChunks: 2 });
  assert.equal(res.status, 200);
  const got = await readUntilQuiet(res, 300);
  assert.equal(got.ended, false, "a stalled stream must not end");
  assert.equal(openaiText(got.text), pieces(2));
  assert.ok(!got.text.includes("[DONE]"));

  const claude = await readUntilQuiet(await ask(mock, ANTHROPIC, { kind: "stall" }), 300);
  assert.equal(claude.ended, false);
  assert.equal(anthropicText(claude.text), pieces(1));
  assert.ok(!claude.text.includes("message_stop"));

  // A JSON request stalls half-way through its body; close() ends what is still open.
  const json = await ask(mock, OPENAI, { kind: "stall" }, {});
  const reading = json.text().then(() => "ended", () => "broken");
  const t0 = performance.now();
  await mock.close();
  assert.ok(performance.now() - t0 < 2000);
  assert.equal(await reading, "broken");
});

Deno.test("slow_first_token: headers and preamble at once, the first piece after ms", async () => {
  await withMock(async (mock) => {
    for (const [api, text] of [[OPENAI, openaiText], [ANTHROPIC, anthropicText]] as const) {
      const t0 = performance.now();
      const res = await ask(mock, api, { kind: "slow_first_token", ms: 300 });
      assert.ok(performance.now() - t0 < 200, "headers at once");
      assert.equal(res.status, 200);
      const got = await readUntilQuiet(res, 2000);
      assert.equal(got.ended, true);
      assert.equal(text(got.text), completionText("t"));
      const first = got.parts.find((p) => p.text.includes("Hello"))!;
      assert.ok(first.at >= 250, `first piece after ${first.at} ms`);
      // The preamble (OpenAI's role chunk, Anthropic's message_start) did not wait.
      assert.ok(got.parts[0].at < 200 && !got.parts[0].text.includes("Hello"));
    }
    const t0 = performance.now();
    const json = await ask(mock, OPENAI, { kind: "slow_first_token", ms: 300 }, {});
    assert.equal((await json.json()).choices[0].message.content, completionText("t"));
    assert.ok(performance.now() - t0 >= 290, "a JSON answer comes whole after ms");
  });
});

Deno.test("malformed_chunk: one garbage event mid-stream, the stream otherwise whole", async () => {
  await withMock(async (mock) => {
    const res = await ask(mock, OPENAI, { kind: "malformed_chunk", afterChunks: 2 });
    const frames = parseSse(await res.text());
    const bad = frames.map((f, i) => [f, i] as const).filter(([f]) => {
      try {
        return f.data !== "[DONE]" && (JSON.parse(f.data), false);
      } catch {
        return true;
      }
    });
    // role, 2 pieces, then the garbage.
    assert.deepEqual(bad.map(([, i]) => i), [3]);
    const good = frames.filter((_, i) => i !== 3);
    assert.equal(good.at(-1)!.data, "[DONE]");
    const text = good.slice(0, -1).map((f) => JSON.parse(f.data).choices[0].delta.content ?? "");
    assert.equal(text.join(""), completionText("t"));

    const claude = parseSse(
      await (await ask(mock, ANTHROPIC, { kind: "malformed_chunk", afterChunks: 1 })).text(),
    );
    assert.equal(claude.at(-1)!.event, "message_stop");
    const parsed = claude.map((f) => {
      try {
        return JSON.parse(f.data);
      } catch {
        return "garbage";
      }
    });
    assert.equal(parsed.filter((p) => p === "garbage").length, 1);
    assert.equal(parsed.indexOf("garbage"), 4, "after message_start, block start, ping, 1 delta");
    // A JSON request is answered normally.
    const json = await ask(mock, OPENAI, { kind: "malformed_chunk" }, {});
    assert.equal((await json.json()).choices[0].message.content, completionText("t"));
  });
});

Deno.test("no_done: finish and usage, a clean end, but no [DONE] / message_stop", async () => {
  await withMock(async (mock) => {
    const res = await ask(mock, OPENAI, { kind: "no_done" }, {
      stream: true,
      stream_options: { include_usage: true },
    });
    const got = await readUntilQuiet(res, 2000);
    assert.equal(got.ended, true, "ends cleanly at the HTTP level");
    const frames = parseSse(got.text);
    assert.ok(frames.every((f) => f.data !== "[DONE]"));
    const chunks = frames.map((f) => JSON.parse(f.data));
    assert.equal(chunks.at(-2).choices[0].finish_reason, "stop");
    assert.equal(chunks.at(-1).usage.completion_tokens, 16);
    assert.equal(openaiText(got.text), completionText("t"));

    const claude = parseSse(await (await ask(mock, ANTHROPIC, { kind: "no_done" })).text());
    assert.deepEqual(claude.slice(-2).map((f) => f.event), ["content_block_stop", "message_delta"]);
    assert.equal(JSON.parse(claude.at(-1)!.data).delta.stop_reason, "end_turn");
  });
});
