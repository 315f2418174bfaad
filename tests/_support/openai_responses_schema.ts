// The parts of OpenAI's published OpenAPI spec that a Responses API answer must match, as JSON
// Schema for ajv. Source: github.com/openai/openai-openapi, openapi.yaml (info.version 2.3.0, commit
// f85dbe2 of 2026-08-21). No npm package ships the spec (the `openai` SDK carries only TypeScript
// types generated from it), so the components are written out here, with the spec's required
// fields, types and enums: Response (ModelResponseProperties + ResponseProperties + its own
// part), OutputItem, OutputMessage, OutputTextContent, RefusalContent, Annotation, LogProb,
// FunctionToolCall, ReasoningItem, FunctionTool, ToolChoiceParam, ResponseTextParam, Reasoning,
// ResponseUsage, ResponseError, the stream events the gateway sends (ResponseStreamEvent's
// members), ResponseItemList with its ItemResource members, and the deleted object.
//
// Unions the spec discriminates by `type` (OutputItem, ItemResource, Tool, ResponseStreamEvent)
// are written as "type is one of the spec's members; the members the gateway produces are checked
// in full" (`byType`), so an item of a kind the fixture does not spell out (a native upstream's
// web_search_call …) passes on its type alone, and an unknown type fails. Extra properties are
// allowed, as the spec allows them.
// The DELETE /responses/{id} answer has no schema in the spec, only an example
// ({"id", "object": "response", "deleted": true}); DeletedResponse follows that example.

type Schema = Record<string, unknown>;

const nullable = (schema: Schema): Schema => ({ anyOf: [schema, { type: "null" }] });
const str = { type: "string" };
const int = { type: "integer" };
const num = { type: "number" };
const bool = { type: "boolean" };
const constant = (value: string): Schema => ({ type: "string", enum: [value] });
const object = (required: string[], properties: Schema): Schema => ({
  type: "object",
  required,
  properties,
});

/** A union discriminated by `type`: `type` is one of `all`; the members in `checked` in full. */
function byType(all: readonly string[], checked: Record<string, Schema>): Schema {
  return {
    type: "object",
    required: ["type"],
    properties: { type: { type: "string", enum: [...all] } },
    allOf: Object.entries(checked).map(([type, schema]) => ({
      if: { properties: { type: { const: type } }, required: ["type"] },
      then: schema,
    })),
  };
}

const ITEM_STATUS = { type: "string", enum: ["in_progress", "completed", "incomplete"] };

// ---- Content of output messages

const TopLogProb = object(["token", "logprob", "bytes"], {
  token: str,
  logprob: num,
  bytes: { type: "array", items: int },
});

export const LogProb = object(["token", "logprob", "bytes", "top_logprobs"], {
  token: str,
  logprob: num,
  bytes: { type: "array", items: int },
  top_logprobs: { type: "array", items: TopLogProb },
});

/** The logprobs of the text delta/done events (a lighter shape than LogProb). */
const ResponseLogProb = object(["token", "logprob"], {
  token: str,
  logprob: num,
  top_logprobs: {
    type: "array",
    items: { type: "object", properties: { token: str, logprob: num } },
  },
});

const Annotation = {
  oneOf: [
    object(["type", "file_id", "index", "filename"], {
      type: constant("file_citation"),
      file_id: str,
      index: int,
      filename: str,
    }),
    // The spec requires `title` without listing it among the properties.
    object(["type", "url", "start_index", "end_index", "title"], {
      type: constant("url_citation"),
      url: str,
      start_index: int,
      end_index: int,
    }),
    object(["type", "container_id", "file_id", "start_index", "end_index", "filename"], {
      type: constant("container_file_citation"),
      container_id: str,
      file_id: str,
      start_index: int,
      end_index: int,
      filename: str,
    }),
    object(["type", "file_id", "index"], { type: constant("file_path"), file_id: str, index: int }),
  ],
};

