// A streamed chat answer put back together as the chat.completion a JSON request would have
// received: each choice's content concatenated, tool calls merged by index (id, name, then the
// arguments in pieces), the last finish_reason, the usage. Used where something must keep a
// stream's whole answer (the semantic cache stores it), fed chunk by chunk as they pass.
import type { ChatChunk, ChatCompletion, FinishReason, ToolCall, Usage } from "./types.ts";

interface ChoiceSoFar {
  content: string[];
  tools: { id: string; name: string; args: string[] }[];
  finish: FinishReason | null;
}

export interface CompletionAssembler {
  push(chunk: ChatChunk): void;
  /** The answer so far; undefined when no chunk came. `usage` wins over any chunk's. */
  result(usage?: Usage): ChatCompletion | undefined;
}

export function assembleCompletion(): CompletionAssembler {
  let head: Pick<ChatCompletion, "id" | "created" | "model"> | undefined;
  let usage: Usage | undefined;
  const choices: ChoiceSoFar[] = [];
  return {
    push(chunk) {
      head ??= { id: chunk.id, created: chunk.created, model: chunk.model };
      if (chunk.usage) usage = chunk.usage;
      for (const ch of chunk.choices) {
        const c = choices[ch.index] ??= { content: [], tools: [], finish: null };
        const d = ch.delta;
        if (typeof d?.content === "string") c.content.push(d.content);
        for (const t of d?.tool_calls ?? []) {
          const tool = c.tools[t.index] ??= { id: "", name: "", args: [] };
          if (t.id) tool.id = t.id;
          if (t.function?.name) tool.name += t.function.name;
          if (t.function?.arguments) tool.args.push(t.function.arguments);
        }
        if (ch.finish_reason) c.finish = ch.finish_reason;
      }
    },
    result(final) {
      if (!head) return undefined;
      const answer: ChatCompletion = {
        ...head,
        object: "chat.completion",
        choices: choices.map((c, index) => {
          const tools: ToolCall[] = c.tools.filter(Boolean).map((t) => ({
            id: t.id,
            type: "function",
            function: { name: t.name, arguments: t.args.join("") },
          }));
          return {
            index,
            message: {
              role: "assistant",
              content: c.content.length ? c.content.join("") : null,
              ...(tools.length ? { tool_calls: tools } : {}),
              refusal: null,
            },
            finish_reason: c.finish,
            logprobs: null,
          };
        }),
      };
      const u = final ?? usage;
      return u ? { ...answer, usage: u } : answer;
    },
  };
}
