// An upstream that plays one function-tool round trip in three wire formats: OpenAI Chat
// Completions (`…/chat/completions`), Anthropic Messages (`…/messages`) and OpenAI's Responses API
// (`…/responses`), each as JSON or as its SSE stream. A request without a tool result is answered
// with a call to its first function tool (arguments {"city":"Paris"}); a request that carries the
// tool result is answered with text quoting it (`answerText(result)`). Every request is recorded,
// and a target whose name starts with "down" answers 500 in the OpenAI error shape.
// Responses API answers also carry a reasoning item, and, when the request names a web_search
// tool, a web_search_call item and a url_citation annotation: the items only a native
// passthrough can return.
import assert from "node:assert/strict";
import { startTestGateway } from "./gateway.ts";

const enc = new TextEncoder();
type Json = Record<string, unknown>;

export const TOOL_ARGS = '{"city":"Paris"}';
export const answerText = (result: string) => `The tool said: ${result}`;

export interface ToolCallRecord {
  target: string;
  path: string;
  headers: Headers;
  /** "chat" (chat/completions), "messages" (Anthropic) or "responses". */
  api: "chat" | "messages" | "responses";
  body: Json;
}

/** The tool result a request carries, in its own format, or undefined. */
export function toolResultOf(api: ToolCallRecord["api"], body: Json): string | undefined {
  if (api === "chat") {
    const m = (body.messages as Json[]).find((m) => m.role === "tool");
    return m ? String(m.content) : undefined;
  }
  if (api === "messages") {
    for (const m of body.messages as { content: unknown }[]) {
      if (!Array.isArray(m.content)) continue;
      const r = m.content.find((b: Json) => b.type === "tool_result");
      if (!r) continue;
      const c = r.content;
      return typeof c === "string" ? c : (c as Json[]).map((p) => p.text).join("");
    }
    return undefined;
  }
  const input = body.input;
  if (!Array.isArray(input)) return undefined;
  const o = input.find((i: Json) => i.type === "function_call_output");
  return o ? String(o.output) : undefined;
}

const toolName = (api: ToolCallRecord["api"], body: Json): string => {
  const tools = (body.tools ?? []) as Json[];
  if (api === "chat") {
    return String((tools[0]?.function as Json | undefined)?.name ?? "none");
  }
  const fn = api === "responses" ? tools.find((t) => t.type === "function") : tools[0];
  return String(fn?.name ?? "none");
};

const sse = (data: unknown, event?: string) =>
  `${event ? `event: ${event}\n` : ""}data: ${JSON.stringify(data)}\n\n`;

function chat(body: Json, result: string | undefined): string | Json {
  const model = String(body.model);
  const usage = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };
  const call = { id: "call_up1", type: "function", function: { name: "", arguments: "" } };
  call.function.name = toolName("chat", body);
  if (!body.stream) {
    const message = result === undefined
      ? {
        role: "assistant",
        content: null,
        tool_calls: [{ ...call, function: { ...call.function, arguments: TOOL_ARGS } }],
      }
      : { role: "assistant", content: answerText(result) };
    return {
      id: "chatcmpl-up",
      object: "chat.completion",
      created: 1,
      model,
      choices: [{
        index: 0,
        message,
        finish_reason: result === undefined ? "tool_calls" : "stop",
      }],
      usage,
    };
  }
  const chunk = (delta: Json, finish: string | null = null, extra: Json = {}) =>
    sse({
      id: "chatcmpl-up",
      object: "chat.completion.chunk",
      created: 1,
      model,
      choices: [{ index: 0, delta, finish_reason: finish }],
      ...extra,
    });
  let out = chunk({ role: "assistant", content: "" });
  if (result === undefined) {
    out += chunk({ tool_calls: [{ index: 0, ...call }] });
    for (const piece of [TOOL_ARGS.slice(0, 8), TOOL_ARGS.slice(8)]) {
      out += chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] });
    }
    out += chunk({}, "tool_calls");
  } else {
    const text = answerText(result);
    out += chunk({ content: text.slice(0, 9) }) + chunk({ content: text.slice(9) });
    out += chunk({}, "stop");
  }
  out += sse({
    id: "chatcmpl-up",
    object: "chat.completion.chunk",
    created: 1,
    model,
    choices: [],
    usage,
  });
  return out + "data: [DONE]\n\n";
}