export const OutputTextContent = object(["type", "text", "annotations", "logprobs"], {
  type: constant("output_text"),
  text: str,
  annotations: { type: "array", items: Annotation },
  logprobs: { type: "array", items: LogProb },
});

const RefusalContent = object(["type", "refusal"], { type: constant("refusal"), refusal: str });

const ReasoningTextContent = object(["type", "text"], {
  type: constant("reasoning_text"),
  text: str,
});

const OutputMessageContent = { oneOf: [OutputTextContent, RefusalContent] };
/** A content part of the content_part.added/done events. */
const OutputContent = { oneOf: [OutputTextContent, RefusalContent, ReasoningTextContent] };

// ---- Output items

export const OutputMessage = object(["id", "type", "role", "content", "status"], {
  id: str,
  type: constant("message"),
  role: constant("assistant"),
  content: { type: "array", items: OutputMessageContent },
  status: ITEM_STATUS,
});

export const FunctionToolCall = object(["type", "call_id", "name", "arguments"], {
  id: str,
  type: constant("function_call"),
  call_id: str,
  namespace: str,
  name: str,
  arguments: str,
  status: ITEM_STATUS,
});

const ReasoningItem = object(["id", "summary", "type"], {
  type: constant("reasoning"),
  id: str,
  encrypted_content: nullable(str),
  summary: {
    type: "array",
    items: object(["type", "text"], { type: constant("summary_text"), text: str }),
  },
  content: { type: "array", items: ReasoningTextContent },
  status: ITEM_STATUS,
});

const OUTPUT_ITEM_TYPES = [
  "message",
  "file_search_call",
  "function_call",
  "function_call_output",
  "web_search_call",
  "computer_call",
  "computer_call_output",
  "reasoning",
  "program",
  "program_output",
  "tool_search_call",
  "tool_search_output",
  "additional_tools",
  "compaction",
  "image_generation_call",
  "code_interpreter_call",
  "local_shell_call",
  "local_shell_call_output",
  "shell_call",
  "shell_call_output",
  "apply_patch_call",
  "apply_patch_call_output",
  "mcp_call",
  "mcp_list_tools",
  "mcp_approval_request",
  "mcp_approval_response",
  "custom_tool_call",
  "custom_tool_call_output",
] as const;

export const OutputItem = byType(OUTPUT_ITEM_TYPES, {
  message: OutputMessage,
  function_call: FunctionToolCall,
  reasoning: ReasoningItem,
});

// ---- Tools, tool choice, text and reasoning settings the Response echoes

const FunctionTool = object(["type", "name", "strict", "parameters"], {
  type: constant("function"),
  name: str,
  description: nullable(str),
  parameters: nullable({ type: "object" }),
  strict: nullable(bool),
});

const TOOL_TYPES = [
  "function",
  "file_search",
  "computer",
  "computer_use_preview",
  "web_search",
  "web_search_2025_08_26",
  "mcp",
  "code_interpreter",
  "programmatic_tool_calling",
  "image_generation",
  "local_shell",
  "shell",
  "custom",
  "namespace",
  "tool_search",
  "web_search_preview",
  "web_search_preview_2025_03_11",
  "apply_patch",
] as const;

const Tool = byType(TOOL_TYPES, { function: FunctionTool });

const ToolChoiceParam = {
  anyOf: [
    { type: "string", enum: ["none", "auto", "required"] }, // ToolChoiceOptions
    object(["type", "mode", "tools"], {
      type: constant("allowed_tools"),
      mode: { type: "string", enum: ["auto", "required"] },
      tools: { type: "array", items: { type: "object" } },
    }),
    object(["type", "name"], { type: constant("function"), name: str }),
    object(["type"], {
      type: {
        type: "string",
        enum: [
          "file_search",
          "web_search_preview",
          "computer",
          "computer_use_preview",
          "computer_use",
          "web_search_preview_2025_03_11",
          "image_generation",
          "code_interpreter",
          "mcp",
          "custom",
          "programmatic_tool_calling",
          "apply_patch",
          "shell",
        ],
      },
    }),
  ],
};

