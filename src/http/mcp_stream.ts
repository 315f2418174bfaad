// The MCP tool loop ("execute": "auto") as one streamed answer. Every model call is a streaming
// call through the failover pipeline; its text reaches the client as it comes, while its tool-call
// deltas and its finishing chunk are held back. When a step ends in tool calls the gateway serves,
// it runs them (the caller's `runTools`) and the next step's stream is relayed on in the same SSE
// answer (chunk ids of the first step, so the client sees one completion); when the model
// answers without tool calls (or calls a client tool, or maxSteps model calls were made), the
// held chunks go out and the finishing one carries `extra_fields.mcp.steps`. A later step that fails
// before its first content ends the stream like any mid-stream failure (an SSE error, no [DONE]).
import type { ChatChunk } from "../openai/types.ts";
import type { FailureKind } from "../events/catalogue.ts";
import { StreamFailure } from "../providers/execute.ts";
import type { ChatOutcome } from "./call.ts";
import type { CommittedStream } from "./stream.ts";

export interface StreamedCall {
  id: string;
  name: string;
  arguments: string;
}

export interface McpStep {
  step: number;
  provider?: string;
  tool_calls: { name: string; ok: boolean }[];
}

export interface StreamLoop {
  maxSteps: number;
  /** Whether the gateway serves this tool (an MCP tool of the request). */
  ours(name: string): boolean;
  /** One model call of the loop on the messages so far (step 1 with the client's request id). */
  model(step: number): Promise<ChatOutcome>;
  /** Runs a step's tool calls and appends the assistant and tool messages; the step's summary. */
  runTools(step: number, provider: string, calls: StreamedCall[], text: string): Promise<McpStep>;
}

const failureKind = (status: number): FailureKind =>
  status === 429
    ? "rate_limit"
    : status === 408 || status === 504
    ? "timeout"
    : status < 500
    ? "caller_fault"
    : "model_unavailable";

/** The auto loop as one committed stream (or the first step's error, answered as usual). */
export async function streamMcpLoop(loop: StreamLoop): Promise<ChatOutcome> {
  const first = await loop.model(1);
  if (!first.ok || first.kind !== "stream") return first;
  let current: CommittedStream = first;
  const finishers: (() => void)[] = [];
  const steps: McpStep[] = [];
  let id: string | undefined;

  async function* chunks(): AsyncGenerator<ChatChunk, void, undefined> {
    for (let step = 1;; step++) {
      const calls = new Map<number, StreamedCall>();
      const held: ChatChunk[] = [];
      let text = "";
      if (current.finished) finishers.push(current.finished);
      for await (const c of current.chunks) {
        id ??= c.id;
        const chunk = c.id === id ? c : { ...c, id };
        const choice = chunk.choices[0];
        const deltas = choice?.delta.tool_calls;
        if (choice?.delta.content) text += choice.delta.content;
        if (!choice || deltas?.length || choice.finish_reason !== null) {
          for (const d of deltas ?? []) {
            const call = calls.get(d.index) ?? { id: "", name: "", arguments: "" };
            if (d.id) call.id = d.id;
            if (d.function?.name) call.name += d.function.name;
            if (d.function?.arguments) call.arguments += d.function.arguments;
            calls.set(d.index, call);
          }
          held.push(chunk);
          if (choice?.delta.content) {
            // Text in the same chunk as a tool call or the finish goes out now.
            yield {
              ...chunk,
              choices: [{
                ...choice,
                delta: { content: choice.delta.content },
                finish_reason: null,
              }],
            };
          }
          continue;
        }
        yield chunk;
      }
      const list = [...calls.values()];
      if (list.length === 0 || !list.every((c) => loop.ours(c.name)) || step >= loop.maxSteps) {
        // The answer: what was held back, its finishing chunk naming the steps (not a trailing
        // usage chunk, which a client sees only when it asked for usage).
        const withChoices = held.findLastIndex((c) => c.choices.length > 0);
        const last = withChoices >= 0 ? withChoices : held.length - 1;
        for (let i = 0; i < held.length; i++) {
          const c = held[i];
          if (i !== last) {
            yield c;
            continue;
          }
          const prior = (c as { extra_fields?: Record<string, unknown> }).extra_fields;
          yield { ...c, extra_fields: { ...prior, mcp: { steps } } } as ChatChunk;
        }
        return;
      }
      steps.push(await loop.runTools(step, current.provider, list, text));
      const next = await loop.model(step + 1);
      if (!next.ok) {
        throw new StreamFailure({
          kind: failureKind(next.status),
          status: next.status,
          message: `MCP step ${step + 1}: ${next.message}`,
        });
      }
      if (next.kind !== "stream") {
        throw new StreamFailure({
          kind: "unknown",
          message: `MCP step ${step + 1} answered JSON to a streaming call`,
        });
      }
      current = next;
    }
  }

  const gen = chunks();
  return {
    ...first,
    chunks: gen,
    async cancel() {
      await gen.return(undefined).catch(() => {});
      await current.cancel();
    },
    finished() {
      if (current.finished && !finishers.includes(current.finished)) {
        finishers.push(current.finished);
      }
      for (const f of finishers) f();
    },
  };
}
