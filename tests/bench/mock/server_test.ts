import assert from "node:assert/strict";
import OpenAI from "openai";
import { completionText, type MockUpstream, startMockUpstream } from "../../../bench/mock/mod.ts";

const CHAT = { model: "gpt-test", messages: [{ role: "user", content: "Say hello please" }] };
const CLAUDE = { ...CHAT, model: "claude-test", max_tokens: 32 };

async function withMock(
  fn: (mock: MockUpstream) => Promise<void>,
  opts?: Parameters<typeof startMockUpstream>[0],
) {
  const mock = await startMockUpstream(opts);
  try {
    await fn(mock);
  } finally {
    await mock.close();
  }
}

function post(mock: MockUpstream, path: string, body: unknown, init: RequestInit = {}) {
  return fetch(`${mock.url}${path}`, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
    headers: { "content-type": "application/json", ...init.headers },
  });
}

interface Frame {
  event?: string;
  data: string;
}

function parseSse(text: string): Frame[] {
  return text.split("\n\n").filter((block) => block.trim()).map((block) => {
    const frame: Frame = { data: "" };
    for (const line of block.split("\n")) {
      if (line.startsWith("event: ")) frame.event = line.slice(7);
      if (line.startsWith("data: ")) frame.data += line.slice(6);
    }
    return frame;
  });
}

/** Reads a body until it ends or breaks; returns what arrived and the error, if any. */
async function drain(res: Response): Promise<{ text: string; error?: unknown }> {
  const decoder = new TextDecoder();
  const reader = res.body!.getReader();
  let text = "";
  try {
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      text += decoder.decode(r.value, { stream: true });
    }
    return { text };
  } catch (error) {
    return { text, error };
  }
}

Deno.test("OpenAI JSON: deterministic text, echoed model, usage from lengths", async () => {
  await withMock(async (mock) => {
    const res = await post(mock, "/t1/v1/chat/completions", CHAT);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-request-id"), "req_t1_1");
    const body = await res.json();
    const text = completionText("t1", 64);
    assert.equal(text.length, 64);
    assert.ok(text.startsWith("Hello from t1."));
    assert.equal(body.object, "chat.completion");
    assert.equal(body.model, "gpt-test");
    assert.deepEqual(body.choices[0].message.content, text);
    assert.equal(body.choices[0].finish_reason, "stop");
    assert.deepEqual(body.usage, { prompt_tokens: 4, completion_tokens: 16, total_tokens: 20 });
  });
});

Deno.test("OpenAI SSE: role chunk, content pieces, stop, usage chunk, [DONE]", async () => {
  await withMock(async (mock) => {
    const req = { ...CHAT, stream: true, stream_options: { include_usage: true } };
    const res = await post(mock, "/t1/v1/chat/completions", req);
    assert.match(res.headers.get("content-type")!, /^text\/event-stream/);
    const frames = parseSse(await res.text());
    assert.equal(frames.at(-1)!.data, "[DONE]");
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f.data));
    assert.deepEqual(chunks[0].choices[0].delta, { role: "assistant", content: "", refusal: null });
    const pieces = chunks.slice(1, -2).map((c) => c.choices[0].delta.content);
    assert.equal(pieces.length, 4);
    assert.equal(pieces.join(""), completionText("t1"));
    assert.equal(chunks.at(-2).choices[0].finish_reason, "stop");
    assert.deepEqual(chunks.at(-1).choices, []);
    assert.equal(chunks.at(-1).usage.completion_tokens, 16);
    assert.ok(chunks.slice(0, -1).every((c) => c.usage === null && c.model === "gpt-test"));
  });
});

Deno.test("OpenAI SSE without include_usage has no usage chunk; options size the text", async () => {
  await withMock(async (mock) => {
    const res = await post(mock, "/big/v1/chat/completions", { ...CHAT, stream: true });
    const frames = parseSse(await res.text());
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f.data));
    assert.equal(chunks.length, 1 + 10 + 1);
    assert.ok(chunks.every((c) => !("usage" in c) && c.choices.length === 1));
    const text = chunks.map((c) => c.choices[0].delta.content ?? "").join("");
    assert.equal(text, completionText("big", 200));
    assert.equal(text.length, 200);
  }, { completionBytes: 200, chunks: 10 });
});

