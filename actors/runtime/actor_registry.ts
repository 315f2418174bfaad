// A registry of live actors by id, so the HTTP layer and the supervisors can find providers.
export interface Stoppable {
  readonly id: string;
  stop(): void;
}

export class Registry<A extends Stoppable> {
  #actors = new Map<string, A>();

  register(actor: A): A {
    if (this.#actors.has(actor.id)) throw new Error(`actor ${actor.id} is already registered`);
    this.#actors.set(actor.id, actor);
    return actor;
  }

  get(id: string): A | undefined {
    return this.#actors.get(id);
  }

  has(id: string): boolean {
    return this.#actors.has(id);
  }

  all(): A[] {
    return [...this.#actors.values()];
  }

  ids(): string[] {
    return [...this.#actors.keys()];
  }

  stopAll(): void {
    for (const a of this.#actors.values()) a.stop();
    this.#actors.clear();
  }
}
