// How the mock puts an answer on the wire: one chunk per pull, optionally spaced out or held
// back, and then ended cleanly, broken off ("cut") or left open ("stall"). Every wait ends when
// the mock closes, so close() stays prompt whatever is in flight.
import type { Chunk } from "./formats/format.ts";

const encoder = new TextEncoder();

/** Ends our own streams on purpose; the server's onError keeps these out of the log. */
export class MockCut extends Error {}

/** Waits `ms` (Infinity: until aborted); resolves early, never rejects, when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
    signal.addEventListener("abort", done, { once: true });
  });
}

export interface ChunkTiming {
  /** Between consecutive chunks. */
  gapMs?: number;
  /** An extra wait before chunk `at` (e.g. the first content piece). */
  hold?: { at: number; ms: number };
}

/**
 * After the last chunk: "close" ends the body cleanly, "cut" breaks the connection, "stall"
 * sends nothing more and keeps it open until the client goes away or the mock closes.
 */
export type StreamEnd = "close" | "cut" | "stall";

export function chunkStream(
  chunks: Chunk[],
  end: StreamEnd,
  closing: AbortSignal,
  timing: ChunkTiming = {},
): ReadableStream<Uint8Array> {
  let i = 0;
  // The server waits for open bodies on shutdown; error them so close() stays prompt.
  let onClose = () => {};
  const gone = new AbortController();
  const release = () => closing.removeEventListener("abort", onClose);
  return new ReadableStream<Uint8Array>({
    start(controller) {
      onClose = () => controller.error(new MockCut("mock upstream closed"));
      closing.addEventListener("abort", onClose, { once: true });
    },
    async pull(controller) {
      if (i < chunks.length) {
        if (i > 0 && timing.gapMs) await sleep(timing.gapMs, closing);
        if (timing.hold?.at === i) {
          await sleep(timing.hold.ms, AbortSignal.any([closing, gone.signal]));
        }
        const chunk = chunks[i++];
        return controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
      }
      if (end === "stall") {
        // Never resolves on its own: the client cancelling or the mock closing ends it.
        return await sleep(Infinity, AbortSignal.any([closing, gone.signal]));
      }
      release();
      if (end === "close") return controller.close();
      // Give the last chunk time to reach the socket before the connection breaks.
      await sleep(20, closing);
      controller.error(new MockCut("mock upstream: connection cut"));
    },
    cancel() {
      gone.abort();
      release();
    },
  });
}

/** The first half of a reply's bytes: a JSON body broken off mid-way. */
export function firstHalf(chunks: Chunk[]): Uint8Array {
  const parts = chunks.map((c) => typeof c === "string" ? encoder.encode(c) : c);
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) all.set(p, (at += p.length) - p.length);
  return all.slice(0, Math.floor(all.length / 2));
}
