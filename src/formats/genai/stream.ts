// A committed stream of canonical chunks → Gemini GenerateContentResponses, one per frame.
import { type Json } from "../../lib/json.ts";
import type { ChatChunk, Usage } from "../../openai/types.ts";
import { candidate, finishOf, functionCallPart, usageMetadata } from "./answer.ts";

/**
 * OpenAI chunks → Gemini stream responses. Text goes out as it comes; tool calls arrive in
 * argument fragments but Gemini sends each functionCall whole, so they are held until their
 * choice finishes. The finishing candidates wait for the usage chunk that follows them, so the
 * last response carries finishReason and usageMetadata together, as Gemini's own does.
 */
export class GenaiStreamEncoder {
  #id = "";
  #model = "";
  #usage: Usage | undefined;
  #calls = new Map<number, Map<number, { id?: string; name: string; arguments: string }>>();
  #finished: Json[] = [];

  #response(candidates: Json[], usage?: Usage): Json {
    return {
      ...(candidates.length ? { candidates } : {}),
      ...(usage ? { usageMetadata: usageMetadata(usage) } : {}),
      modelVersion: this.#model,
      responseId: this.#id,
    };
  }

  #takeCalls(index: number): Json[] {
    const calls = [...(this.#calls.get(index)?.entries() ?? [])].sort(([a], [b]) => a - b);
    this.#calls.delete(index);
    return calls.map(([, call]) => functionCallPart(call));
  }

  push(chunk: ChatChunk): Json[] {
    this.#id = chunk.id;
    this.#model = chunk.model;
    if (chunk.usage) this.#usage = chunk.usage;
    const now: Json[] = [];
    for (const choice of chunk.choices) {
      const text = choice.delta.content ?? "";
      for (const d of choice.delta.tool_calls ?? []) {
        const calls = this.#calls.get(choice.index) ?? new Map();
        this.#calls.set(choice.index, calls);
        const call = calls.get(d.index) ?? { name: "", arguments: "" };
        if (d.id) call.id = d.id;
        if (d.function?.name) call.name += d.function.name;
        if (d.function?.arguments) call.arguments += d.function.arguments;
        calls.set(d.index, call);
      }
      const finish = finishOf(choice.finish_reason);
      if (finish) {
        const parts: Json[] = text === "" ? [] : [{ text }];
        this.#finished.push(
          candidate(choice.index, [...parts, ...this.#takeCalls(choice.index)], finish),
        );
      } else if (text !== "") {
        now.push(candidate(choice.index, [{ text }]));
      }
    }
    return now.length > 0 ? [this.#response(now)] : [];
  }

  /** The held back end of the stream: finished candidates, unfinished calls and the usage. */
  end(): Json[] {
    const open = [...this.#calls.keys()].map((i) => candidate(i, this.#takeCalls(i)));
    const last = [...this.#finished, ...open];
    this.#finished = [];
    if (last.length === 0 && !this.#usage) return [];
    return [this.#response(last, this.#usage)];
  }
}
