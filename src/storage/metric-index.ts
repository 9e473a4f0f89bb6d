/**
 * Metric name → position in a `MetricsTable`, for the first `size` names of a run: a view of an
 * append-only Map shared by every version of the table along a timeline, so adding k names to
 * a table of n costs O(k), not a copy of n entries (a wide run adds 100k names in its first
 * step, over dozens of states).
 *
 * The newest version (the one whose size is the shared map's) adds in place; an older one that
 * adds (a branch, e.g. a resume from an earlier state) copies its entries first, so no version
 * ever sees a name it does not have.
 *
 * @example
 * ```ts
 * const a = MetricIndex.of(['loss']);
 * const b = a.with(['loss', 'lr'], 1);
 * a.get('lr'); // undefined
 * b.get('lr'); // 1
 * ```
 */
export class MetricIndex implements ReadonlyMap<string, number> {
  /** Positions are 0, 1, ... in insertion order: the first `size` entries are this version's. */
  readonly #shared: Map<string, number>;
  readonly size: number;
  #view: Map<string, number> | null = null;

  private constructor(shared: Map<string, number>, size: number) {
    this.#shared = shared;
    this.size = size;
  }

  /** The index of `names` (positions 0, 1, ...). */
  static of(names: readonly string[]): MetricIndex {
    return new MetricIndex(new Map(), 0).with(names, 0);
  }

  /** This index plus `names[from..]` at positions `from`, `from + 1`, ... (`from` = this.size). */
  with(names: readonly string[], from: number): MetricIndex {
    if (from !== this.size) throw new RangeError(`MetricIndex.with: adding at ${from} to an index of ${this.size}`);
    if (names.length === from) return this;
    let shared = this.#shared;
    if (shared.size !== this.size) {
      // A newer version already added past us: ours is a branch and gets its own map.
      shared = new Map();
      for (const [name, at] of this.#shared) {
        if (at >= this.size) break;
        shared.set(name, at);
      }
    }
    for (let at = from; at < names.length; at++) shared.set(names[at]!, at);
    return new MetricIndex(shared, names.length);
  }

  get(name: string): number | undefined {
    const at = this.#shared.get(name);
    return at !== undefined && at < this.size ? at : undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** This version's entries as a Map of its own (made once, for the rare iterating reader). */
  #entries(): Map<string, number> {
    if (this.#view === null) {
      const view = new Map<string, number>();
      for (const [name, at] of this.#shared) {
        if (at >= this.size) break;
        view.set(name, at);
      }
      this.#view = view;
    }
    return this.#view;
  }

  forEach(fn: (value: number, key: string, map: ReadonlyMap<string, number>) => void, thisArg?: unknown): void {
    this.#entries().forEach((v, k) => fn.call(thisArg, v, k, this));
  }

  entries(): ReturnType<Map<string, number>['entries']> {
    return this.#entries().entries();
  }

  keys(): ReturnType<Map<string, number>['keys']> {
    return this.#entries().keys();
  }

  values(): ReturnType<Map<string, number>['values']> {
    return this.#entries().values();
  }

  [Symbol.iterator](): ReturnType<Map<string, number>['entries']> {
    return this.#entries().entries();
  }
}
