// The streamed MCP tool loop driven by fake model steps: each step is a list of chunks; runTools
// records what the loop handed it.
import assert from "node:assert/strict";
import { type McpStep, type StreamedCall, streamMcpLoop } from "../../src/http/mcp_stream.ts";
import type { ChatOutcome } from "../../src/http/call.ts";
import type { ChatChunk, ChunkToolCall } from "../../src/openai/types.ts";
import { StreamFailure } from "../../src/providers/execute.ts";

type Delta = ChatChunk["choices"][0]["delta"];

const chunk = (
  id: string,
  delta: Delta,
  finish: ChatChunk["choices"][0]["finish_reason"] = null,
): ChatChunk => ({
  id,
  object: "chat.completion.chunk",
  created: 1,
  model: "m",
  choices: [{ index: 0, delta, finish_reason: finish }],
});
const text = (id: string, content: string) => chunk(id, { content });
const toolDelta = (id: string, calls: ChunkToolCall[]) => chunk(id, { tool_calls: calls });
const stop = (id: string) => chunk(id, {}, "stop");
const toolStop = (id: string) => chunk(id, {}, "tool_calls");

function streamOf(provider: string, chunks: ChatChunk[], log: string[]): ChatOutcome {
  return {
    ok: true,
    kind: "stream",
    provider,
    chunks: (async function* () {
      yield* chunks;
    })(),
    cancel: () => {
      log.push(`cancel:${provider}`);
      return Promise.resolve();
    },
    finished: () => log.push(`finished:${provider}`),
    headers: { "x-step": provider },
  };
}

interface Run {
  steps: ChatChunk[][];
  ours?: (name: string) => boolean;
  maxSteps?: number;
  /** Answer to model(n) instead of a stream. */
  override?: Record<number, ChatOutcome>;
}

function loopOf(r: Run) {
  const log: string[] = [];
  const toolRuns: { step: number; provider: string; calls: StreamedCall[]; text: string }[] = [];
  return {
    log,
    toolRuns,
    loop: {
      maxSteps: r.maxSteps ?? 5,
      ours: r.ours ?? ((name: string) => name.startsWith("fs__")),
      model(step: number): Promise<ChatOutcome> {
        log.push(`model:${step}`);
        return Promise.resolve(
          r.override?.[step] ?? streamOf(`p${step}`, r.steps[step - 1], log),
        );
      },
      runTools(step: number, provider: string, calls: StreamedCall[], t: string) {
        toolRuns.push({ step, provider, calls, text: t });
        return Promise.resolve<McpStep>({
          step,
          provider,
          tool_calls: calls.map((c) => ({ name: c.name, ok: true })),
        });
      },
    },
  };
}

async function collect(out: ChatOutcome): Promise<ChatChunk[]> {
  assert.ok(out.ok && out.kind === "stream");
  const got: ChatChunk[] = [];
  for await (const c of out.chunks) got.push(c);
  return got;
}

const extra = (c: ChatChunk) => (c as { extra_fields?: Record<string, unknown> }).extra_fields;

Deno.test("mcp_stream: a step without tool calls is relayed as it is, steps [] at the end", async () => {
  const { loop, toolRuns } = loopOf({ steps: [[text("a", "Hel"), text("a", "lo"), stop("a")]] });
  const out = await streamMcpLoop(loop);
  assert.ok(out.ok && out.kind === "stream");
  assert.equal(out.provider, "p1");
  assert.deepEqual(out.headers, { "x-step": "p1" });
  const got = await collect(out);
  assert.deepEqual(got.map((c) => c.choices[0].delta.content ?? null), ["Hel", "lo", null]);
  assert.equal(got[2].choices[0].finish_reason, "stop");
  assert.deepEqual(extra(got[2]), { mcp: { steps: [] } });
  assert.equal(extra(got[0]), undefined);
  assert.deepEqual(toolRuns, []);
});

Deno.test("mcp_stream: tool-call deltas are held back, run, and the next step relayed under one id", async () => {
  const { loop, toolRuns, log } = loopOf({
    steps: [
      [
        text("a", "Let me look. "),
        toolDelta("a", [{ index: 0, id: "call_1", function: { name: "fs__", arguments: '{"p' } }]),
        toolDelta("a", [{ index: 0, function: { name: "read", arguments: '":1}' } }]),
        toolStop("a"),
      ],
      [text("b", "Found it."), stop("b")],
    ],
  });
  const got = await collect(await streamMcpLoop(loop));
  assert.deepEqual(new Set(got.map((c) => c.id)), new Set(["a"]), "one id throughout");
  assert.ok(
    got.every((c) => !c.choices[0]?.delta.tool_calls),
    "no tool-call delta reaches the client",
  );
  assert.deepEqual(got.map((c) => c.choices[0].delta.content ?? null), [
    "Let me look. ",
    "Found it.",
    null,
  ]);
  assert.ok(got.every((c, i) => i === got.length - 1 || c.choices[0].finish_reason === null));
  assert.equal(got[got.length - 1].choices[0].finish_reason, "stop");
  assert.deepEqual(toolRuns, [{
    step: 1,
    provider: "p1",
    calls: [{ id: "call_1", name: "fs__read", arguments: '{"p":1}' }],
    text: "Let me look. ",
  }]);
  assert.deepEqual(extra(got[got.length - 1]), {
    mcp: { steps: [{ step: 1, provider: "p1", tool_calls: [{ name: "fs__read", ok: true }] }] },
  });
  assert.deepEqual(log, ["model:1", "model:2"]);
});

