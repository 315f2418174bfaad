import assert from "node:assert/strict";
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  ThrottlingException,
} from "@aws-sdk/client-bedrock-runtime";
import { completionText } from "../../../../bench/mock/mod.ts";
import { decodeEventStream, drainBytes, json, post, withMock } from "./_helpers.ts";

const BODY = {
  system: [{ text: "Be brief." }],
  messages: [{ role: "user", content: [{ text: "Say hello please" }] }],
};
// An inference-profile ARN travels URL-encoded in one path segment, as the AWS SDKs send it.
const MODEL = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude";
const CONVERSE = `/b1/model/${encodeURIComponent(MODEL)}/converse`;
const STREAM = `/b1/model/${encodeURIComponent(MODEL)}/converse-stream`;
const USAGE = { inputTokens: 7, outputTokens: 16, totalTokens: 23 };

Deno.test("bedrock converse: output.message.content, stopReason, usage, metrics", async () => {
  await withMock(async (mock) => {
    const res = await post(mock, CONVERSE, BODY);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-amzn-requestid"), "req_b1_1");
    assert.deepEqual(await res.json(), {
      output: { message: { role: "assistant", content: [{ text: completionText("b1") }] } },
      stopReason: "end_turn",
      usage: USAGE,
      metrics: { latencyMs: 0 },
    });
  });
});

Deno.test("bedrock converse-stream: event-stream frames with valid CRCs, in the documented order", async () => {
  await withMock(async (mock) => {
    const res = await post(mock, STREAM, BODY);
    assert.equal(res.headers.get("content-type"), "application/vnd.amazon.eventstream");
    const { bytes, error } = await drainBytes(res);
    assert.equal(error, undefined);
    const { messages, rest } = decodeEventStream(bytes); // throws on any CRC mismatch
    assert.equal(rest, 0);
    assert.deepEqual(messages.map((m) => m.headers[":event-type"]), [
      "messageStart",
      "contentBlockDelta",
      "contentBlockDelta",
      "contentBlockDelta",
      "contentBlockDelta",
      "contentBlockStop",
      "messageStop",
      "metadata",
    ]);
    assert.ok(messages.every((m) => m.headers[":message-type"] === "event"));
    assert.ok(messages.every((m) => m.headers[":content-type"] === "application/json"));
    const payloads = messages.map(json);
    assert.deepEqual(payloads[0], { role: "assistant" });
    assert.deepEqual(payloads[1], {
      contentBlockIndex: 0,
      delta: { text: completionText("b1").slice(0, 16) },
    });
    assert.equal(payloads.slice(1, 5).map((p) => p.delta.text).join(""), completionText("b1"));
    assert.deepEqual(payloads.slice(5), [
      { contentBlockIndex: 0 },
      { stopReason: "end_turn" },
      { usage: USAGE, metrics: { latencyMs: 0 } },
    ]);
  });
});

Deno.test("bedrock errors: {message} with the exception named in x-amzn-errortype", async () => {
  await withMock(async (mock) => {
    const errorType = (res: Response) => res.headers.get("x-amzn-errortype")?.split(":")[0];
    let res = await post(mock, CONVERSE, { system: [] });
    assert.equal(res.status, 400);
    assert.equal(errorType(res), "ValidationException");
    assert.match((await res.json()).message, /'messages'/);

    const cases = [
      [{ kind: "rate_limit", retryAfterSec: 3 }, 429, "ThrottlingException", /Too many requests/],
      [{ kind: "quota" }, 429, "ThrottlingException", /Too many tokens per day/],
      [{ kind: "status", status: 503 }, 503, "ServiceUnavailableException", /503/],
      [{ kind: "status", status: 424 }, 424, "ModelErrorException", /424/],
      [
        { kind: "status", status: 400, type: "AccessDeniedException" },
        400,
        "AccessDeniedException",
      ],
    ] as const;
    for (const [fault, status, name, message] of cases) {
      res = await post(mock, CONVERSE, BODY, { "x-mock-fault": JSON.stringify(fault) });
      assert.equal(res.status, status);
      assert.equal(errorType(res), name);
      const body = await res.json();
      assert.deepEqual(Object.keys(body), ["message"]);
      if (message) assert.match(body.message, message);
    }
  });
});

Deno.test("bedrock cut stream stops mid-frame; malformed stream fails its message CRC", async () => {
  await withMock(async (mock) => {
    mock.setFaults("b1", [{ kind: "cut", afterChunks: 2, times: 1 }, { kind: "malformed" }]);
    const cut = await drainBytes(await post(mock, STREAM, BODY));
    assert.ok(cut.error, "the connection must break");
    const { messages, rest } = decodeEventStream(cut.bytes);
    assert.deepEqual(messages.map((m) => m.headers[":event-type"]), [
      "messageStart",
      "contentBlockDelta",
      "contentBlockDelta",
    ]);
    assert.ok(rest > 0, "a partial frame follows the whole ones");

    const bad = await drainBytes(await post(mock, STREAM, BODY));
    assert.equal(bad.error, undefined);
    assert.throws(() => decodeEventStream(bad.bytes), /message CRC mismatch/);
  });
});

Deno.test("the AWS SDK talks to the mock: Converse, ConverseStream, typed throttling", async () => {
  await withMock(async (mock) => {
    const client = new BedrockRuntimeClient({
      region: "us-east-1",
      endpoint: `${mock.url}/b1`,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      maxAttempts: 1,
    });
    const messages = [{ role: "user" as const, content: [{ text: "Say hello please" }] }];
    const answer = await client.send(new ConverseCommand({ modelId: MODEL, messages }));
    assert.equal(answer.output?.message?.content?.[0].text, completionText("b1"));
    assert.equal(answer.stopReason, "end_turn");

    const { stream } = await client.send(new ConverseStreamCommand({ modelId: MODEL, messages }));
    let text = "";
    let usage;
    for await (const event of stream!) {
      text += event.contentBlockDelta?.delta?.text ?? "";
      usage ??= event.metadata?.usage;
    }
    assert.equal(text, completionText("b1"));
    assert.equal(usage?.outputTokens, 16);

    mock.setFaults("b1", [{ kind: "rate_limit", times: 1 }, { kind: "cut" }]);
    await assert.rejects(
      client.send(new ConverseCommand({ modelId: MODEL, messages })),
      (e: unknown) => e instanceof ThrottlingException && e.$metadata.httpStatusCode === 429,
    );
    const cut = await client.send(new ConverseStreamCommand({ modelId: MODEL, messages }));
    await assert.rejects(async () => {
      for await (const _ of cut.stream!) { /* read until the stream breaks */ }
    });
    assert.equal(mock.hits("b1"), 4);
  });
});