Deno.test("Anthropic JSON: message shape with text content and usage", async () => {
  await withMock(async (mock) => {
    const res = await post(mock, "/a1/v1/messages", CLAUDE);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("request-id"), "req_a1_1");
    const body = await res.json();
    assert.deepEqual(body, {
      id: "msg_a1_1",
      type: "message",
      role: "assistant",
      model: "claude-test",
      content: [{ type: "text", text: completionText("a1") }],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: { input_tokens: 4, output_tokens: 16 },
    });
  });
});

Deno.test("Anthropic SSE: the documented event sequence", async () => {
  await withMock(async (mock) => {
    const res = await post(mock, "/a1/v1/messages", { ...CLAUDE, stream: true });
    const frames = parseSse(await res.text());
    assert.deepEqual(frames.map((f) => f.event), [
      "message_start",
      "content_block_start",
      "ping",
      "content_block_delta",
      "content_block_delta",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    const data = frames.map((f) => JSON.parse(f.data));
    assert.ok(frames.every((f, i) => data[i].type === f.event));
    assert.equal(data[0].message.model, "claude-test");
    assert.equal(data[0].message.usage.input_tokens, 4);
    const text = data.filter((d) => d.type === "content_block_delta").map((d) => d.delta.text);
    assert.equal(text.join(""), completionText("a1"));
    assert.deepEqual(data[8].delta, { stop_reason: "end_turn", stop_sequence: null });
    assert.deepEqual(data[8].usage, { output_tokens: 16 });
  });
});

Deno.test("request validation answers 400 in each format's error shape", async () => {
  await withMock(async (mock) => {
    let res = await post(mock, "/t1/v1/chat/completions", { model: "m" });
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), {
      error: {
        message: "Missing required parameter: 'messages'.",
        type: "invalid_request_error",
        param: "messages",
        code: "missing_required_parameter",
      },
    });
    res = await post(mock, "/a1/v1/messages", CHAT);
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), {
      type: "error",
      error: { type: "invalid_request_error", message: "max_tokens: Field required" },
    });
    res = await post(mock, "/a1/v1/messages", "{not json");
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.type, "invalid_request_error");
    res = await post(mock, "/t1/v1/nope", CHAT);
    assert.equal(res.status, 404);
    assert.equal((await res.json()).error.message, "Invalid URL (POST /t1/v1/nope)");
  });
});

Deno.test("GET /{target}/v1/models lists models and is not counted as a hit", async () => {
  await withMock(async (mock) => {
    const body = await (await fetch(`${mock.url}/t1/v1/models`)).json();
    assert.equal(body.object, "list");
    assert.ok(
      body.data.length > 0 && body.data.every((m: { object: string }) => m.object === "model"),
    );
    assert.equal(mock.hits("t1"), 0);
  });
});

Deno.test("status fault: provider error bodies, overrides and Retry-After", async () => {
  await withMock(async (mock) => {
    mock.setFaults("t1", [{ kind: "status", status: 503 }]);
    let res = await post(mock, "/t1/v1/chat/completions", CHAT);
    assert.equal(res.status, 503);
    const openaiError = (await res.json()).error;
    assert.deepEqual(Object.keys(openaiError).sort(), ["code", "message", "param", "type"]);
    assert.equal(openaiError.type, "server_error");

    mock.setFaults("t1", [{
      kind: "status",
      status: 404,
      type: "invalid_request_error",
      code: "model_not_found",
      message: "gone",
      retryAfterSec: 3,
    }]);
    res = await post(mock, "/t1/v1/chat/completions", CHAT);
    assert.equal(res.headers.get("retry-after"), "3");
    assert.deepEqual(await res.json(), {
      error: {
        message: "gone",
        type: "invalid_request_error",
        param: null,
        code: "model_not_found",
      },
    });

    mock.setFaults("a1", [{ kind: "status", status: 529 }]);
    res = await post(mock, "/a1/v1/messages", CLAUDE);
    assert.equal(res.status, 529);
    const anthropicError = await res.json();
    assert.deepEqual(Object.keys(anthropicError).sort(), ["error", "type"]);
    assert.equal(anthropicError.type, "error");
    assert.equal(anthropicError.error.type, "overloaded_error");
  });
});

