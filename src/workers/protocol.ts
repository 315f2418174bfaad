// The messages between the main thread and its gateway workers, and the request/answer pairing
// both sides use. Everything crosses as structured clones over the Worker's own message port.
//
// What crosses is kept to what must be shared: each worker's events go to the main thread once
// (one batch per turn of the event loop); the main thread keeps the one ordered log and sends a
// worker log entries only on demand (a call for the recent ones, `feed` while it follows the
// log for a connected /v1/gateway/events client), and sends the others only the provider state
// events they fold (`state`, without NATS), never back to the worker that decided them.
import type { GatewayEvent } from "../events/catalogue.ts";

/** One event in the main thread's order, with the id and the instance every worker shows. */
export interface FeedItem {
  event: GatewayEvent;
  id: string;
  instance: string;
}

export type ToMain =
  | { t: "ready"; index: number; port: number; lines: string[] }
  | { t: "failed"; index: number; error: string }
  | { t: "events"; instance: string; batch: GatewayEvent[] }
  | { t: "call"; id: number; op: string; args: unknown[] }
  | { t: "answer"; id: number; ok: boolean; value?: unknown; error?: string }
  | { t: "drained"; index: number };

export type ToWorker =
  | {
    t: "init";
    index: number;
    count: number;
    /** The process's instance id; the worker's is this plus `-w<index>`. */
    instance: string;
    port: number;
    nats: boolean;
  }
  /** Log entries, in order, while the worker follows the log ("events.follow"). */
  | { t: "feed"; batch: FeedItem[] }
  /** Other workers' provider state events, to fold as a replica does (no NATS only). */
  | { t: "state"; batch: GatewayEvent[] }
  | { t: "call"; id: number; op: string; args: unknown[] }
  | { t: "answer"; id: number; ok: boolean; value?: unknown; error?: string }
  | { t: "watch"; wid: number; key: string; entry: unknown }
  | { t: "drain"; graceMs?: number };

type Answer = { t: "answer"; id: number; ok: boolean; value?: unknown; error?: string };

/** Calls across the port: `call` posts, `settle` takes the answer when it arrives. */
export interface Caller {
  call(op: string, ...args: unknown[]): Promise<unknown>;
  settle(answer: Answer): void;
  /** Rejects everything still waiting (the other side went away). */
  failAll(reason: string): void;
}

export function createCaller(
  post: (m: { t: "call"; id: number; op: string; args: unknown[] }) => void,
): Caller {
  let next = 1;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  return {
    call(op, ...args) {
      const id = next++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        post({ t: "call", id, op, args });
      });
    },
    settle(a) {
      const w = waiting.get(a.id);
      if (!w) return;
      waiting.delete(a.id);
      if (a.ok) w.resolve(a.value);
      else w.reject(new Error(a.error ?? "failed"));
    },
    failAll(reason) {
      for (const w of waiting.values()) w.reject(new Error(reason));
      waiting.clear();
    },
  };
}

/** Runs a call from the other side and posts its answer. */
export async function answer(
  post: (a: Answer) => void,
  id: number,
  run: () => unknown,
): Promise<void> {
  try {
    post({ t: "answer", id, ok: true, value: await run() });
  } catch (e) {
    post({ t: "answer", id, ok: false, error: e instanceof Error ? e.message : String(e) });
  }
}
