// A worker's end of the main thread (src/workers/hub.ts): calls out, answers in, the log entries
// it follows, the other workers' state events, and key-store watches. `post` is the worker's
// postMessage.
import type { GatewayEvent } from "../events/catalogue.ts";
import { answer, createCaller, type FeedItem, type ToMain, type ToWorker } from "./protocol.ts";

export interface WorkerLink {
  call(op: string, ...args: unknown[]): Promise<unknown>;
  /** Sends this worker's events to be put in the one order (batched by the caller). */
  sendEvents(instance: string, batch: GatewayEvent[]): void;
  /** Log entries (every worker's events, in order) while this worker follows the log. */
  onFeed(listener: (item: FeedItem) => void): () => void;
  /** The other workers' provider state events, as the main thread hands them over. */
  onState(listener: (event: GatewayEvent) => void): () => void;
  /** A new watch id; `onWatch` is called with every change the main thread reports for it. */
  watch(onWatch: (key: string, entry: unknown) => void): { wid: number; stop(): void };
  /** What the main thread may ask this worker (e.g. "metrics.json"). */
  serve(op: string, run: (...args: unknown[]) => unknown): void;
  /** Hands a message from the main thread over; false when it is not the link's. */
  receive(message: ToWorker): boolean;
}

export function createWorkerLink(post: (m: ToMain) => void): WorkerLink {
  const caller = createCaller(post);
  const feed = new Set<(item: FeedItem) => void>();
  const state = new Set<(event: GatewayEvent) => void>();
  const watchers = new Map<number, (key: string, entry: unknown) => void>();
  const served = new Map<string, (...args: unknown[]) => unknown>();
  let nextWatch = 1;
  return {
    call: caller.call,
    sendEvents(instance, batch) {
      post({ t: "events", instance, batch });
    },
    onFeed(listener) {
      const entry = (item: FeedItem) => listener(item);
      feed.add(entry);
      return () => void feed.delete(entry);
    },
    onState(listener) {
      const entry = (event: GatewayEvent) => listener(event);
      state.add(entry);
      return () => void state.delete(entry);
    },
    watch(onWatch) {
      const wid = nextWatch++;
      watchers.set(wid, onWatch);
      return { wid, stop: () => void watchers.delete(wid) };
    },
    serve(op, run) {
      served.set(op, run);
    },
    receive(m) {
      switch (m.t) {
        case "answer":
          caller.settle(m);
          return true;
        case "feed":
          for (const item of m.batch) {
            for (const listener of feed) listener(item);
          }
          return true;
        case "state":
          for (const event of m.batch) {
            for (const listener of state) listener(event);
          }
          return true;
        case "watch":
          watchers.get(m.wid)?.(m.key, m.entry);
          return true;
        case "call": {
          const run = served.get(m.op);
          void answer(post, m.id, () => {
            if (!run) throw new Error(`unknown call ${m.op}`);
            return run(...m.args);
          });
          return true;
        }
        default:
          return false;
      }
    },
  };
}