Deno.test("rate_limit fault: 429 with Retry-After (and retry-after-ms) per format", async () => {
  await withMock(async (mock) => {
    mock.setFaults("t1", [{ kind: "rate_limit", retryAfterSec: 7 }]);
    let res = await post(mock, "/t1/v1/chat/completions", CHAT);
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after"), "7");
    assert.equal(res.headers.get("retry-after-ms"), null);
    assert.equal((await res.json()).error.code, "rate_limit_exceeded");

    mock.setFaults("a1", [{ kind: "rate_limit", retryAfterMs: 1500 }]);
    res = await post(mock, "/a1/v1/messages", CLAUDE);
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after"), "2");
    assert.equal(res.headers.get("retry-after-ms"), "1500");
    assert.equal((await res.json()).error.type, "rate_limit_error");
  });
});

Deno.test("quota fault: OpenAI 429 insufficient_quota, Anthropic 402 billing_error", async () => {
  await withMock(async (mock) => {
    const fault = JSON.stringify({ kind: "quota" });
    let res = await post(mock, "/t1/v1/chat/completions", CHAT, {
      headers: { "x-mock-fault": fault },
    });
    assert.equal(res.status, 429);
    const { error } = await res.json();
    assert.equal(error.type, "insufficient_quota");
    assert.equal(error.code, "insufficient_quota");
    res = await post(mock, "/a1/v1/messages", CLAUDE, { headers: { "x-mock-fault": fault } });
    assert.equal(res.status, 402);
    assert.equal((await res.json()).error.type, "billing_error");
  });
});

Deno.test("hang fault: no answer until the client gives up; the server stays usable", async () => {
  await withMock(async (mock) => {
    mock.setFaults("t1", [{ kind: "hang", times: 1 }]);
    await assert.rejects(
      post(mock, "/t1/v1/chat/completions", CHAT, { signal: AbortSignal.timeout(100) }),
      (e: Error) => e.name === "TimeoutError",
    );
    const res = await post(mock, "/t1/v1/chat/completions", CHAT);
    assert.equal(res.status, 200);
    await res.body?.cancel();
    assert.equal(mock.hits("t1"), 2);
  });
});

Deno.test("close() ends hanging, delayed and open requests promptly", async () => {
  const mock = await startMockUpstream();
  const hang = post(mock, "/t1/v1/chat/completions", CHAT, {
    headers: { "x-mock-fault": '{"kind":"hang"}' },
  }).then(() => "answered", () => "failed");
  const slow = post(mock, "/t1/v1/chat/completions", CHAT, {
    headers: { "x-mock-fault": '{"kind":"latency","ms":60000}' },
  }).then(async (r) => (await r.body?.cancel(), "answered"), () => "failed");
  const cut = post(mock, "/t1/v1/chat/completions", { ...CHAT, stream: true }, {
    headers: { "x-mock-fault": '{"kind":"cut","afterChunks":0}' },
  }).then(drain);
  while (mock.hits("t1") < 3) await new Promise((r) => setTimeout(r, 5));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error("close() did not finish")), 5000);
  });
  try {
    await Promise.race([mock.close(), timeout]);
  } finally {
    clearTimeout(timer);
  }
  assert.equal(await hang, "failed");
  await slow; // settles at all: the 60 s delay was cut short
  assert.ok((await cut).error);
});

