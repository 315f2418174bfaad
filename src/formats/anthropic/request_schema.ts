// The Anthropic Messages request as the gateway accepts it: the zod schema of the body and its
// content blocks, and the failure a request that cannot be translated reports.
import { z } from "zod";
import { type GatewayError, invalidRequest, type Result } from "../../lib/errors.ts";

// ---------------------------------------------------------------------------------------------
// Request: validation

export const text = z.looseObject({ type: z.literal("text"), text: z.string() });
export const image = z.looseObject({
  type: z.literal("image"),
  source: z.discriminatedUnion("type", [
    z.looseObject({ type: z.literal("base64"), media_type: z.string().min(1), data: z.string() }),
    z.looseObject({ type: z.literal("url"), url: z.string().min(1) }),
    z.looseObject({ type: z.literal("file"), file_id: z.string() }),
  ]),
});
const toolUse = z.looseObject({
  type: z.literal("tool_use"),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.unknown(),
});
const toolResult = z.looseObject({
  type: z.literal("tool_result"),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]).optional(),
  is_error: z.boolean().optional(),
});
/** Block types the gateway understands; any other is refused with a message naming it. */
export const BLOCKS = {
  text,
  image,
  tool_use: toolUse,
  tool_result: toolResult,
  // Extended-thinking history: no OpenAI equivalent, dropped on the way in.
  thinking: z.looseObject({ type: z.literal("thinking") }),
  redacted_thinking: z.looseObject({ type: z.literal("redacted_thinking") }),
} as const;
export type Block =
  | z.infer<typeof text>
  | z.infer<typeof image>
  | z.infer<typeof toolUse>
  | z.infer<typeof toolResult>
  | { type: "thinking" | "redacted_thinking" };

const anyBlock = z.looseObject({ type: z.string() });
export const customTool = z.looseObject({
  type: z.literal("custom").nullish(),
  name: z.string().min(1),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()),
});
const parallel = { disable_parallel_tool_use: z.boolean().optional() };

export const AnthropicRequestSchema = z.looseObject({
  model: z.string().min(1, 'model is required, e.g. "anthropic/claude-3-5-haiku-latest"'),
  max_tokens: z.number().int().min(1),
  messages: z.array(z.looseObject({
    role: z.enum(["user", "assistant", "system"]),
    content: z.union([z.string(), z.array(anyBlock)]),
  })).min(1, "messages must hold at least one message"),
  system: z.union([z.string(), z.array(text)]).optional(),
  stop_sequences: z.array(z.string()).optional(),
  stream: z.boolean().optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  metadata: z.looseObject({ user_id: z.string().nullish() }).optional(),
  tools: z.array(z.looseObject({ type: z.string().nullish() })).optional(),
  tool_choice: z.discriminatedUnion("type", [
    z.looseObject({ type: z.literal("auto"), ...parallel }),
    z.looseObject({ type: z.literal("any"), ...parallel }),
    z.looseObject({ type: z.literal("none") }),
    z.looseObject({ type: z.literal("tool"), name: z.string().min(1), ...parallel }),
  ]).optional(),
  output_config: z.looseObject({
    format: z.looseObject({
      type: z.literal("json_schema"),
      schema: z.record(z.string(), z.unknown()),
    }).nullish(),
  }).optional(),
  /** Gateway extension: more "provider/model" candidates, tried in order. */
  fallbacks: z.array(z.string().min(1)).max(10).optional(),
});
export type AnthropicRequest = z.infer<typeof AnthropicRequestSchema>;

/** A translation, or a 400 `invalid_request` naming the offending field. */
export type { Result };

/** A refusal of the field at `param` (e.g. "messages[1].content[0].source.type"; "" = the body). */
export const fail = (param: string, message: string): GatewayError =>
  invalidRequest(`${param || "body"}: ${message}`, param);