function messages(body: Json, result: string | undefined): string | Json {
  const model = String(body.model);
  const name = toolName("messages", body);
  const usage = { input_tokens: 11, output_tokens: 7 };
  const block = result === undefined
    ? { type: "tool_use", id: "toolu_up1", name, input: JSON.parse(TOOL_ARGS) }
    : { type: "text", text: answerText(result) };
  const stop = result === undefined ? "tool_use" : "end_turn";
  if (!body.stream) {
    return {
      id: "msg_up",
      type: "message",
      role: "assistant",
      model,
      content: [block],
      stop_reason: stop,
      stop_sequence: null,
      usage,
    };
  }
  let out = sse({
    type: "message_start",
    message: {
      id: "msg_up",
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 11, output_tokens: 1 },
    },
  }, "message_start");
  if (result === undefined) {
    out += sse({
      type: "content_block_start",
      index: 0,
      content_block: { type: "tool_use", id: "toolu_up1", name, input: {} },
    }, "content_block_start");
    for (const piece of [TOOL_ARGS.slice(0, 8), TOOL_ARGS.slice(8)]) {
      out += sse({
        type: "content_block_delta",
        index: 0,
        delta: { type: "input_json_delta", partial_json: piece },
      }, "content_block_delta");
    }
  } else {
    const text = answerText(result);
    out += sse({
      type: "content_block_start",
      index: 0,
      content_block: { type: "text", text: "" },
    }, "content_block_start");
    for (const piece of [text.slice(0, 9), text.slice(9)]) {
      out += sse({
        type: "content_block_delta",
        index: 0,
        delta: { type: "text_delta", text: piece },
      }, "content_block_delta");
    }
  }
  out += sse({ type: "content_block_stop", index: 0 }, "content_block_stop");
  out += sse({
    type: "message_delta",
    delta: { stop_reason: stop, stop_sequence: null },
    usage: { output_tokens: 7 },
  }, "message_delta");
  return out + sse({ type: "message_stop" }, "message_stop");
}

/** The Responses API: output items, and the events that stream them. */
function responses(body: Json, result: string | undefined): string | Json {
  const model = String(body.model);
  const tools = (body.tools ?? []) as Json[];
  const webSearch = tools.some((t) => String(t.type).startsWith("web_search"));
  const text = result === undefined ? undefined : answerText(result);
  const output: Json[] = [{ type: "reasoning", id: "rs_up1", summary: [] }];
  if (webSearch) {
    output.push({
      type: "web_search_call",
      id: "ws_up1",
      status: "completed",
      action: { type: "search", query: "weather Paris" },
    });
  }
  if (text === undefined) {
    output.push({
      type: "function_call",
      id: "fc_up1",
      call_id: "call_up1",
      name: toolName("responses", body),
      arguments: TOOL_ARGS,
      status: "completed",
    });
  } else {
    output.push({
      type: "message",
      id: "msg_up1",
      status: "completed",
      role: "assistant",
      content: [{
        type: "output_text",
        text,
        annotations: webSearch
          ? [{
            type: "url_citation",
            start_index: 0,
            end_index: 4,
            url: "https://example.com/",
            title: "Example",
          }]
          : [],
      }],
    });
  }
  const usage = {
    input_tokens: 11,
    input_tokens_details: { cached_tokens: 3 },
    output_tokens: 7,
    output_tokens_details: { reasoning_tokens: 2 },
    total_tokens: 18,
  };
  const response = (status: string, out: Json[], u: Json | null) => ({
    id: "resp_upstream",
    object: "response",
    created_at: 1,
    status,
    model,
    output: out,
    usage: u,
    store: body.store ?? true,
  });
  if (!body.stream) return response("completed", output, usage);
  let seq = 0;
  const ev = (type: string, data: Json) => sse({ type, sequence_number: seq++, ...data }, type);
  let s = ev("response.created", { response: response("in_progress", [], null) });
  s += ev("response.in_progress", { response: response("in_progress", [], null) });
  for (const [i, item] of output.entries()) {
    if (item.type === "message") {
      const at = { item_id: item.id, output_index: i, content_index: 0 };
      s += ev("response.output_item.added", {
        output_index: i,
        item: { ...item, status: "in_progress", content: [] },
      });
      s += ev("response.content_part.added", {
        ...at,
        part: { type: "output_text", text: "", annotations: [] },
      });
      for (const piece of [text!.slice(0, 9), text!.slice(9)]) {
        s += ev("response.output_text.delta", { ...at, delta: piece });
      }
      s += ev("response.output_text.done", { ...at, text });
      s += ev("response.content_part.done", { ...at, part: (item.content as Json[])[0] });
    } else if (item.type === "function_call") {
      s += ev("response.output_item.added", {
        output_index: i,
        item: { ...item, arguments: "", status: "in_progress" },
      });
      for (const piece of [TOOL_ARGS.slice(0, 8), TOOL_ARGS.slice(8)]) {
        s += ev("response.function_call_arguments.delta", {
          item_id: item.id,
          output_index: i,
          delta: piece,
        });
      }
      s += ev("response.function_call_arguments.done", {
        item_id: item.id,
        output_index: i,
        arguments: TOOL_ARGS,
      });
    } else {
      s += ev("response.output_item.added", { output_index: i, item });
    }
    s += ev("response.output_item.done", { output_index: i, item });
  }
  return s + ev("response.completed", { response: response("completed", output, usage) });
}

export interface ToolUpstream {
  url: string;
  calls: ToolCallRecord[];
  /** The recorded calls of one target. */
  callsOf(target: string): ToolCallRecord[];
  close(): Promise<void>;
}

