// What `deno task events` prints for one message, live or replayed: the readable line or the
// CloudEvent as one JSON line, after the --provider filter. Pure.
import type { CloudEvent } from "./envelope.ts";
import { concernsProvider } from "./filter.ts";
import { formatEventLine } from "./format.ts";

export interface RenderOptions {
  json: boolean;
  provider?: string;
}

export interface Received {
  subject: string;
  /** Payload size, for the unreadable-payload notice. */
  bytes: number;
  /** The decoded payload, or undefined when it was not JSON. */
  event?: CloudEvent;
}

/** The line to print, or undefined when the message is filtered out. */
export function renderEvent(msg: Received, opts: RenderOptions): string | undefined {
  const ce = msg.event;
  if (opts.provider !== undefined && !(ce && concernsProvider(ce, opts.provider))) return undefined;
  if (!ce) {
    return opts.json ? undefined : `${msg.subject}  (unreadable payload, ${msg.bytes} bytes)`;
  }
  // Re-serialised, so a payload that arrived pretty-printed still takes exactly one line.
  return opts.json ? JSON.stringify(ce) : formatEventLine(ce);
}