Deno.test("mcp_stream: text in the same chunk as a tool call goes out at once, without the call", async () => {
  const mixed = chunk("a", {
    content: "Hi",
    tool_calls: [{ index: 0, id: "c", function: { name: "fs__ls", arguments: "{}" } }],
  });
  const { loop, toolRuns } = loopOf({ steps: [[mixed, toolStop("a")], [stop("b")]] });
  const got = await collect(await streamMcpLoop(loop));
  assert.deepEqual(got[0].choices[0], {
    index: 0,
    delta: { content: "Hi" },
    finish_reason: null,
  });
  assert.equal(toolRuns[0].text, "Hi");
  assert.equal(got.length, 2);
});

Deno.test("mcp_stream: a client tool ends the loop and its held chunks go out", async () => {
  const call = toolDelta("a", [{
    index: 0,
    id: "c",
    function: { name: "get_weather", arguments: "{}" },
  }]);
  const { loop, toolRuns, log } = loopOf({ steps: [[call, toolStop("a")]] });
  const got = await collect(await streamMcpLoop(loop));
  assert.deepEqual(toolRuns, []);
  assert.deepEqual(log, ["model:1"]);
  assert.deepEqual(got.map((c) => c.choices[0].delta.tool_calls?.[0]?.function?.name ?? null), [
    "get_weather",
    null,
  ]);
  assert.equal(got[1].choices[0].finish_reason, "tool_calls");
  assert.deepEqual(extra(got[1]), { mcp: { steps: [] } });
});

Deno.test("mcp_stream: maxSteps model calls end the loop with the last step's tool calls", async () => {
  const step = (id: string) => [
    toolDelta(id, [{ index: 0, id: `c${id}`, function: { name: "fs__ls", arguments: "{}" } }]),
    toolStop(id),
  ];
  const { loop, toolRuns, log } = loopOf({ steps: [step("a"), step("b")], maxSteps: 2 });
  const got = await collect(await streamMcpLoop(loop));
  assert.deepEqual(log, ["model:1", "model:2"]);
  assert.equal(toolRuns.length, 1);
  assert.equal(got.length, 2);
  assert.equal(got[0].id, "a");
  assert.equal(got[0].choices[0].delta.tool_calls?.[0].id, "cb");
  assert.deepEqual((extra(got[1]) as { mcp: { steps: unknown[] } }).mcp.steps.length, 1);
});

Deno.test("mcp_stream: steps go on the last chunk with choices, not a trailing usage chunk", async () => {
  const usage: ChatChunk = {
    ...stop("a"),
    choices: [],
    usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
  };
  const { loop } = loopOf({ steps: [[text("a", "x"), stop("a"), usage]] });
  const got = await collect(await streamMcpLoop(loop));
  assert.equal(got.length, 3);
  assert.deepEqual(extra(got[1]), { mcp: { steps: [] } });
  assert.equal(extra(got[2]), undefined);
  assert.deepEqual(got[2].usage?.total_tokens, 3);
});

Deno.test("mcp_stream: a first step that fails is answered as it is", async () => {
  const error: ChatOutcome = {
    ok: false,
    status: 503,
    type: "unavailable",
    code: "x",
    param: null,
    message: "down",
    headers: {},
  };
  const { loop } = loopOf({ steps: [], override: { 1: error } });
  assert.equal(await streamMcpLoop(loop), error);
});

Deno.test("mcp_stream: a later step that fails ends the stream with a StreamFailure", async () => {
  const step1 = [
    toolDelta("a", [{ index: 0, id: "c", function: { name: "fs__ls", arguments: "{}" } }]),
    toolStop("a"),
  ];
  const cases: [number, string][] = [[429, "rate_limit"], [504, "timeout"], [400, "caller_fault"], [
    502,
    "model_unavailable",
  ]];
  for (const [status, kind] of cases) {
    const { loop } = loopOf({
      steps: [step1],
      override: {
        2: {
          ok: false,
          status,
          type: "t",
          code: "c",
          param: null,
          message: "nope",
          headers: {},
        },
      },
    });
    const out = await streamMcpLoop(loop);
    await assert.rejects(collect(out), (e: unknown) => {
      assert.ok(e instanceof StreamFailure);
      assert.equal(e.failure.kind, kind);
      assert.equal(e.failure.status, status);
      assert.match(e.failure.message, /MCP step 2: nope/);
      return true;
    });
  }
});

Deno.test("mcp_stream: finished() reaches every step's stream, cancel() the current one", async () => {
  const { loop, log } = loopOf({
    steps: [
      [toolDelta("a", [{ index: 0, id: "c", function: { name: "fs__ls", arguments: "{}" } }])],
      [stop("b")],
    ],
  });
  const out = await streamMcpLoop(loop);
  await collect(out);
  assert.ok(out.ok && out.kind === "stream");
  out.finished?.();
  await out.cancel();
  assert.deepEqual(log.filter((l) => !l.startsWith("model")), [
    "finished:p1",
    "finished:p2",
    "cancel:p2",
  ]);
});
