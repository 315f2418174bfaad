// The Responses API request as the gateway accepts it: the zod schema of the body and of the
// input items it can translate. Objects are loose: keys the gateway does not use are accepted.
import { z } from "zod";
import { type GatewayError, invalidRequest } from "../../lib/errors.ts";

const nullish = <S extends z.ZodType>(s: S) => s.nullish();

export const inputText = z.looseObject({ type: z.literal("input_text"), text: z.string() });
export const outputText = z.looseObject({ type: z.literal("output_text"), text: z.string() });
export const refusal = z.looseObject({ type: z.literal("refusal"), refusal: z.string() });
export const inputImage = z.looseObject({
  type: z.literal("input_image"),
  image_url: nullish(z.string().min(1)),
  file_id: nullish(z.string()),
  detail: nullish(z.enum(["auto", "low", "high"])),
});
/** Content part types a message item may hold; any other is refused with a message naming it. */
export const PARTS = {
  input_text: inputText,
  output_text: outputText,
  refusal,
  input_image: inputImage,
} as const;

export const messageItem = z.looseObject({
  type: z.literal("message").optional(),
  id: nullish(z.string()),
  role: z.enum(["user", "assistant", "system", "developer"]),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]),
});
export const functionCallItem = z.looseObject({
  type: z.literal("function_call"),
  id: nullish(z.string()),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
});
export const functionCallOutputItem = z.looseObject({
  type: z.literal("function_call_output"),
  id: nullish(z.string()),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]),
});

export const functionTool = z.looseObject({
  type: z.literal("function"),
  name: z.string().min(1),
  description: nullish(z.string()),
  parameters: nullish(z.record(z.string(), z.unknown())),
  strict: nullish(z.boolean()),
});

export const textFormat = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("text") }),
  z.looseObject({ type: z.literal("json_object") }),
  z.looseObject({
    type: z.literal("json_schema"),
    name: z.string().min(1),
    schema: z.record(z.string(), z.unknown()),
    description: nullish(z.string()),
    strict: nullish(z.boolean()),
  }),
]);

export const ResponsesRequestSchema = z.looseObject({
  model: z.string().min(1, 'model is required, e.g. "openai/gpt-4o-mini"'),
  input: z.union([z.string(), z.array(z.looseObject({ type: z.string().optional() }))]),
  instructions: nullish(z.string()),
  previous_response_id: nullish(z.string().min(1)),
  tools: nullish(z.array(z.looseObject({ type: z.string() }))),
  tool_choice: nullish(z.union([
    z.enum(["auto", "none", "required"]),
    z.looseObject({ type: z.string() }),
  ])),
  parallel_tool_calls: nullish(z.boolean()),
  max_output_tokens: nullish(z.number().int().min(1)),
  temperature: nullish(z.number().min(0).max(2)),
  top_p: nullish(z.number().min(0).max(1)),
  reasoning: nullish(z.looseObject({
    effort: nullish(z.enum(["minimal", "low", "medium", "high"])),
  })),
  text: nullish(z.looseObject({ format: textFormat.optional() })),
  metadata: nullish(z.record(z.string(), z.string())),
  store: nullish(z.boolean()),
  stream: nullish(z.boolean()),
  user: nullish(z.string()),
  /** Gateway extension: more "provider/model" candidates, tried in order. */
  fallbacks: z.array(z.string().min(1)).max(10).optional(),
  /** Gateway extension: MCP tools, {"servers", "execute"?, "maxSteps"?}; checked in mcp_chat.ts. */
  mcp: z.unknown().optional(),
});
export type ResponsesRequest = z.infer<typeof ResponsesRequestSchema>;

/** A refusal of the field at `param` (e.g. "input[1].content[0].type"; "" = the body). */
export const fail = (param: string, message: string): GatewayError =>
  invalidRequest(`${param || "body"}: ${message}`, param);
