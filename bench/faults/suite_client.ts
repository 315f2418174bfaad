// The scenario suite's client: one request as a user sends it, and everything the user could
// notice about the answer. JSON goes through the real openai SDK (no SDK retries, so what we see
// is the gateway's doing); streams go through fetch, because the SDK hides the SSE framing the
// suite must check (exactly one `[DONE]`, no `event: error`).
import OpenAI from "openai";
import { type Frame, isOpenAiError, parseSse } from "./wire.ts";

/** One model the suite names: provider/model at the gateway, and the mock target behind it. */
export interface Ref {
  provider: string;
  model: string;
  target: string;
}

export const refName = (r: Ref) => `${r.provider}/${r.model}`;

export interface OpenAiError {
  message: string;
  type: string;
  code: string | null;
  param: string | null;
}

// deno-lint-ignore no-explicit-any
type Json = any;

/** What came back, as the client saw it. */
export interface Answer {
  id: string;
  stream: boolean;
  /** HTTP status; 0 when none arrived (see `transport`). */
  status: number;
  /** Why no answer arrived: a timeout or a connection error. */
  transport?: string;
  latencyMs: number;
  /** x-gateway-provider / x-gateway-model / x-gateway-fallback-index. */
  provider?: string;
  model?: string;
  fallbackIndex?: number;
  headers?: Headers;
  /** The answer text: the message content, or every streamed delta joined. */
  text?: string;
  /** A JSON answer's body (the completion, or `{error}`). */
  body?: Json;
  /** The error of a non-2xx answer or of an SSE `error` event, when it has OpenAI's shape. */
  error?: OpenAiError;
  /** A non-2xx body or an SSE error event that does not have OpenAI's shape. */
  unshaped?: string;
  sse?: {
    frames: Frame[];
    /** The parsed chunk objects (frames that are neither [DONE] nor an error event). */
    chunks: Json[];
    done: number;
    errorEvents: number;
    /** Frames whose data is not JSON. */
    garbage: number;
  };
}

export interface Ask {
  gatewayUrl: string;
  id: string;
  model: string;
  fallbacks: string[];
  timeoutMs: number;
  /** Extra body fields (stream_options …). */
  extra?: Record<string, unknown>;
}

const MESSAGES = [{ role: "user" as const, content: "Say hello" }];

function fromHeaders(h: Headers | undefined): Pick<Answer, "provider" | "model" | "fallbackIndex"> {
  const index = h?.get("x-gateway-fallback-index");
  return {
    provider: h?.get("x-gateway-provider") ?? undefined,
    model: h?.get("x-gateway-model") ?? undefined,
    fallbackIndex: index === null || index === undefined ? undefined : Number(index),
  };
}

/** A JSON chat request through the openai SDK. */
export async function askJson(a: Ask): Promise<Answer> {
  const client = new OpenAI({
    apiKey: "sk-suite",
    baseURL: `${a.gatewayUrl}/v1`,
    maxRetries: 0,
    timeout: a.timeoutMs,
  });
  const t0 = performance.now();
  const base = { id: a.id, stream: false };
  const latency = () => performance.now() - t0;
  try {
    // `fallbacks` is the gateway's own field: the SDK sends unknown fields as they are.
    const params = {
      model: a.model,
      fallbacks: a.fallbacks,
      messages: MESSAGES,
      max_tokens: 64,
      ...a.extra,
    } as OpenAI.ChatCompletionCreateParamsNonStreaming;
    const { data, response } = await client.chat.completions
      .create(params, { headers: { "x-request-id": a.id } })
      .withResponse();
    return {
      ...base,
      status: response.status,
      latencyMs: latency(),
      ...fromHeaders(response.headers),
      headers: response.headers,
      body: data,
      text: data.choices?.[0]?.message?.content ?? undefined,
    };
  } catch (e) {
    if (e instanceof OpenAI.APIConnectionTimeoutError) {
      return {
        ...base,
        status: 0,
        latencyMs: latency(),
        transport: `no answer within ${a.timeoutMs} ms`,
      };
    }
    if (e instanceof OpenAI.APIConnectionError) {
      return {
        ...base,
        status: 0,
        latencyMs: latency(),
        transport: `connection error: ${e.cause ?? e.message}`,
      };
    }
    if (e instanceof OpenAI.APIError && e.status) {
      const body = { error: e.error };
      return {
        ...base,
        status: e.status,
        latencyMs: latency(),
        ...fromHeaders(e.headers),
        headers: e.headers,
        body,
        ...(isOpenAiError(body)
          ? { error: e.error as OpenAiError }
          : { unshaped: String(e.message).slice(0, 300) }),
      };
    }
    throw e;
  }
}

/** A streaming chat request through fetch, read to its end (or until the timeout). */
export async function askStream(a: Ask): Promise<Answer> {
  const t0 = performance.now();
  const base = { id: a.id, stream: true };
  const latency = () => performance.now() - t0;
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), a.timeoutMs);
  let text = "";
  try {
    const res = await fetch(`${a.gatewayUrl}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": a.id },
      body: JSON.stringify({
        model: a.model,
        fallbacks: a.fallbacks,
        messages: MESSAGES,
        max_tokens: 64,
        stream: true,
        ...a.extra,
      }),
      signal: ctl.signal,
    });
    const seen = { status: res.status, headers: res.headers, ...fromHeaders(res.headers) };
    if (!(res.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
      const raw = await res.text();
      let body: Json;
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
      return {
        ...base,
        ...seen,
        latencyMs: latency(),
        body,
        ...(isOpenAiError(body) ? { error: body.error } : { unshaped: raw.slice(0, 300) }),
      };
    }
    for await (const piece of res.body!.pipeThrough(new TextDecoderStream())) text += piece;
    return { ...base, ...seen, latencyMs: latency(), ...readSse(text) };
  } catch (e) {
    const transport = ctl.signal.aborted
      ? `no complete answer within ${a.timeoutMs} ms`
      : `connection error: ${e}`;
    return { ...base, status: 0, latencyMs: latency(), transport, ...readSse(text) };
  } finally {
    clearTimeout(timer);
  }
}

/** The text, chunks and framing of an SSE body. */
function readSse(body: string): Pick<Answer, "text" | "sse" | "error" | "unshaped"> {
  const frames = parseSse(body);
  const chunks: Json[] = [];
  let done = 0, errorEvents = 0, garbage = 0;
  let error: OpenAiError | undefined, unshaped: string | undefined;
  for (const f of frames) {
    if (f.data === "[DONE]") {
      done++;
      continue;
    }
    let data: Json;
    try {
      data = JSON.parse(f.data);
    } catch {
      garbage++;
      continue;
    }
    if (f.event === "error") {
      errorEvents++;
      if (isOpenAiError(data)) error = data.error;
      else unshaped = f.data.slice(0, 300);
      continue;
    }
    chunks.push(data);
  }
  const text = chunks.map((c) => c.choices?.[0]?.delta?.content ?? "").join("");
  return { text, sse: { frames, chunks, done, errorEvents, garbage }, error, unshaped };
}
