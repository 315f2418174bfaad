// The main thread's hub and N worker links wired together in one thread, every message passed as
// a structured clone on a later turn of the event loop — as a Worker's port does — so the shared
// bus and store proxies are tested through the same hops as under real workers.
import {
  createHub,
  createWorkerLink,
  type Hub,
  type HubOptions,
  type WorkerLink,
} from "../../src/workers/mod.ts";
import { createIdGen } from "../../src/lib/ids.ts";
import type { Clock } from "../../src/ports.ts";

export interface Wiring {
  hub: Hub;
  links: WorkerLink[];
  /** Messages crossed so far, both ways. */
  readonly messages: number;
}

export function wireWorkers(
  count: number,
  clock: Clock = { now: () => Date.now() },
  extra: Pick<HubOptions, "backlog"> = {},
): Wiring {
  let messages = 0;
  const later = (f: () => void) => setTimeout(f, 0);
  const links: WorkerLink[] = [];
  const hub = createHub({
    count,
    config: { responses: { ttlMs: 60_000, bucket: "unused" } },
    post: (i, m) => {
      messages++;
      const copy = structuredClone(m);
      later(() => links[i].receive(copy));
    },
    ids: createIdGen(),
    clock,
    ...extra,
  });
  for (let i = 0; i < count; i++) {
    links.push(createWorkerLink((m) => {
      messages++;
      const copy = structuredClone(m);
      later(() => hub.handle(i, copy));
    }));
  }
  return {
    hub,
    links,
    get messages() {
      return messages;
    },
  };
}

/** Resolves after every message already posted (and those they cause, `turns` deep) arrived. */
export async function settle(turns = 6): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setTimeout(r, 0));
}
