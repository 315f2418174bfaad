// POST /v1/chat/completions: OpenAI's chat wire format, which is also the canonical one. Streams
// are OpenAI SSE; a mid-stream failure ends with an OpenAI-shaped `event: error` and no [DONE].
import { parseFallbacksHeader } from "../../http/call.ts";
import { errorBody } from "../../http/errors.ts";
import { midStreamMessage, SSE_HEADERS, sseFrame, streamFailureOf } from "../../http/stream.ts";
import type { ChatChunk } from "../../openai/types.ts";
import { validateChatRequest } from "../../openai/validate.ts";
import { NATIVE_RESPONSES } from "../../providers/openai/responses_api.ts";
import { sourceOf } from "../../providers/upstream_json.ts";
import { jsonResponse, jsonTextResponse, withExtra } from "../json_response.ts";
import type { WireFormat } from "../wire_format.ts";
import { openaiError } from "./errors.ts";

export const openaiChat: WireFormat<undefined> = {
  name: "openai",
  target: () => ({ ok: true, value: undefined }),
  decode(json, { headers }) {
    const parsed = validateChatRequest(json);
    // The Responses route's own field: a chat client cannot ask for the passthrough with it.
    if (parsed.ok) delete parsed.value[NATIVE_RESPONSES];
    if (parsed.ok && !parsed.value.fallbacks) {
      const fromHeader = parseFallbacksHeader(headers.get("x-gateway-fallbacks"));
      if (fromHeader.length) parsed.value.fallbacks = fromHeader;
    }
    return parsed;
  },
  encode(out) {
    // An upstream answer nothing changed goes out as its own text, with extra_fields spliced in.
    const source = sourceOf(out.completion);
    const text = source && withExtra(source, out.completion, "extra_fields", out.extra);
    return text
      ? jsonTextResponse(text, out.headers)
      : jsonResponse({ ...out.completion, extra_fields: out.extra }, out.headers);
  },
  /** OpenAI SSE; the trailing usage chunk (no choices) only when the client asked for it. */
  stream(out, { request }) {
    const wantUsage = request.stream_options?.include_usage === true;
    const keep = (c: ChatChunk) => wantUsage || c.choices.length > 0;
    return {
      framing: {
        push: (chunk) => keep(chunk) ? [sseFrame(sourceOf(chunk) ?? chunk)] : [],
        end: () => [sseFrame("[DONE]")],
        failed: (e) => {
          const f = streamFailureOf(e);
          const message = midStreamMessage(out.provider, f.message);
          return [sseFrame(errorBody(message, f.kind, "upstream_stream_error"), "error")];
        },
      },
      headers: { ...SSE_HEADERS, ...out.headers },
    };
  },
  encodeError: openaiError,
};
