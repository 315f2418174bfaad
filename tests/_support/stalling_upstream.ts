// An OpenAI-format upstream for client-abort tests: it streams the first content, then stalls
// until the gateway hangs up on it.
const enc = new TextEncoder();

const chunk = (delta: Record<string, unknown>) =>
  enc.encode(
    `data: ${
      JSON.stringify({
        id: "chatcmpl-stall",
        object: "chat.completion.chunk",
        created: 1,
        model: "m",
        choices: [{ index: 0, delta, finish_reason: null }],
      })
    }\n\n`,
  );

/** Sends a role chunk and "first words", then nothing until the connection goes away. */
export function stallingUpstream() {
  const gone = Promise.withResolvers<void>();
  let hungUp = false;
  const closers = new Set<() => void>();
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, () => {
    let sent = 0;
    let close = () => {};
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        close = () => {
          try {
            c.close();
          } catch { /* already cancelled */ }
        };
        closers.add(close);
      },
      pull(c) {
        if (sent++ === 0) {
          c.enqueue(chunk({ role: "assistant", content: "" }));
          c.enqueue(chunk({ content: "first words" }));
          return;
        }
        return new Promise<void>(() => {}); // stall
      },
      cancel() {
        closers.delete(close);
        hungUp = true;
        gone.resolve();
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    /** Resolves when the gateway closed the upstream stream. */
    gone: gone.promise,
    /** Whether the gateway has closed the upstream stream yet. */
    hungUp: () => hungUp,
    async close() {
      for (const c of closers) c();
      await server.shutdown();
    },
  };
}

/** Reads a streamed answer until `text` has arrived; fails if the stream ends first. */
export async function readUntil(
  reader: ReadableStreamDefaultReader<string>,
  text: string,
): Promise<string> {
  let seen = "";
  while (!seen.includes(text)) {
    const r = await reader.read();
    if (r.done) throw new Error(`stream ended before ${JSON.stringify(text)}`);
    seen += r.value;
  }
  return seen;
}