export function startToolUpstream(): ToolUpstream {
  const calls: ToolCallRecord[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    const target = path.split("/")[1];
    const api = path.endsWith("/chat/completions")
      ? "chat"
      : path.endsWith("/messages")
      ? "messages"
      : path.endsWith("/responses")
      ? "responses"
      : undefined;
    if (!api) return Response.json({ error: { message: `no route ${path}` } }, { status: 404 });
    const body = await req.json() as Json;
    calls.push({ target, path, headers: req.headers, api, body });
    if (target.startsWith("down")) {
      return Response.json(
        { error: { message: "upstream exploded", type: "server_error", code: null } },
        { status: 500 },
      );
    }
    const result = toolResultOf(api, body);
    const answer = api === "chat"
      ? chat(body, result)
      : api === "messages"
      ? messages(body, result)
      : responses(body, result);
    return typeof answer === "string"
      ? new Response(enc.encode(answer), { headers: { "content-type": "text/event-stream" } })
      : Response.json(answer);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    calls,
    callsOf: (target) => calls.filter((c) => c.target === target),
    close: () => server.shutdown(),
  };
}

// ---- A gateway in front of it, and what a tool turn must have carried upstream.

export const provider = (
  url: string,
  target: string,
  type: "openai" | "anthropic" | "azure",
  extra: Json = {},
) => ({
  type,
  baseUrl: `${url}/${target}/v1`,
  timeouts: { firstTokenMs: 2_000, totalMs: 10_000 },
  ...extra,
});

/** A listening gateway with providers oai (openai), anthro (anthropic) and down (500s). */
export async function withToolGateway(
  fn: (gatewayUrl: string, up: ToolUpstream) => Promise<void>,
): Promise<void> {
  const up = startToolUpstream();
  const gw = startTestGateway({
    retries: { max: 0 },
    providers: {
      oai: provider(up.url, "oai", "openai"),
      anthro: provider(up.url, "anthro", "anthropic"),
      down: provider(up.url, "down", "openai"),
      // Native Responses API upstreams (the passthrough): OpenAI, one that fails, and Azure.
      nat: provider(up.url, "nat", "openai", { responsesApi: true }),
      downnat: provider(up.url, "downnat", "openai", { responsesApi: true }),
      az: {
        ...provider(up.url, "az", "azure"),
        baseUrl: `${up.url}/az`,
        keys: [{ value: "env:AZ_KEY" }],
        deployments: { m1: "dep1" },
      },
    },
  }, { AZ_KEY: "az-secret" });
  try {
    await fn(gw.url, up);
  } finally {
    await gw.shutdown(2_000);
    await up.close();
  }
}

/** Asserts the upstream request carried the assistant's tool call and then the tool result. */
export function assertToolTurn(rec: ToolCallRecord, result: string): void {
  const args = JSON.parse(TOOL_ARGS);
  if (rec.api === "chat") {
    const msgs = rec.body.messages as Json[];
    const asst = msgs.find((m) => m.role === "assistant") as
      | { tool_calls: { id: string; function: { name: string; arguments: string } }[] }
      | undefined;
    assert.ok(asst, `no assistant message in ${JSON.stringify(msgs)}`);
    assert.equal(asst.tool_calls[0].id, "call_up1");
    assert.equal(asst.tool_calls[0].function.name, "get_weather");
    assert.deepEqual(JSON.parse(asst.tool_calls[0].function.arguments), args);
    const toolMsg = msgs[msgs.indexOf(asst as unknown as Json) + 1];
    assert.deepEqual(
      { role: toolMsg.role, id: toolMsg.tool_call_id, content: toolMsg.content },
      { role: "tool", id: "call_up1", content: result },
    );
  } else if (rec.api === "messages") {
    const msgs = rec.body.messages as { role: string; content: Json[] | string }[];
    const at = msgs.findIndex((m) =>
      Array.isArray(m.content) && m.content.some((b) => b.type === "tool_use")
    );
    assert.ok(at >= 0, `no tool_use in ${JSON.stringify(msgs)}`);
    const use = (msgs[at].content as Json[]).find((b) => b.type === "tool_use")!;
    assert.equal(msgs[at].role, "assistant");
    assert.deepEqual([use.id, use.name, use.input], ["toolu_up1", "get_weather", args]);
    const res = (msgs[at + 1].content as Json[]).find((b) => b.type === "tool_result")!;
    assert.equal(msgs[at + 1].role, "user");
    assert.equal(res.tool_use_id, "toolu_up1");
    const text = typeof res.content === "string"
      ? res.content
      : (res.content as Json[]).map((p) => p.text).join("");
    assert.equal(text, result);
  } else {
    const input = rec.body.input as Json[];
    const call = input.findIndex((i) => i.type === "function_call");
    assert.ok(call >= 0, `no function_call in ${JSON.stringify(input)}`);
    assert.deepEqual(
      [input[call].call_id, input[call].name, JSON.parse(String(input[call].arguments))],
      ["call_up1", "get_weather", args],
    );
    const out = input.find((i) => i.type === "function_call_output")!;
    assert.deepEqual([out.call_id, out.output], ["call_up1", result]);
  }
}

export const weatherTool = {
  type: "function" as const,
  name: "get_weather",
  description: "The weather in a city",
  parameters: {
    type: "object",
    properties: { city: { type: "string" } },
    required: ["city"],
    additionalProperties: false,
  },
  strict: true,
};
