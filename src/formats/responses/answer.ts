// A canonical completion → a Responses API Response object (the JSON answer, and the object the
// stream's response.* events carry). Pure: ids and times arrive as arguments.
import type { Item } from "../../responses/mod.ts";
import type { ChatCompletion, FinishReason, Usage } from "../../openai/types.ts";
import { nativeOutputOf } from "../../providers/openai/responses_api.ts";
import type { ResponsesRequest } from "./request_schema.ts";

export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number; cache_write_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/**
 * Chat usage → Responses usage (both count cached tokens within the input). The spec requires
 * `cache_write_tokens`; the canonical usage does not carry cache writes, so it is 0.
 */
export function responsesUsage(u: Usage | null | undefined): ResponsesUsage {
  const input = u?.prompt_tokens ?? 0;
  const output = u?.completion_tokens ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: {
      cached_tokens: u?.prompt_tokens_details?.cached_tokens ?? 0,
      cache_write_tokens: 0,
    },
    output_tokens: output,
    output_tokens_details: {
      reasoning_tokens: u?.completion_tokens_details?.reasoning_tokens ?? 0,
    },
    total_tokens: u?.total_tokens ?? input + output,
  };
}

export type Status = "completed" | "incomplete" | "failed" | "in_progress";

/** A finish_reason → the response's status and why it is incomplete. */
export function statusOf(finish: FinishReason | null | undefined): {
  status: Status;
  incomplete_details: { reason: "max_output_tokens" | "content_filter" } | null;
} {
  if (finish === "length") {
    return { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } };
  }
  if (finish === "content_filter") {
    return { status: "incomplete", incomplete_details: { reason: "content_filter" } };
  }
  return { status: "completed", incomplete_details: null };
}

/** What every Response object of one call shares: its id, time and the request it echoes. */
export interface ResponseShell {
  id: string;
  /** Seconds since the epoch. */
  createdAt: number;
  model: string;
  body: ResponsesRequest;
}

export type ResponseObject = Record<string, unknown> & { id: string; output: Item[] };

/** A Response object, echoing the request's settings as OpenAI does (its defaults when unset). */
export function responseObject(
  shell: ResponseShell,
  state: {
    status: Status;
    output: Item[];
    usage: ResponsesUsage | null;
    incomplete_details?: { reason: string } | null;
    error?: { code: string; message: string } | null;
  },
): ResponseObject {
  const b = shell.body;
  return {
    id: shell.id,
    object: "response",
    created_at: shell.createdAt,
    status: state.status,
    error: state.error ?? null,
    incomplete_details: state.incomplete_details ?? null,
    instructions: b.instructions ?? null,
    max_output_tokens: b.max_output_tokens ?? null,
    model: shell.model,
    output: state.output,
    parallel_tool_calls: b.parallel_tool_calls ?? true,
    previous_response_id: b.previous_response_id ?? null,
    reasoning: { effort: b.reasoning?.effort ?? null, summary: null },
    store: b.store ?? true,
    temperature: b.temperature ?? null,
    text: b.text ?? { format: { type: "text" } },
    tool_choice: b.tool_choice ?? "auto",
    tools: (b.tools ?? []).map(toolEcho),
    top_p: b.top_p ?? null,
    truncation: "disabled",
    // Not nullable in the spec: left out until known (in_progress), and when the client sent none.
    ...(state.usage ? { usage: state.usage } : {}),
    ...(typeof b.user === "string" ? { user: b.user } : {}),
    metadata: b.metadata ?? {},
  };
}

/** A tool as the Response echoes it: a function tool always names `strict` and `parameters`. */
const toolEcho = (t: { type: string } & Record<string, unknown>) =>
  t.type === "function" ? { ...t, parameters: t.parameters ?? null, strict: t.strict ?? null } : t;

/** An output_text part: the spec requires `annotations` and `logprobs` (none asked for here). */
export const outputText = (text: string, annotations: unknown[] = []) => ({
  type: "output_text",
  text,
  annotations,
  logprobs: [],
});

export const messageOutput = (
  id: string,
  text: string,
  status: string,
  annotations: unknown[] = [],
): Item => ({
  type: "message",
  id,
  status,
  role: "assistant",
  content: [outputText(text, annotations)],
});

const PREFIX: Record<string, string> = {
  message: "msg",
  function_call: "fc",
  reasoning: "rs",
  web_search_call: "ws",
  file_search_call: "fs",
  code_interpreter_call: "ci",
  image_generation_call: "ig",
};

/**
 * A native upstream's output item as the gateway answers it: as it came, under an id of this
 * response (so `item_reference` finds it; the upstream stored nothing under its own), a message
 * completed with what the spec requires (`status`, output_text `annotations` and `logprobs`).
 */
export const nativeItem = (item: Item, mint: (prefix: string) => string): Item => ({
  ...(item.type === "message" ? outputMessage(item) : item),
  id: mint(PREFIX[String(item.type)] ?? "item"),
});

/** An output_text part with what the spec requires and an upstream may leave out filled in. */
export const outputPart = (p: Record<string, unknown>): Record<string, unknown> =>
  p.type === "output_text" ? { ...outputText(String(p.text ?? "")), ...p } : p;

/** A message item of a native upstream, completed to the spec: a status, full output_text parts. */
const outputMessage = (item: Item): Item => ({
  ...item,
  status: item.status ?? "completed",
  ...(Array.isArray(item.content) ? { content: item.content.map(outputPart) } : {}),
});

/** The annotations of a native answer's message items, in order (url citations …). */
export const annotationsOf = (output: Item[]): unknown[] =>
  output.filter((i) => i.type === "message").flatMap((i) =>
    Array.isArray(i.content)
      ? i.content.flatMap((p: { annotations?: unknown }) =>
        Array.isArray(p.annotations) ? p.annotations : []
      )
      : []
  );

export const functionCallOutput = (
  id: string,
  call: { call_id: string; name: string; arguments: string },
  status: string,
): Item => ({ type: "function_call", id, ...call, status });

/** The first choice's text and tool calls as output items; `mint(prefix)` names each item. */
export function outputOf(c: ChatCompletion, mint: (prefix: string) => string): Item[] {
  // Served by a native Responses API: its own items, reasoning and built-in tool calls included.
  const native = nativeOutputOf(c);
  if (native) return native.map((i) => nativeItem(i, mint));
  const choice = c.choices[0];
  const out: Item[] = [];
  const { status } = statusOf(choice?.finish_reason);
  const text = choice?.message.content;
  if (typeof text === "string" && text !== "") {
    out.push(
      messageOutput(mint("msg"), text, status === "incomplete" ? "incomplete" : "completed"),
    );
  }
  for (const call of choice?.message.tool_calls ?? []) {
    out.push(functionCallOutput(mint("fc"), {
      call_id: call.id,
      name: call.function.name,
      arguments: call.function.arguments,
    }, "completed"));
  }
  return out;
}

/** A completion as a Response object. */
export function completionToResponse(
  shell: ResponseShell,
  c: ChatCompletion,
  mint: (prefix: string) => string,
): ResponseObject {
  return responseObject({ ...shell, model: c.model || shell.model }, {
    ...statusOf(c.choices[0]?.finish_reason),
    output: outputOf(c, mint),
    usage: responsesUsage(c.usage),
  });
}
