// A committed stream of canonical chunks → Anthropic's SSE events, in its documented order.
import { type Json } from "../../lib/json.ts";
import type { ChatChunk, Usage } from "../../openai/types.ts";
import { anthropicUsage, messageId, type StopReason, stopReason } from "./answer.ts";

// ---------------------------------------------------------------------------------------------
// Stream

export interface AnthropicEvent {
  event: string;
  data: Json & { type: string };
}

const ev = (type: string, data: Json = {}): AnthropicEvent => ({
  event: type,
  data: { type, ...data },
});

export interface AnthropicStreamEncoder {
  /** Events for one OpenAI chunk (possibly none). Throws if the chunks cannot be expressed. */
  push(chunk: ChatChunk): AnthropicEvent[];
  /** The closing events once the upstream stream ended: content_block_stop, message_delta
   * (stop_reason, usage), message_stop. */
  finish(): AnthropicEvent[];
}

/**
 * OpenAI chunks → Anthropic's documented event order: message_start; for each content block a
 * content_block_start, its deltas (text_delta, or input_json_delta for tool_use), and a
 * content_block_stop; then message_delta and message_stop. One ping follows the first
 * content_block_start, as the API sends it. Blocks are sequential, as Anthropic's are: a tool
 * call whose arguments resume after another block has started cannot be encoded, and throws.
 */
export function createAnthropicStreamEncoder(
  /** Used until the first chunk names its own id and model. */
  opts: { id: string; model: string },
): AnthropicStreamEncoder {
  let started = false;
  let pinged = false;
  let finished = false;
  let model = opts.model;
  let next = 0; // index of the next content block
  let open: { index: number; tool?: number } | undefined;
  const toolBlocks = new Map<number, number>(); // OpenAI tool_calls index → block index
  let stop: StopReason | undefined;
  let usage: Usage | undefined;

  let id = opts.id;
  const start = (out: AnthropicEvent[], chunk?: ChatChunk) => {
    if (started) return;
    started = true;
    if (chunk?.model) model = chunk.model;
    if (chunk?.id) id = chunk.id;
    out.push(ev("message_start", {
      message: {
        id: messageId(id),
        type: "message",
        role: "assistant",
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        // OpenAI streams report usage only at the end; message_delta carries the totals.
        usage: { input_tokens: 0, output_tokens: 0 },
      },
    }));
  };
  const close = (out: AnthropicEvent[]) => {
    if (!open) return;
    out.push(ev("content_block_stop", { index: open.index }));
    open = undefined;
  };
  const openBlock = (out: AnthropicEvent[], block: Json, tool?: number) => {
    close(out);
    open = { index: next++, tool };
    out.push(ev("content_block_start", { index: open.index, content_block: block }));
    if (!pinged) {
      pinged = true;
      out.push(ev("ping"));
    }
    return open.index;
  };

  return {
    push(chunk) {
      if (finished) return [];
      const out: AnthropicEvent[] = [];
      start(out, chunk);
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices.find((c) => c.index === 0);
      if (!choice) return out;
      const { content, tool_calls } = choice.delta;
      if (typeof content === "string" && content !== "") {
        const index = open && open.tool === undefined
          ? open.index
          : openBlock(out, { type: "text", text: "" });
        out.push(
          ev("content_block_delta", { index, delta: { type: "text_delta", text: content } }),
        );
      }
      for (const call of tool_calls ?? []) {
        let index = toolBlocks.get(call.index);
        if (index === undefined) {
          index = openBlock(out, {
            type: "tool_use",
            id: call.id ?? `toolu_${messageId(id).slice(4)}_${call.index}`,
            name: call.function?.name ?? "",
            input: {},
          }, call.index);
          toolBlocks.set(call.index, index);
        } else if (open?.index !== index) {
          throw new Error(
            `tool call ${call.index} resumed after its content block closed; Anthropic's stream ` +
              `format cannot express interleaved blocks`,
          );
        }
        const args = call.function?.arguments;
        if (args) {
          out.push(ev("content_block_delta", {
            index,
            delta: { type: "input_json_delta", partial_json: args },
          }));
        }
      }
      if (choice.finish_reason) stop = stopReason(choice.finish_reason);
      return out;
    },
    finish() {
      if (finished) return [];
      finished = true;
      const out: AnthropicEvent[] = [];
      start(out);
      close(out);
      const u = anthropicUsage(usage);
      out.push(ev("message_delta", {
        delta: { stop_reason: stop ?? "end_turn", stop_sequence: null },
        usage: usage
          ? {
            input_tokens: u.input_tokens,
            output_tokens: u.output_tokens,
            cache_read_input_tokens: u.cache_read_input_tokens,
          }
          : { output_tokens: 0 },
      }));
      out.push(ev("message_stop"));
      return out;
    },
  };
}
