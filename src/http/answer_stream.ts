// A complete chat completion sent as a stream: what a plugin's answer (a semantic cache hit)
// becomes when the client asked for `stream: true`. Per choice, one chunk with the role, the
// whole content and any tool calls, then one with its finish_reason; a usage chunk last when the
// client asked for it (`stream_options.include_usage`), as OpenAI sends it.
import type { ChatChunk, ChatCompletion } from "../openai/types.ts";

export function completionChunks(
  c: ChatCompletion,
  includeUsage: boolean,
): { chunks: AsyncGenerator<ChatChunk, void, undefined>; cancel(): Promise<void> } {
  const base = {
    id: c.id,
    object: "chat.completion.chunk" as const,
    created: c.created,
    model: c.model,
  };
  async function* chunks(): AsyncGenerator<ChatChunk, void, undefined> {
    for (const choice of c.choices) {
      const m = choice.message;
      yield {
        ...base,
        choices: [{
          index: choice.index,
          delta: {
            role: "assistant",
            content: m.content ?? null,
            ...(m.tool_calls?.length
              ? {
                tool_calls: m.tool_calls.map((t, i) => ({
                  index: i,
                  id: t.id,
                  type: "function" as const,
                  function: { name: t.function.name, arguments: t.function.arguments },
                })),
              }
              : {}),
          },
          finish_reason: null,
          logprobs: null,
        }],
      };
      yield {
        ...base,
        choices: [{
          index: choice.index,
          delta: {},
          finish_reason: choice.finish_reason,
          logprobs: null,
        }],
      };
    }
    if (includeUsage && c.usage) yield { ...base, choices: [], usage: c.usage };
  }
  return { chunks: chunks(), cancel: () => Promise.resolve() };
}
