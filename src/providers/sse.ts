// Server-Sent Events: an incremental parser for upstream streams and an encoder for our own.
// Follows the WHATWG "event stream interpretation" rules, with one deliberate difference: an
// event still pending when the body ends is flushed, not dropped. Several OpenAI-compatible
// servers end with `data: [DONE]` and no blank line; dropping it would turn a complete answer
// into a truncated stream.
import { smallReader } from "../lib/small_reads.ts";

export interface SseEvent {
  /** The `event:` field; absent for the default "message" type. */
  event?: string;
  /** Every `data:` line of the event, joined with "\n". */
  data: string;
  /** The last event id seen on this stream (it persists across events, as the spec says). */
  id?: string;
}

/** Turns decoded text into events, one line at a time. Keeps only the unfinished line. */
class SseLineParser {
  #rest = "";
  #skipLF = false; // a chunk ended in "\r": a "\n" opening the next chunk belongs to it
  // The event's data lines joined with "\n" (undefined: no data line yet); most events have one.
  #data: string | undefined;
  #event: string | undefined;
  #id: string | undefined;

  push(text: string, out: SseEvent[]): void {
    if (this.#skipLF && text.length > 0) {
      this.#skipLF = false;
      if (text.charCodeAt(0) === 10) text = text.slice(1);
    }
    const buf = this.#rest + text;
    let start = 0;
    // The kept remainder holds no line break, so scanning can begin where the new text does.
    for (let i = this.#rest.length; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.#line(buf.slice(start, i), out);
      if (c === 13) {
        if (i + 1 === buf.length) this.#skipLF = true;
        else if (buf.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.#rest = buf.slice(start);
  }

  end(out: SseEvent[]): void {
    if (this.#rest !== "") this.#line(this.#rest, out);
    this.#rest = "";
    this.#line("", out);
  }

  #line(line: string, out: SseEvent[]): void {
    if (line === "") return this.#dispatch(out);
    if (line.charCodeAt(0) === 58) return; // ":" starts a comment (keep-alives)
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === "data") this.#data = this.#data === undefined ? value : `${this.#data}\n${value}`;
    else if (field === "event") this.#event = value;
    else if (field === "id" && !value.includes("\0")) this.#id = value;
    // "retry" and unknown fields are ignored: we never reconnect to an upstream.
  }

  #dispatch(out: SseEvent[]): void {
    if (this.#data !== undefined) {
      const event: SseEvent = { data: this.#data };
      if (this.#event) event.event = this.#event;
      if (this.#id !== undefined) event.id = this.#id;
      out.push(event);
    }
    this.#data = undefined;
    this.#event = undefined;
  }
}

/**
 * Parses an SSE body incrementally. Stops (cancelling the body) when the consumer stops early or
 * `signal` aborts; in the latter case it throws the signal's reason.
 */
export async function* parseSse(
  body: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): AsyncGenerator<SseEvent> {
  // Small reads into one reused buffer (../lib/small_reads.ts): each chunk is decoded at once.
  const reader = smallReader(body);
  const onAbort = () => reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  const decoder = new TextDecoder(); // strips a leading BOM; buffers split multibyte characters
  const parser = new SseLineParser();
  let done = false;
  try {
    signal?.throwIfAborted();
    while (!done) {
      const read = await reader.read();
      signal?.throwIfAborted();
      const out: SseEvent[] = [];
      if (read.done) {
        parser.push(decoder.decode(), out);
        parser.end(out);
        done = true;
      } else {
        parser.push(decoder.decode(read.value, STREAM), out);
      }
      // A plain loop: `yield*` over an array from an async generator wraps it in an async
      // iterator, a few more promises for every event.
      for (const e of out) yield e;
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    if (!done) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

const STREAM: TextDecodeOptions = { stream: true };

const LINE_BREAK = /[\r\n]/;

/** One SSE event as text. Line breaks inside `data` become separate `data:` lines. */
export function encodeSse(data: string, event?: string): string {
  const head = event === undefined ? "" : `event: ${event}\n`;
  // The common case (JSON text never holds a raw line break) without splitting.
  if (!LINE_BREAK.test(data)) return `${head}data: ${data}\n\n`;
  return `${head}${data.split(/\r\n|\r|\n/).map((l) => `data: ${l}\n`).join("")}\n`;
}
