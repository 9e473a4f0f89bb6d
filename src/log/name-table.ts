/**
 * A run's interned metric names: a scalar record carries a small id, and each name is sent to
 * the log once, right after the first batch that uses it (in the same hand-over, so a reader
 * never sees a batch whose names are missing).
 *
 * @example
 * ```ts
 * const names = new NameTable(['total_loss']);
 * names.id('lr'); // 1, and 'lr' is pending
 * for (const [id, name] of names.takePending()) send(id, name);
 * ```
 */
export class NameTable {
  readonly #ids: Map<string, number>;
  readonly #pending: Array<readonly [id: number, name: string]> = [];

  /** `known`: the names the log already defines for the run, in id order. */
  constructor(known: readonly string[]) {
    this.#ids = new Map(known.map((n, i) => [n, i]));
  }

  /** The id of `name`, defining it (pending) on first use. */
  id(name: string): number {
    let id = this.#ids.get(name);
    if (id === undefined) {
      id = this.#ids.size;
      this.#ids.set(name, id);
      this.#pending.push([id, name]);
    }
    return id;
  }

  get hasPending(): boolean {
    return this.#pending.length > 0;
  }

  /** The names defined since the last call, in id order; none are pending after. */
  takePending(): Array<readonly [id: number, name: string]> {
    return this.#pending.splice(0);
  }
}
