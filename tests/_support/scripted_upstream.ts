// An upstream that answers every request with a scripted body: raw SSE text and pauses, then an
// ending (a clean close, a cut connection, or a hang until the client goes away). For the stream
// edge cases the fault mock does not cover: stalls mid-stream, malformed events between good
// ones, a finish_reason with no [DONE] after it, headers that never come.
const enc = new TextEncoder();

/** Ends a body on purpose (a cut, or the server closing); kept out of the log by onError. */
class ScriptedCut extends Error {}

export type Step = string | { waitMs: number };

export interface Script {
  /** Wait this long before sending the status line and headers. */
  headersAfterMs?: number;
  status?: number;
  contentType?: string;
  steps: Step[];
  /** After the steps: "close" (default) ends the body; "cut" breaks the connection; "hang" sends nothing more. */
  end?: "close" | "cut" | "hang";
}

/** One SSE event carrying `value` as JSON (or as-is when it is a string). */
export const sse = (value: unknown) =>
  `data: ${typeof value === "string" ? value : JSON.stringify(value)}\n\n`;

/** An OpenAI chat.completion.chunk event. */
export function chunk(
  delta: Record<string, unknown>,
  finish: string | null = null,
  extra: Record<string, unknown> = {},
): string {
  return sse({
    id: "chatcmpl-scripted",
    object: "chat.completion.chunk",
    created: 1,
    model: "m",
    choices: [{ index: 0, delta, finish_reason: finish }],
    ...extra,
  });
}

/** OpenAI's usage-only chunk (sent after the finish chunk with stream_options.include_usage). */
export const usageChunk = (prompt: number, completion: number) =>
  sse({
    id: "chatcmpl-scripted",
    object: "chat.completion.chunk",
    created: 1,
    model: "m",
    choices: [],
    usage: {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
    },
  });

export function scriptedUpstream(script: Script) {
  const closing = new AbortController();
  let hits = 0;
  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      if (closing.signal.aborted) return resolve();
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        closing.signal.removeEventListener("abort", done);
        resolve();
      }
      closing.signal.addEventListener("abort", done, { once: true });
    });
  const server = Deno.serve({
    port: 0,
    hostname: "127.0.0.1",
    onListen() {},
    onError(error) {
      // deno-lint-ignore no-console
      if (!(error instanceof ScriptedCut)) console.error("scripted upstream:", error);
      return new Response("scripted upstream crashed", { status: 500 });
    },
  }, async () => {
    hits++;
    if (script.headersAfterMs) await wait(script.headersAfterMs);
    let i = 0;
    let stop = () => {};
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        stop = () => {
          try {
            c.error(new ScriptedCut("scripted upstream closed"));
          } catch { /* already done */ }
        };
        closing.signal.addEventListener("abort", stop, { once: true });
      },
      async pull(c) {
        while (i < script.steps.length) {
          const step = script.steps[i++];
          if (typeof step === "string") return c.enqueue(enc.encode(step));
          await wait(step.waitMs);
        }
        const end = script.end ?? "close";
        if (end === "close") {
          closing.signal.removeEventListener("abort", stop);
          return c.close();
        }
        if (end === "cut") {
          await wait(20); // let the last bytes reach the socket first
          return c.error(new ScriptedCut("scripted upstream: connection cut"));
        }
        await new Promise<void>((resolve) =>
          closing.signal.addEventListener("abort", () => resolve(), { once: true })
        );
      },
      cancel() {
        closing.signal.removeEventListener("abort", stop);
      },
    });
    return new Response(body, {
      status: script.status ?? 200,
      headers: { "content-type": script.contentType ?? "text/event-stream" },
    });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    hits: () => hits,
    async close() {
      closing.abort();
      await server.shutdown();
    },
    async [Symbol.asyncDispose]() {
      await this.close();
    },
  };
}
