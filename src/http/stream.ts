// Streamed answers: the pull-based relay every route's stream runs on (OpenAI and Anthropic SSE,
// Gemini SSE or JSON array, Bedrock event-stream frames), SSE framing, and what a stream that
// fails after its first content ends with.
import type { ChatChunk } from "../openai/types.ts";
import { StreamFailure } from "../providers/execute.ts";
import { encodeSse } from "../providers/mod.ts";
import type { ChatOutcome } from "./call.ts";

/** A committed stream: the first content is in, so there is no falling over any more. */
export type CommittedStream = Extract<ChatOutcome, { kind: "stream" }>;

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
};

const encoder = new TextEncoder();

/** One SSE event as bytes: `data` as it is when a string (e.g. "[DONE]"), else as JSON. */
export const sseFrame = (data: unknown, event?: string) =>
  encoder.encode(
    encodeSse(typeof data === "string" ? data : JSON.stringify(data), event || undefined),
  );

/** How a route frames a committed stream in its wire format. */
export interface StreamFraming {
  /** Frames for one chunk; none means the relay reads on before it answers the pull. */
  push(chunk: ChatChunk): Uint8Array[];
  /** The closing frames once the upstream is done (async when the route keeps state first). */
  end(): Uint8Array[] | Promise<Uint8Array[]>;
  /** The closing frames after a failure (a StreamFailure from the upstream, or the route's own). */
  failed(error: unknown): Uint8Array[] | Promise<Uint8Array[]>;
}

/**
 * Pull-based (not Hono's streamSSE) so a slow client applies backpressure to the upstream and a
 * client that goes away cancels the upstream at once. Each pull answers with the frames of the
 * next chunk that makes any; a failure ends the stream with the route's failure frames.
 */
export function relayStream(
  out: CommittedStream,
  framing: StreamFraming,
): ReadableStream<Uint8Array> {
  const finish = () => out.finished?.();
  return new ReadableStream<Uint8Array>({
    async pull(ctl) {
      try {
        while (true) {
          const n = await out.chunks.next();
          if (n.done) {
            for (const f of await framing.end()) ctl.enqueue(f);
            ctl.close();
            finish();
            return;
          }
          const frames = framing.push(n.value);
          for (const f of frames) ctl.enqueue(f);
          if (frames.length > 0) return;
        }
      } catch (e) {
        for (const f of await framing.failed(e)) ctl.enqueue(f);
        ctl.close();
        finish();
      }
    },
    cancel: async () => {
      try {
        await out.cancel();
      } finally {
        finish();
      }
    },
  }, { highWaterMark: 0 });
}

/** What ended a committed stream: the upstream's classified failure, else an unknown one. */
export function streamFailureOf(e: unknown): { kind: string; message: string; status?: number } {
  return e instanceof StreamFailure ? e.failure : { kind: "unknown", message: String(e) };
}

/** The message a stream that failed after its first content ends with. */
export const midStreamMessage = (provider: string, message: string) =>
  `${provider} failed mid-stream: ${message}`;
