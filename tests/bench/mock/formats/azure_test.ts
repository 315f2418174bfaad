import assert from "node:assert/strict";
import { AzureOpenAI, NotFoundError, RateLimitError } from "openai";
import { completionText } from "../../../../bench/mock/mod.ts";
import { parseSse, post, withMock } from "./_helpers.ts";

const PATH = "/az1/openai/deployments/gpt4o-prod/chat/completions";
const URL_OK = `${PATH}?api-version=2024-10-21`;
const KEY = { "api-key": "test-key" };
const BODY = { messages: [{ role: "user", content: "Say hello please" }] };

Deno.test("azure JSON: OpenAI-shaped, model = deployment, with content-filter results", async () => {
  await withMock(async (mock) => {
    const res = await post(mock, URL_OK, BODY, KEY);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("apim-request-id"), "req_az1_1");
    const body = await res.json();
    assert.equal(body.object, "chat.completion");
    assert.equal(body.model, "gpt4o-prod");
    assert.equal(body.choices[0].message.content, completionText("az1"));
    assert.equal(body.choices[0].finish_reason, "stop");
    assert.deepEqual(body.usage, { prompt_tokens: 4, completion_tokens: 16, total_tokens: 20 });
    assert.equal(body.prompt_filter_results[0].prompt_index, 0);
    assert.deepEqual(body.choices[0].content_filter_results.hate, {
      filtered: false,
      severity: "safe",
    });
  });
});

Deno.test("azure SSE: a choice-less prompt-filter chunk first, then OpenAI chunks and [DONE]", async () => {
  await withMock(async (mock) => {
    const res = await post(mock, URL_OK, { ...BODY, stream: true }, KEY);
    assert.match(res.headers.get("content-type")!, /^text\/event-stream/);
    const frames = parseSse(await res.text());
    assert.equal(frames.at(-1)!.data, "[DONE]");
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f.data));
    assert.deepEqual(chunks[0].choices, []);
    assert.equal(chunks[0].model, "");
    assert.ok(chunks[0].prompt_filter_results);
    const rest = chunks.slice(1);
    assert.ok(rest.every((c) => c.model === "gpt4o-prod" && c.object === "chat.completion.chunk"));
    assert.equal(rest.map((c) => c.choices[0].delta.content ?? "").join(""), completionText("az1"));
    assert.equal(rest.at(-1).choices[0].finish_reason, "stop");
  });
});

Deno.test("azure platform checks: api-version, api-key, unknown deployment", async () => {
  await withMock(async (mock) => {
    mock.setFaults("az1", [{ kind: "status", status: 500, times: 1 }]);
    let res = await post(mock, PATH, BODY, KEY);
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: { code: "404", message: "Resource not found" } });
    res = await post(mock, URL_OK, BODY);
    assert.equal(res.status, 401);
    assert.equal((await res.json()).error.code, "401");
    // Both were refused before any model was involved: counted, but the queued fault is intact.
    assert.equal(mock.hits("az1"), 2);
    res = await post(mock, URL_OK, BODY, KEY);
    assert.equal(res.status, 500);
    assert.equal((await res.json()).error.code, "InternalServerError");

    mock.setFaults("az1", [{ kind: "status", status: 404 }]);
    res = await post(mock, URL_OK, BODY, KEY);
    assert.equal(res.status, 404);
    const { error } = await res.json();
    assert.equal(error.code, "DeploymentNotFound");
    assert.match(error.message, /deployment/);
  });
});

Deno.test("azure validation, rate limit and quota answers", async () => {
  await withMock(async (mock) => {
    let res = await post(mock, URL_OK, { model: "x" }, KEY);
    assert.equal(res.status, 400);
    assert.deepEqual((await res.json()).error, {
      code: null,
      message: "'messages' is a required property",
      type: "invalid_request_error",
      param: "messages",
    });
    mock.setFaults("az1", [{ kind: "rate_limit", retryAfterSec: 6, times: 1 }, { kind: "quota" }]);
    res = await post(mock, URL_OK, BODY, KEY);
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after"), "6");
    let { error } = await res.json();
    assert.equal(error.code, "429");
    assert.match(error.message, /2024-10-21.*call rate limit.*retry after 6 seconds/);
    res = await post(mock, URL_OK, BODY, KEY);
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after"), "60");
    ({ error } = await res.json());
    assert.match(error.message, /token rate limit/);
  });
});

Deno.test("the AzureOpenAI client talks to the mock: JSON, stream with usage, typed errors", async () => {
  await withMock(async (mock) => {
    const client = new AzureOpenAI({
      apiKey: "test-key",
      endpoint: `${mock.url}/az1`,
      apiVersion: "2024-10-21",
      deployment: "gpt4o-prod",
      maxRetries: 0,
    });
    const messages = [{ role: "user" as const, content: "hi" }];
    const completion = await client.chat.completions.create({ model: "gpt-4o", messages });
    assert.equal(completion.model, "gpt4o-prod");
    assert.equal(completion.choices[0].message.content, completionText("az1"));
    const stream = await client.chat.completions.create({
      model: "gpt-4o",
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      usage ??= chunk.usage ?? undefined;
    }
    assert.equal(text, completionText("az1"));
    assert.equal(usage?.completion_tokens, 16);
    mock.setFaults("az1", [{ kind: "rate_limit", times: 1 }, { kind: "status", status: 404 }]);
    await assert.rejects(
      client.chat.completions.create({ model: "gpt-4o", messages }),
      (e: unknown) => e instanceof RateLimitError && e.headers?.get("retry-after") === "1",
    );
    await assert.rejects(
      client.chat.completions.create({ model: "gpt-4o", messages }),
      (e: unknown) => e instanceof NotFoundError && e.code === "DeploymentNotFound",
    );
  });
});
