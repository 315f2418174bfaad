// A committed stream of canonical chunks → the Responses API's SSE events, in its documented
// order, each with a `type` and a `sequence_number` that grows by one per event.
import type { Item } from "../../responses/mod.ts";
import type { ChatChunk, FinishReason, Usage } from "../../openai/types.ts";
import { nativeItemOf, nativeOutputOf } from "../../providers/openai/responses_api.ts";
import {
  annotationsOf,
  functionCallOutput,
  messageOutput,
  nativeItem,
  outputText,
  type ResponseObject,
  responseObject,
  type ResponseShell,
  responsesUsage,
  statusOf,
} from "./answer.ts";

export interface ResponsesEvent {
  event: string;
  data: Record<string, unknown> & { type: string; sequence_number: number };
}

type Open =
  | { kind: "message"; id: string; index: number; text: string; annotations: unknown[] }
  /** A native upstream's finished item with no chat equivalent (reasoning, web_search_call …). */
  | { kind: "opaque"; id: string; index: number; item: Item }
  | {
    kind: "function_call";
    id: string;
    index: number;
    call_id: string;
    name: string;
    args: string;
  };

export interface ResponsesStreamEncoder {
  /** Events for one chunk (none when it carries nothing new). The first opens the response. */
  push(chunk: ChatChunk): ResponsesEvent[];
  /** Once the upstream ended: every item's done events, then response.completed/incomplete. */
  finish(): ResponsesEvent[];
  /** After a failure: response.failed with the error (never completed after an error). */
  fail(error: { code: string; message: string }): ResponsesEvent[];
  /** The final Response object, once finish() ran. */
  final(): ResponseObject | undefined;
}

/**
 * The response opens with response.created and response.in_progress on the first chunk, i.e.
 * when the pipeline committed the stream, so a failover before that is never seen. Text goes to
 * one message item; each tool call is a function_call item. Items have their own output_index,
 * so parallel tool calls whose arguments interleave are expressible, and all items are closed
 * (output_text.done, content_part.done, function_call_arguments.done, output_item.done) at the
 * end, in output order.
 */
