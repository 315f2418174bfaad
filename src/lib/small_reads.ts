// Reading a long-lived body in small reads into one reused buffer. A default reader on a byte
// stream (every fetch() body in Deno) allocates a fresh 64 KiB buffer for each read and keeps it
// while the read waits; an upstream stream waits on a read nearly all its life, so 2,000 open
// streams held ~130 MB of mostly empty read buffers and each chunk cost a 64 KiB allocation for
// the collector. A BYOB read into one small buffer per body, reused for every read, holds and
// allocates only that. Bodies that are not byte streams are read as before.

/** Bytes per read: SSE events are far smaller; a larger one simply takes more reads. */
export const SMALL_READ_BYTES = 8 * 1024;

export interface SmallReader {
  /**
   * The next bytes, or done. The chunk is only valid until the next `read()` (its memory is
   * reused): decode or copy it first.
   */
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
  cancel(reason?: unknown): Promise<void>;
  releaseLock(): void;
}

/** A reader of `body` that reuses one `size`-byte buffer when the body allows it. */
export function smallReader(
  body: ReadableStream<Uint8Array>,
  size = SMALL_READ_BYTES,
): SmallReader {
  let byob: ReadableStreamBYOBReader;
  try {
    byob = body.getReader({ mode: "byob" });
  } catch {
    return body.getReader();
  }
  let buffer: ArrayBuffer = new ArrayBuffer(size);
  return {
    async read() {
      const r = await byob.read(new Uint8Array(buffer, 0, buffer.byteLength));
      if (r.value) buffer = r.value.buffer as ArrayBuffer; // the same memory, handed back
      return r.done
        ? { done: true, value: undefined }
        : { done: false, value: r.value as Uint8Array };
    },
    cancel: (reason) => byob.cancel(reason),
    releaseLock: () => byob.releaseLock(),
  };
}