Deno.test("cut fault: stream breaks after N chunks without [DONE]; JSON breaks mid-body", async () => {
  await withMock(async (mock) => {
    mock.setFaults("t1", [{ kind: "cut", afterChunks: 2 }]);
    const res = await post(mock, "/t1/v1/chat/completions", { ...CHAT, stream: true });
    assert.equal(res.status, 200);
    const { text, error } = await drain(res);
    assert.ok(error, "the stream must end with an error");
    assert.ok(!text.includes("[DONE]"));
    const frames = parseSse(text).map((f) => JSON.parse(f.data));
    assert.equal(frames.length, 3); // role chunk + 2 content chunks
    assert.equal(frames[2].choices[0].finish_reason, null);

    const json = await post(mock, "/t1/v1/chat/completions", CHAT);
    await assert.rejects(json.json());

    mock.setFaults("a1", [{ kind: "cut" }]);
    const anthropic = await drain(await post(mock, "/a1/v1/messages", { ...CLAUDE, stream: true }));
    assert.ok(anthropic.error);
    const events = parseSse(anthropic.text).map((f) => f.event);
    assert.deepEqual(events.slice(-2), ["ping", "content_block_delta"]);
  });
});

Deno.test("malformed fault: invalid JSON body, invalid SSE data line", async () => {
  await withMock(async (mock) => {
    mock.setFaults("t1", [{ kind: "malformed" }]);
    const res = await post(mock, "/t1/v1/chat/completions", CHAT);
    assert.equal(res.status, 200);
    await assert.rejects(res.json(), SyntaxError);
    const stream = await post(mock, "/t1/v1/chat/completions", { ...CHAT, stream: true });
    const frames = parseSse(await stream.text());
    assert.ok(frames.length > 0 && frames.every((f) => f.data !== "[DONE]"));
    assert.throws(() => JSON.parse(frames[0].data), SyntaxError);
  });
});

Deno.test("latency fault and latencyMs delay the answer, then answer normally", async () => {
  await withMock(async (mock) => {
    mock.setFaults("t1", [{ kind: "latency", ms: 150 }]);
    let started = performance.now();
    let res = await post(mock, "/t1/v1/chat/completions", CHAT);
    assert.ok(performance.now() - started >= 140);
    assert.equal((await res.json()).choices[0].message.content, completionText("t1"));
    mock.clearFaults("t1");
    started = performance.now();
    res = await post(mock, "/t1/v1/chat/completions", CHAT);
    assert.ok(performance.now() - started >= 40);
    assert.equal(res.status, 200);
    await res.body?.cancel();
  }, { latencyMs: 50 });
});

Deno.test("faults apply in order, each `times` requests, then normal service", async () => {
  await withMock(async (mock) => {
    const faults = [
      { kind: "status", status: 500, times: 2 },
      { kind: "rate_limit", times: 1 },
    ] as const;
    mock.setFaults("t1", [...faults]);
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      const res = await post(mock, "/t1/v1/chat/completions", CHAT);
      statuses.push(res.status);
      await res.body?.cancel();
    }
    assert.deepEqual(statuses, [500, 500, 429, 200, 200]);
    assert.equal(faults[0].times, 2, "setFaults must not mutate the caller's faults");

    mock.setFaults("t1", [{ kind: "status", status: 502 }]);
    for (let i = 0; i < 3; i++) {
      const res = await post(mock, "/t1/v1/chat/completions", CHAT);
      assert.equal(res.status, 502);
      await res.body?.cancel();
    }
  });
});

Deno.test("x-mock-fault header wins and leaves the queue untouched", async () => {
  await withMock(async (mock) => {
    mock.setFaults("t1", [{ kind: "status", status: 500, times: 1 }]);
    const statuses = [];
    for (const header of ['{"kind":"status","status":418}', undefined, undefined, "{bad"]) {
      const headers: Record<string, string> = header ? { "x-mock-fault": header } : {};
      const res = await post(mock, "/t1/v1/chat/completions", CHAT, { headers });
      statuses.push(res.status);
      await res.body?.cancel();
    }
    assert.deepEqual(statuses, [418, 500, 200, 400]);
  });
});