const ResponseTextParam = {
  type: "object",
  properties: {
    format: {
      oneOf: [
        object(["type"], { type: constant("text") }),
        object(["type", "schema", "name"], {
          type: constant("json_schema"),
          name: str,
          schema: { type: "object" },
          strict: nullable(bool),
        }),
        object(["type"], { type: constant("json_object") }),
      ],
    },
    verbosity: nullable({ type: "string", enum: ["low", "medium", "high"] }),
  },
};

const Reasoning = {
  type: "object",
  properties: {
    effort: nullable({
      type: "string",
      enum: ["none", "minimal", "low", "medium", "high", "xhigh", "max"],
    }),
    summary: nullable({ type: "string", enum: ["auto", "concise", "detailed"] }),
    generate_summary: nullable({ type: "string", enum: ["auto", "concise", "detailed"] }),
  },
};

// ---- Usage, error, the Response

export const ResponseUsage = object(
  [
    "input_tokens",
    "input_tokens_details",
    "output_tokens",
    "output_tokens_details",
    "total_tokens",
  ],
  {
    input_tokens: int,
    input_tokens_details: object(["cached_tokens", "cache_write_tokens"], {
      cached_tokens: int,
      cache_write_tokens: int,
    }),
    output_tokens: int,
    output_tokens_details: object(["reasoning_tokens"], { reasoning_tokens: int }),
    total_tokens: int,
  },
);

const RESPONSE_ERROR_CODES = [
  "server_error",
  "rate_limit_exceeded",
  "invalid_prompt",
  "data_residency_mismatch",
  "bio_policy",
  "vector_store_timeout",
  "invalid_image",
  "invalid_image_format",
  "invalid_base64_image",
  "invalid_image_url",
  "image_too_large",
  "image_too_small",
  "image_parse_error",
  "image_content_policy_violation",
  "invalid_image_mode",
  "image_file_too_large",
  "unsupported_image_media_type",
  "empty_image_file",
  "failed_to_download_image",
  "image_file_not_found",
];

export const ResponseError = nullable(object(["code", "message"], {
  code: { type: "string", enum: RESPONSE_ERROR_CODES },
  message: str,
}));

export const Response = object(
  [
    "id",
    "object",
    "created_at",
    "error",
    "incomplete_details",
    "instructions",
    "model",
    "tools",
    "output",
    "parallel_tool_calls",
    "metadata",
    "tool_choice",
    "temperature",
    "top_p",
  ],
  {
    // ModelResponseProperties
    metadata: nullable({ type: "object", additionalProperties: str }),
    top_logprobs: nullable({ type: "integer", minimum: 0, maximum: 20 }),
    temperature: nullable({ type: "number", minimum: 0, maximum: 2 }),
    top_p: nullable({ type: "number", minimum: 0, maximum: 1 }),
    user: str,
    safety_identifier: nullable({ type: "string", maxLength: 64 }),
    prompt_cache_key: nullable(str),
    // ResponseProperties
    previous_response_id: nullable(str),
    model: str,
    background: nullable(bool),
    max_tool_calls: nullable(int),
    text: ResponseTextParam,
    tools: { type: "array", items: Tool },
    tool_choice: ToolChoiceParam,
    // Response
    service_tier: nullable({ type: "string" }),
    truncation: nullable({ type: "string", enum: ["auto", "disabled"] }),
    id: str,
    object: constant("response"),
    status: {
      type: "string",
      enum: ["completed", "failed", "in_progress", "cancelled", "queued", "incomplete"],
    },
    created_at: num,
    completed_at: nullable(num),
    error: ResponseError,
    incomplete_details: nullable({
      type: "object",
      properties: { reason: { type: "string", enum: ["max_output_tokens", "content_filter"] } },
    }),
    output: { type: "array", items: OutputItem },
    reasoning: nullable(Reasoning),
    instructions: nullable({ oneOf: [str, { type: "array", items: { type: "object" } }] }),
    output_text: nullable(str),
    usage: ResponseUsage,
    parallel_tool_calls: bool,
    max_output_tokens: nullable(int),
  },
);

