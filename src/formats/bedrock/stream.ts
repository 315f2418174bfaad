// A committed stream of canonical chunks → ConverseStream events (messageStart,
// contentBlockStart/Delta/Stop, messageStop, metadata), per API_runtime_ConverseStreamOutput.html.
import { type Json } from "../../lib/json.ts";
import type { ChatChunk, FinishReason, Usage } from "../../openai/types.ts";
import { converseUsage, stopReason } from "./answer.ts";

// ---------------------------------------------------------------------------------------------
// Stream: canonical chunks → ConverseStream events

export interface ConverseEvent {
  /** The `:event-type` of the frame. */
  type: string;
  payload: Json;
}

/**
 * Turns OpenAI chunks into ConverseStream events, in Bedrock's order: messageStart, content
 * blocks (text blocks start with their first delta, tool blocks with contentBlockStart), a
 * contentBlockStop for each, messageStop, and metadata last. One per stream.
 */
export class ConverseStreamTranslator {
  #started = false;
  #stopped = false;
  #open: { index: number; tool?: number } | undefined;
  #nextIndex = 0;
  #toolBlocks = new Map<number, number>(); // OpenAI tool_calls index → content block index
  #usage: Usage | undefined;

  push(chunk: ChatChunk): ConverseEvent[] {
    const out: ConverseEvent[] = [];
    if (chunk.usage) this.#usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) return out;
    this.#start(out);
    const delta = choice.delta;
    if (typeof delta.content === "string" && delta.content !== "") {
      if (!this.#open || this.#open.tool !== undefined) this.#openBlock(out);
      out.push({
        type: "contentBlockDelta",
        payload: { contentBlockIndex: this.#open!.index, delta: { text: delta.content } },
      });
    }
    for (const call of delta.tool_calls ?? []) {
      let index = this.#toolBlocks.get(call.index);
      if (index === undefined) {
        index = this.#openBlock(out, call.index);
        out.push({
          type: "contentBlockStart",
          payload: {
            contentBlockIndex: index,
            start: { toolUse: { toolUseId: call.id ?? "", name: call.function?.name ?? "" } },
          },
        });
      }
      if (call.function?.arguments) {
        out.push({
          type: "contentBlockDelta",
          payload: {
            contentBlockIndex: index,
            delta: { toolUse: { input: call.function.arguments } },
          },
        });
      }
    }
    if (choice.finish_reason) this.#stop(out, choice.finish_reason);
    return out;
  }

  /** The closing events once the upstream is done: whatever is still open, then metadata. */
  finish(latencyMs: number): ConverseEvent[] {
    const out: ConverseEvent[] = [];
    this.#start(out);
    this.#stop(out, "stop");
    out.push({
      type: "metadata",
      payload: { usage: converseUsage(this.#usage), metrics: { latencyMs: Math.round(latencyMs) } },
    });
    return out;
  }

  #start(out: ConverseEvent[]): void {
    if (this.#started) return;
    this.#started = true;
    out.push({ type: "messageStart", payload: { role: "assistant" } });
  }

  #openBlock(out: ConverseEvent[], tool?: number): number {
    this.#closeBlock(out);
    const index = this.#nextIndex++;
    this.#open = { index, tool };
    if (tool !== undefined) this.#toolBlocks.set(tool, index);
    return index;
  }

  #closeBlock(out: ConverseEvent[]): void {
    if (!this.#open) return;
    out.push({ type: "contentBlockStop", payload: { contentBlockIndex: this.#open.index } });
    this.#open = undefined;
  }

  #stop(out: ConverseEvent[], finish: FinishReason): void {
    if (this.#stopped) return;
    this.#closeBlock(out);
    this.#stopped = true;
    out.push({ type: "messageStop", payload: { stopReason: stopReason(finish) } });
  }
}