Deno.test("hits are counted per target, faulted or not; reset() clears faults and hits", async () => {
  await withMock(async (mock) => {
    mock.setFaults("t2", [{ kind: "status", status: 500 }]);
    for (const path of ["/t1/v1/chat/completions", "/t1/v1/messages", "/t2/v1/chat/completions"]) {
      await (await post(mock, path, CLAUDE)).body?.cancel();
    }
    assert.equal(mock.hits("t1"), 2);
    assert.equal(mock.hits("t2"), 1);
    assert.equal(mock.hits("t3"), 0);
    assert.deepEqual(mock.allHits(), { t1: 2, t2: 1 });
    mock.reset();
    assert.deepEqual(mock.allHits(), {});
    const res = await post(mock, "/t2/v1/chat/completions", CHAT);
    assert.equal(res.status, 200);
    await res.body?.cancel();
  });
});

Deno.test("control API over HTTP: set, clear, hits, reset", async () => {
  await withMock(async (mock) => {
    const control = (method: string, path: string, body?: unknown) =>
      fetch(`${mock.url}/_mock/${path}`, {
        method,
        body: body === undefined ? undefined : JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: await r.json() }));
    const chat = async (target: string) => {
      const res = await post(mock, `/${target}/v1/chat/completions`, CHAT);
      await res.body?.cancel();
      return res.status;
    };

    assert.equal((await control("POST", "faults/t1", { kind: "status", status: 503 })).status, 200);
    await control("POST", "faults/t2", [{ kind: "quota", times: 1 }]);
    assert.deepEqual([await chat("t1"), await chat("t2"), await chat("t2")], [503, 429, 200]);
    assert.deepEqual((await control("GET", "hits")).body, { t1: 1, t2: 2 });

    const bad = await control("POST", "faults/t1", { kind: "explode" });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /kind must be one of/);
    assert.equal(await chat("t1"), 503, "a rejected body keeps the old queue");

    await control("DELETE", "faults/t1");
    assert.equal(await chat("t1"), 200);
    await control("POST", "faults/t1", { kind: "hang" });
    await control("POST", "reset");
    assert.deepEqual((await control("GET", "hits")).body, {});
    assert.equal(await chat("t1"), 200);
  });
});

Deno.test("the openai SDK talks to the mock: JSON, streaming with usage, typed errors", async () => {
  await withMock(async (mock) => {
    const client = new OpenAI({ apiKey: "test", baseURL: `${mock.url}/t1/v1`, maxRetries: 0 });
    const messages = [{ role: "user" as const, content: "hi" }];
    const completion = await client.chat.completions.create({ model: "gpt-x", messages });
    assert.equal(completion.choices[0].message.content, completionText("t1"));
    assert.equal(completion.model, "gpt-x");

    const stream = await client.chat.completions.create({
      model: "gpt-x",
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
    assert.equal(text, completionText("t1"));
    assert.equal(usage?.completion_tokens, 16);

    mock.setFaults("t1", [{ kind: "rate_limit", retryAfterSec: 5, times: 1 }]);
    await assert.rejects(
      client.chat.completions.create({ model: "gpt-x", messages }),
      (e: unknown) =>
        e instanceof OpenAI.RateLimitError && e.code === "rate_limit_exceeded" &&
        e.headers?.get("retry-after") === "5",
    );
    assert.equal(mock.hits("t1"), 3);
  });
});

Deno.test("CLI: starts with flags and faults, prints the URL, stops on SIGTERM", async () => {
  const main = new URL("../../../bench/mock/main.ts", import.meta.url);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      main.href,
      "--port",
      "0",
      "--fault",
      't9={"kind":"status","status":503}',
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let line = "";
    while (!line.includes("\n")) {
      const r = await reader.read();
      if (r.done) break;
      line += r.value;
    }
    const url = line.match(/http:\/\/127\.0\.0\.1:\d+/)?.[0];
    assert.ok(url, `no URL in start-up line: ${line}`);
    assert.match(line, /\/_mock\/faults\//);
    const res = await fetch(`${url}/t9/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify(CHAT),
    });
    assert.equal(res.status, 503);
    await res.body?.cancel();
  } finally {
    child.kill("SIGTERM");
    await reader.cancel();
  }
  assert.equal((await child.status).code, 0);
});