// ---- Stream events (the members of ResponseStreamEvent the gateway sends)

const seq = { sequence_number: int };
const withResponse = (type: string) =>
  object(["type", "response", "sequence_number"], {
    type: constant(type),
    response: Response,
    ...seq,
  });
const itemEvent = (type: string) =>
  object(["type", "output_index", "item", "sequence_number"], {
    type: constant(type),
    output_index: int,
    item: OutputItem,
    ...seq,
  });
const partEvent = (type: string) =>
  object(["type", "item_id", "output_index", "content_index", "part", "sequence_number"], {
    type: constant(type),
    item_id: str,
    output_index: int,
    content_index: int,
    part: OutputContent,
    ...seq,
  });

export const STREAM_EVENTS: Record<string, Schema> = {
  "response.created": withResponse("response.created"),
  "response.in_progress": withResponse("response.in_progress"),
  "response.completed": withResponse("response.completed"),
  "response.incomplete": withResponse("response.incomplete"),
  "response.failed": withResponse("response.failed"),
  "response.output_item.added": itemEvent("response.output_item.added"),
  "response.output_item.done": itemEvent("response.output_item.done"),
  "response.content_part.added": partEvent("response.content_part.added"),
  "response.content_part.done": partEvent("response.content_part.done"),
  "response.output_text.delta": object(
    ["type", "item_id", "output_index", "content_index", "delta", "sequence_number", "logprobs"],
    {
      type: constant("response.output_text.delta"),
      item_id: str,
      output_index: int,
      content_index: int,
      delta: str,
      logprobs: { type: "array", items: ResponseLogProb },
      ...seq,
    },
  ),
  "response.output_text.done": object(
    ["type", "item_id", "output_index", "content_index", "text", "sequence_number", "logprobs"],
    {
      type: constant("response.output_text.done"),
      item_id: str,
      output_index: int,
      content_index: int,
      text: str,
      logprobs: { type: "array", items: ResponseLogProb },
      ...seq,
    },
  ),
  "response.function_call_arguments.delta": object(
    ["type", "item_id", "output_index", "delta", "sequence_number"],
    {
      type: constant("response.function_call_arguments.delta"),
      item_id: str,
      output_index: int,
      delta: str,
      ...seq,
    },
  ),
  "response.function_call_arguments.done": object(
    ["type", "item_id", "name", "output_index", "arguments", "sequence_number"],
    {
      type: constant("response.function_call_arguments.done"),
      item_id: str,
      name: str,
      output_index: int,
      arguments: str,
      ...seq,
    },
  ),
  error: object(["type", "code", "message", "param", "sequence_number"], {
    type: constant("error"),
    code: nullable(str),
    message: str,
    param: nullable(str),
    ...seq,
  }),
};

