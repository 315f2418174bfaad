// The actor shell: owns one decider's state and a mailbox, handles one message at a time, folds
// the decided events and hands each to the publisher. Supervision: an unexpected error while
// deciding leaves the last good state in place (nothing was folded) and restarts the actor.
import { type Decider, DomainError } from "./decider.ts";

export interface ActorOptions<E> {
  /** Receives every event after it is folded, in order. Must not throw (the bus never does). */
  publish(event: E): void;
  /** Told about unexpected errors (not DomainErrors) before the actor restarts. */
  onCrash?(error: unknown, actorId: string): void;
}

export interface ActorRef<S, C, E> {
  readonly id: string;
  /** Handles `command` now and returns the events it produced. */
  ask(command: C): E[];
  /** Queues `command` for the mailbox (fire and forget, e.g. timer ticks, remote events). */
  tell(command: C): void;
  /** Folds events decided elsewhere (replay from JetStream, another replica) without publishing. */
  hydrate(events: Iterable<E>): void;
  state(): S;
  readonly restarts: number;
  stop(): void;
}

export function spawn<S, C, E>(
  id: string,
  decider: Decider<S, C, E>,
  options: ActorOptions<E>,
  initialState: S = decider.initialState,
): ActorRef<S, C, E> {
  let state = initialState;
  let restarts = 0;
  let stopped = false;
  const mailbox: C[] = [];
  let draining = false;

  const handle = (command: C): E[] => {
    let events: E[];
    try {
      events = decider.decide(state, command);
      let next = state;
      for (const e of events) next = decider.evolve(next, e);
      state = next;
    } catch (error) {
      if (error instanceof DomainError) throw error;
      restarts++;
      options.onCrash?.(error, id);
      throw error;
    }
    // Publish after folding, so a listener that re-enters the actor sees the new state.
    for (const e of events) options.publish(e);
    return events;
  };

  const drain = () => {
    if (draining) return;
    draining = true;
    try {
      while (mailbox.length > 0 && !stopped) {
        const command = mailbox.shift() as C;
        try {
          handle(command);
        } catch {
          // Told commands have no caller to answer; onCrash has already been informed.
        }
      }
    } finally {
      draining = false;
    }
  };

  return {
    id,
    ask(command) {
      if (stopped) throw new DomainError(`actor ${id} is stopped`, "actor_stopped");
      return handle(command);
    },
    tell(command) {
      if (stopped) return;
      mailbox.push(command);
      if (mailbox.length === 1) queueMicrotask(drain);
    },
    hydrate(events) {
      for (const e of events) state = decider.evolve(state, e);
    },
    state: () => state,
    get restarts() {
      return restarts;
    },
    stop() {
      stopped = true;
      mailbox.length = 0;
    },
  };
}
