// A worker's EventBus: the bus it would have alone (in-process, or NATS) for its own listeners
// and, with NATS, the stream; plus every event sent, batched per turn of the event loop, to the
// main thread, which puts all workers' events in one order for /v1/gateway/events and, without
// NATS, hands them to the other workers to fold as replicas (./fold_replicas.ts).
import type { GatewayEvent } from "../events/catalogue.ts";
import type { EventBus } from "../ports.ts";
import type { WorkerLink } from "./link.ts";

export interface SharedBusOptions {
  inner: EventBus;
  link: Pick<WorkerLink, "sendEvents">;
  /** This worker's instance id (the CloudEvents source of its events). */
  instance: string;
}

export function createSharedBus(o: SharedBusOptions): EventBus & { flush(): void } {
  let outbox: GatewayEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (outbox.length === 0) return;
    const batch = outbox;
    outbox = [];
    o.link.sendEvents(o.instance, batch);
  };
  return {
    kind: o.inner.kind,
    // As alone: the start-up lines say once, in the workers line, what the workers share.
    describe: o.inner.describe,
    publish(event) {
      o.inner.publish(event);
      outbox.push(event);
      timer ??= setTimeout(flush, 0);
    },
    subscribe: (listener) => o.inner.subscribe(listener),
    stats: () => o.inner.stats(),
    flush,
    async close() {
      flush();
      await o.inner.close();
    },
  };
}