const STREAM_EVENT_TYPES = [
  "response.audio.delta",
  "response.audio.done",
  "response.audio.transcript.delta",
  "response.audio.transcript.done",
  "response.code_interpreter_call_code.delta",
  "response.code_interpreter_call_code.done",
  "response.code_interpreter_call.completed",
  "response.code_interpreter_call.in_progress",
  "response.code_interpreter_call.interpreting",
  "response.completed",
  "response.content_part.added",
  "response.content_part.done",
  "response.created",
  "error",
  "response.file_search_call.completed",
  "response.file_search_call.in_progress",
  "response.file_search_call.searching",
  "response.function_call_arguments.delta",
  "response.function_call_arguments.done",
  "response.shell_call_command.added",
  "response.shell_call_command.delta",
  "response.shell_call_command.done",
  "response.shell_call_output_content.delta",
  "response.shell_call_output_content.done",
  "response.in_progress",
  "response.failed",
  "response.incomplete",
  "response.output_item.added",
  "response.output_item.done",
  "response.reasoning_summary_part.added",
  "response.reasoning_summary_part.done",
  "response.reasoning_summary_text.delta",
  "response.reasoning_summary_text.done",
  "response.reasoning_text.delta",
  "response.reasoning_text.done",
  "response.refusal.delta",
  "response.refusal.done",
  "response.output_text.delta",
  "response.output_text.done",
  "response.web_search_call.completed",
  "response.web_search_call.in_progress",
  "response.web_search_call.searching",
  "response.image_generation_call.completed",
  "response.image_generation_call.generating",
  "response.image_generation_call.in_progress",
  "response.image_generation_call.partial_image",
  "response.mcp_call_arguments.delta",
  "response.mcp_call_arguments.done",
  "response.mcp_call.completed",
  "response.mcp_call.failed",
  "response.mcp_call.in_progress",
  "response.mcp_list_tools.completed",
  "response.mcp_list_tools.failed",
  "response.mcp_list_tools.in_progress",
  "response.output_text.annotation.added",
  "response.queued",
  "response.custom_tool_call_input.delta",
  "response.custom_tool_call_input.done",
];

/** Any stream event: its type one of the spec's, the ones the gateway sends checked in full. */
export const ResponseStreamEvent = byType(STREAM_EVENT_TYPES, STREAM_EVENTS);

// ---- GET /responses/{id}/input_items and DELETE /responses/{id}

const InputContent = {
  oneOf: [
    object(["type", "text"], { type: constant("input_text"), text: str }),
    object(["type", "detail"], {
      type: constant("input_image"),
      image_url: nullable(str),
      file_id: nullable(str),
      detail: { type: "string" },
    }),
    object(["type"], { type: constant("input_file") }),
  ],
};

/** InputMessage with the id and type a stored item must carry. */
const InputMessageResource = object(["id", "type", "role", "content"], {
  id: str,
  type: constant("message"),
  role: { type: "string", enum: ["user", "system", "developer"] },
  status: ITEM_STATUS,
  content: { type: "array", items: InputContent },
});

const FunctionToolCallResource = {
  allOf: [FunctionToolCall, { type: "object", required: ["id", "status"] }],
};

const FunctionToolCallOutputResource = object(["type", "output", "id", "status"], {
  id: str,
  type: constant("function_call_output"),
  call_id: str,
  output: { oneOf: [str, { type: "array", items: { type: "object" } }] },
  status: ITEM_STATUS,
});

const ITEM_RESOURCE_TYPES = [
  "message",
  "file_search_call",
  "computer_call",
  "computer_call_output",
  "web_search_call",
  "function_call",
  "function_call_output",
  "tool_search_call",
  "tool_search_output",
  "additional_tools",
  "reasoning",
  "program",
  "program_output",
  "compaction",
  "image_generation_call",
  "code_interpreter_call",
  "local_shell_call",
  "local_shell_call_output",
  "shell_call",
  "shell_call_output",
  "apply_patch_call",
  "apply_patch_call_output",
  "mcp_list_tools",
  "mcp_approval_request",
  "mcp_approval_response",
  "mcp_call",
  "custom_tool_call",
  "custom_tool_call_output",
] as const;

/** ItemResource: a message is an InputMessageResource or (role assistant) an OutputMessage. */
export const ItemResource = byType(ITEM_RESOURCE_TYPES, {
  message: { oneOf: [InputMessageResource, OutputMessage] },
  function_call: FunctionToolCallResource,
  function_call_output: FunctionToolCallOutputResource,
  reasoning: ReasoningItem,
});

export const ResponseItemList = object(["object", "data", "has_more", "first_id", "last_id"], {
  object: constant("list"),
  data: { type: "array", items: ItemResource },
  has_more: bool,
  first_id: str,
  last_id: str,
});

export const DeletedResponse = object(["id", "object", "deleted"], {
  id: str,
  object: constant("response"),
  deleted: { const: true },
});
