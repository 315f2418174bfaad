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
  return new Actor(id, decider, options, initialState);
}

// A class rather than closures: one supervisor actor is spawned per request, and its methods are
// then shared instead of allocated (and kept alive across the upstream call) for each.
class Actor<S, C, E> implements ActorRef<S, C, E> {
  #state: S;
  #restarts = 0;
  #stopped = false;
  #mailbox: C[] = [];
  #draining = false;

  constructor(
    readonly id: string,
    private readonly decider: Decider<S, C, E>,
    private readonly options: ActorOptions<E>,
    initialState: S,
  ) {
    this.#state = initialState;
  }

  /** Bound, so it can be handed on as a function (e.g. a supervised result's `state`). */
  readonly state = (): S => this.#state;

  get restarts(): number {
    return this.#restarts;
  }

  ask(command: C): E[] {
    if (this.#stopped) throw new DomainError(`actor ${this.id} is stopped`, "actor_stopped");
    return this.#handle(command);
  }

  tell(command: C): void {
    if (this.#stopped) return;
    this.#mailbox.push(command);
    if (this.#mailbox.length === 1) queueMicrotask(() => this.#drain());
  }

  hydrate(events: Iterable<E>): void {
    for (const e of events) this.#state = this.decider.evolve(this.#state, e);
  }

  stop(): void {
    this.#stopped = true;
    this.#mailbox.length = 0;
  }

  #handle(command: C): E[] {
    let events: E[];
    try {
      events = this.decider.decide(this.#state, command);
      let next = this.#state;
      for (const e of events) next = this.decider.evolve(next, e);
      this.#state = next;
    } catch (error) {
      if (error instanceof DomainError) throw error;
      this.#restarts++;
      this.options.onCrash?.(error, this.id);
      throw error;
    }
    // Publish after folding, so a listener that re-enters the actor sees the new state.
    for (const e of events) this.options.publish(e);
    return events;
  }

  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#mailbox.length > 0 && !this.#stopped) {
        const command = this.#mailbox.shift() as C;
        try {
          this.#handle(command);
        } catch {
          // Told commands have no caller to answer; onCrash has already been informed.
        }
      }
    } finally {
      this.#draining = false;
    }
  }
}
