// The OpenAI format is exercised end to end in ../server_test.ts; these cases cover what the
// format module itself decides.
import assert from "node:assert/strict";
import { drain, parseSse, post, withMock } from "./_helpers.ts";

Deno.test("openai: prompt tokens count text content parts and ignore other parts", async () => {
  await withMock(async (mock) => {
    const res = await post(mock, "/o1/v1/chat/completions", {
      model: "gpt-test",
      messages: [
        { role: "system", content: "Be brief." }, // 9 chars
        {
          role: "user",
          content: [
            { type: "text", text: "Say hello please" }, // 16 chars
            { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
          ],
        },
      ],
    });
    assert.deepEqual((await res.json()).usage, {
      prompt_tokens: 7,
      completion_tokens: 16,
      total_tokens: 23,
    });
  });
});

Deno.test("openai: ids and x-request-id follow the per-target request count", async () => {
  await withMock(async (mock) => {
    const body = { model: "m", messages: [] };
    for (const n of [1, 2]) {
      const res = await post(mock, "/o1/v1/chat/completions", body);
      assert.equal(res.headers.get("x-request-id"), `req_o1_${n}`);
      assert.equal((await res.json()).id, `chatcmpl-o1-${n}`);
    }
    const other = await post(mock, "/o2/v1/chat/completions", body);
    assert.equal(other.headers.get("x-request-id"), "req_o2_1");
    await other.body?.cancel();
  });
});

Deno.test("openai: a cut with afterChunks 0 sends only the role chunk", async () => {
  await withMock(async (mock) => {
    mock.setFaults("o1", [{ kind: "cut", afterChunks: 0 }]);
    const res = await post(mock, "/o1/v1/chat/completions", {
      model: "m",
      messages: [],
      stream: true,
    });
    const { text, error } = await drain(res);
    assert.ok(error);
    const chunks = parseSse(text).map((f) => JSON.parse(f.data));
    assert.equal(chunks.length, 1);
    assert.deepEqual(chunks[0].choices[0].delta, { role: "assistant", content: "", refusal: null });
  });
});
