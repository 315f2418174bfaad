// The main thread under workers: starts one gateway Worker per planned worker on one port (the
// first binds it — PORT=0 included — and the others join it with SO_REUSEPORT), relays their
// messages to the hub (./hub.ts), prints the start-up lines once, and drains them all.
import type { Config } from "../config.ts";
import { systemClock } from "../lib/clock.ts";
import { createIdGen } from "../lib/ids.ts";
import { createHub } from "./hub.ts";
import type { ToMain, ToWorker } from "./protocol.ts";

export interface RunningWorkers {
  port: number;
  /** The first worker's start-up lines (the main thread prints them once). */
  lines: string[];
  /** Events the main thread put in order so far. */
  readonly events: number;
  /** Every worker stops accepting, finishes what is in flight (bounded), flushes its events. */
  shutdown(graceMs?: number): Promise<void>;
}

export async function runWorkers(config: Config, count: number): Promise<RunningWorkers> {
  const workers: Worker[] = [];
  const drained = new Map<number, () => void>();
  const waiting = new Map<number, { resolve(m: ToMain): void }>();
  const post = (i: number, m: ToWorker) => workers[i]?.postMessage(m);
  const hub = createHub({
    count,
    config,
    post,
    ids: createIdGen(),
    clock: systemClock,
  });

  const spawn = (index: number, port: number) => {
    const w = new Worker(new URL("./worker.ts", import.meta.url), {
      type: "module",
      name: `gateway-worker-${index}`,
    });
    workers[index] = w;
    const started = new Promise<ToMain>((resolve) => waiting.set(index, { resolve }));
    w.onmessage = (e: MessageEvent<ToMain>) => {
      const m = e.data;
      if (m.t === "ready" || m.t === "failed") {
        waiting.get(index)?.resolve(m);
        waiting.delete(index);
      } else if (m.t === "drained") drained.get(index)?.();
      else hub.handle(index, m);
    };
    w.onerror = (e) => {
      e.preventDefault();
      console.error(`gateway: worker ${index} failed: ${e.message}`);
      hub.gone(index);
      waiting.get(index)?.resolve({ t: "failed", index, error: e.message });
      drained.get(index)?.();
    };
    w.postMessage(
      {
        t: "init",
        index,
        count,
        instance: config.instance,
        port,
        nats: Boolean(config.nats.url),
      } satisfies ToWorker,
    );
    return started;
  };

  const fail = (m: ToMain) => {
    for (const w of workers) w?.terminate();
    throw new Error(m.t === "failed" ? m.error : "worker did not start");
  };
  const first = await spawn(0, config.port);
  if (first.t !== "ready") fail(first);
  const { port, lines } = first as Extract<ToMain, { t: "ready" }>;
  const rest = await Promise.all(Array.from({ length: count - 1 }, (_, i) => spawn(i + 1, port)));
  for (const m of rest) if (m.t !== "ready") fail(m);

  let done: Promise<void> | undefined;
  return {
    port,
    lines,
    get events() {
      return hub.events;
    },
    shutdown(graceMs = 10_000) {
      done ??= (async () => {
        const all = workers.map((w, i) =>
          new Promise<void>((resolve) => {
            drained.set(i, resolve);
            w.postMessage({ t: "drain", graceMs } satisfies ToWorker);
          })
        );
        // Bounded: a worker that never answers must not keep the process from exiting.
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          Promise.all(all),
          new Promise((r) => timer = setTimeout(r, graceMs + 5_000)),
        ]);
        clearTimeout(timer);
        // Events a worker flushed while draining are in the log before anyone leaves.
        await new Promise((r) => setTimeout(r, 0));
        for (const w of workers) w.terminate();
        await hub.close();
      })();
      return done;
    },
  };
}