export function createResponsesStreamEncoder(
  shell: ResponseShell,
  mint: (prefix: string) => string,
): ResponsesStreamEncoder {
  let seq = 0;
  let started = false;
  let ended = false;
  let model = shell.model;
  const items: Open[] = [];
  let text: Extract<Open, { kind: "message" }> | undefined;
  const calls = new Map<number, Extract<Open, { kind: "function_call" }>>();
  let finish: FinishReason | null = null;
  let usage: Usage | undefined;
  let last: ResponseObject | undefined;

  const ev = (type: string, data: Record<string, unknown> = {}): ResponsesEvent => ({
    event: type,
    data: { type, sequence_number: seq++, ...data },
  });
  const itemOf = (o: Open, status: string): Item =>
    o.kind === "message"
      ? messageOutput(o.id, o.text, status, o.annotations)
      : o.kind === "opaque"
      ? o.item
      : functionCallOutput(o.id, { call_id: o.call_id, name: o.name, arguments: o.args }, status);
  const snapshot = (
    status: Parameters<typeof responseObject>[1]["status"],
    extra: Partial<Parameters<typeof responseObject>[1]> = {},
  ) =>
    responseObject({ ...shell, model }, {
      status,
      output: items.map((o) => itemOf(o, status === "failed" ? "incomplete" : "completed")),
      usage: null,
      ...extra,
    });
  const open = (out: ResponsesEvent[], chunk?: ChatChunk) => {
    if (started) return;
    started = true;
    if (chunk?.model) model = chunk.model;
    const response = snapshot("in_progress");
    out.push(ev("response.created", { response }), ev("response.in_progress", { response }));
  };
  const itemDone = (o: Open, status: string): ResponsesEvent[] => {
    const out: ResponsesEvent[] = [];
    if (o.kind === "opaque") return out; // done when it came
    if (o.kind === "message") {
      const at = { item_id: o.id, output_index: o.index, content_index: 0 };
      const part = outputText(o.text, o.annotations);
      out.push(ev("response.output_text.done", { ...at, text: o.text, logprobs: [] }));
      out.push(ev("response.content_part.done", { ...at, part }));
    } else {
      out.push(ev("response.function_call_arguments.done", {
        item_id: o.id,
        output_index: o.index,
        name: o.name,
        arguments: o.args,
      }));
    }
    out.push(ev("response.output_item.done", { output_index: o.index, item: itemOf(o, status) }));
    return out;
  };

  return {
    push(chunk) {
      if (ended) return [];
      const out: ResponsesEvent[] = [];
      open(out, chunk);
      if (chunk.usage) usage = chunk.usage;
      const opaque = nativeItemOf(chunk);
      if (opaque) {
        const item = nativeItem(opaque, mint);
        const o: Open = { kind: "opaque", id: String(item.id), index: items.length, item };
        items.push(o);
        out.push(ev("response.output_item.added", { output_index: o.index, item }));
        out.push(ev("response.output_item.done", { output_index: o.index, item }));
      }
      const final = nativeOutputOf(chunk);
      if (final && text) text.annotations = annotationsOf(final);
      const choice = chunk.choices.find((c) => c.index === 0);
      if (!choice) return out;
      const { content, tool_calls } = choice.delta;
      if (typeof content === "string" && content !== "") {
        if (!text) {
          text = {
            kind: "message",
            id: mint("msg"),
            index: items.length,
            text: "",
            annotations: [],
          };
          items.push(text);
          const at = { output_index: text.index };
          out.push(ev("response.output_item.added", {
            ...at,
            item: { ...messageOutput(text.id, "", "in_progress"), content: [] },
          }));
          out.push(ev("response.content_part.added", {
            ...at,
            item_id: text.id,
            content_index: 0,
            part: outputText(""),
          }));
        }
        text.text += content;
        out.push(ev("response.output_text.delta", {
          item_id: text.id,
          output_index: text.index,
          content_index: 0,
          delta: content,
          logprobs: [],
        }));
      }
      for (const call of tool_calls ?? []) {
        let o = calls.get(call.index);
        if (!o) {
          o = {
            kind: "function_call",
            id: mint("fc"),
            index: items.length,
            call_id: call.id ?? mint("call"),
            name: call.function?.name ?? "",
            args: "",
          };
          calls.set(call.index, o);
          items.push(o);
          out.push(ev("response.output_item.added", {
            output_index: o.index,
            item: itemOf(o, "in_progress"),
          }));
        }
        const delta = call.function?.arguments;
        if (delta) {
          o.args += delta;
          out.push(ev("response.function_call_arguments.delta", {
            item_id: o.id,
            output_index: o.index,
            delta,
          }));
        }
      }
      if (choice.finish_reason) finish = choice.finish_reason;
      return out;
    },
    finish() {
      if (ended) return [];
      ended = true;
      const out: ResponsesEvent[] = [];
      open(out);
      const st = statusOf(finish);
      const itemStatus = st.status === "incomplete" ? "incomplete" : "completed";
      for (const o of items) out.push(...itemDone(o, itemStatus));
      last = responseObject({ ...shell, model }, {
        ...st,
        output: items.map((o) => itemOf(o, itemStatus)),
        usage: responsesUsage(usage),
      });
      const type = st.status === "incomplete" ? "response.incomplete" : "response.completed";
      out.push(ev(type, { response: last }));
      return out;
    },
    fail(error) {
      if (ended) return [];
      ended = true;
      const out: ResponsesEvent[] = [];
      open(out);
      out.push(ev("response.failed", {
        response: snapshot("failed", { error, usage: usage ? responsesUsage(usage) : null }),
      }));
      return out;
    },
    final: () => last,
  };
}
