// The shape of all state-changing logic: pure decide + trivial evolve. Time, ids and random
// draws arrive inside commands, so the same commands always yield the same events.
export interface Decider<State, Command, Event> {
  initialState: State;
  /** Decides what happens. May throw a DomainError for a command that makes no sense. */
  decide(state: State, command: Command): Event[];
  /** Folds one decided fact into the state. Must not decide anything. */
  evolve(state: State, event: Event): State;
}

/** A command the decider refuses; the actor stays healthy and the caller gets the error. */
export class DomainError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
    this.name = "DomainError";
  }
}

/** Folds events from an initial state: how an actor is rebuilt from a stream on restart. */
export function replay<S, C, E>(decider: Decider<S, C, E>, events: Iterable<E>, from?: S): S {
  let state = from ?? decider.initialState;
  for (const e of events) state = decider.evolve(state, e);
  return state;
}
