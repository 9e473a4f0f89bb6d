import type { Comm } from '../engine/comm.js';
import { CommMismatchError } from './errors.js';
import { SharedGroup, type SharedGroupInit } from './shared-group.js';
import { jsonReplacer, jsonReviver } from '../log/event-json.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * detectron2's `comm` for ranks that share memory (worker threads of one process): every
 * collective is two barriers around reads of the ranks' exchange slots, and reductions add the
 * ranks' values in rank order on every rank, so every rank computes bit for bit the same
 * result (what keeps data-parallel replicas identical). Every rank must call the same
 * collectives in the same order, as with torch.distributed.
 *
 * @example
 * ```ts
 * const comm = new GroupComm(init, rank);
 * const grads = comm.allReduce(new Float32Array(localGrads), 'mean'); // same on every rank
 * const losses = comm.gather({ loss }); // on rank 0: every rank's, in rank order
 * ```
 */
export class GroupComm implements Comm {
  readonly worldSize: number;
  readonly rank: number;
  readonly #group: SharedGroup;

  constructor(init: SharedGroupInit, rank: number) {
    this.#group = new SharedGroup(init, rank);
    this.worldSize = init.worldSize;
    this.rank = rank;
  }

  isMainProcess(): boolean {
    return this.rank === 0;
  }

  synchronize(): void {
    this.#group.barrier('synchronize');
  }

  /** Marks the group failed: ranks waiting in a collective, or calling one later, throw CommAbortedError. */
  abort(): void {
    this.#group.abort();
  }

  /**
   * Sums (or averages) `data` over the ranks, in place, and returns it. Every rank passes an
   * array of the same length; the sum is taken in rank order, in float32, on every rank alike.
   */
  allReduce(data: Float32Array, op: 'sum' | 'mean' = 'sum'): Float32Array {
    const g = this.#group;
    const per = g.slotBytes / 4;
    for (let start = 0; start < data.length || start === 0; start += per) {
      const chunk = data.subarray(start, Math.min(data.length, start + per));
      g.floats(this.rank).set(chunk);
      g.setLength(this.rank, chunk.length);
      g.barrier('allReduce');
      for (let r = 0; r < this.worldSize; r++) {
        if (g.length(r) !== chunk.length) {
          g.abort();
          throw new CommMismatchError(`allReduce: rank ${r} gave ${start + g.length(r)} values where rank ${this.rank} gave ${start + chunk.length}`);
        }
      }
      const acc = new Float32Array(chunk.length);
      for (let r = 0; r < this.worldSize; r++) {
        const slot = g.floats(r);
        for (let i = 0; i < chunk.length; i++) acc[i] = acc[i]! + slot[i]!;
      }
      if (op === 'mean') for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! / this.worldSize;
      // Nobody overwrites a slot before every rank has read them all.
      g.barrier('allReduce');
      chunk.set(acc);
      if (data.length === 0) break;
    }
    return data;
  }

  /** Rank `root`'s `data`, copied into every rank's `data`, in place; every rank gives the same length. */
  broadcast(data: Float32Array, root = 0): Float32Array {
    const g = this.#group;
    const per = g.slotBytes / 4;
    for (let start = 0; start < data.length || start === 0; start += per) {
      const chunk = data.subarray(start, Math.min(data.length, start + per));
      if (this.rank === root) g.floats(root).set(chunk);
      g.setLength(this.rank, chunk.length);
      g.barrier('broadcast');
      if (g.length(root) !== chunk.length) {
        g.abort();
        throw new CommMismatchError(`broadcast: rank ${root} sent ${start + g.length(root)} values where rank ${this.rank} expected ${start + chunk.length}`);
      }
      if (this.rank !== root) chunk.set(g.floats(root).subarray(0, chunk.length));
      g.barrier('broadcast');
      if (data.length === 0) break;
    }
    return data;
  }

  /** Every rank's `value` (JSON-serializable), in rank order, on every rank. */
  allGather<T>(value: T): T[] {
    return this.#exchange(value, true, 'allGather');
  }

  /** Every rank's `value`, in rank order, on the main process; elsewhere an empty array. */
  gather<T>(value: T): T[] {
    return this.#exchange(value, this.isMainProcess(), 'gather');
  }

  /**
   * detectron2's `reduce_dict`: the mean over ranks of each value, keys sorted, on every rank.
   * Ranks must give the same keys.
   */
  reduceDict(values: Readonly<Record<string, number>>): Record<string, number> {
    const keys = Object.keys(values).sort();
    const all = this.allGather(keys.map((k) => values[k]!));
    const names = this.allGather(keys.join('\u0000'));
    const mismatch = names.findIndex((n) => n !== names[0]);
    if (mismatch >= 0) {
      throw new CommMismatchError(`reduceDict: rank ${mismatch} gave keys ${JSON.stringify(names[mismatch]!.split('\u0000'))}, rank 0 gave ${JSON.stringify(names[0]!.split('\u0000'))}`);
    }
    const out: Record<string, number> = {};
    keys.forEach((k, i) => {
      let sum = 0;
      for (const v of all) sum += v[i]!;
      out[k] = sum / this.worldSize;
    });
    return out;
  }

  /** Every rank's value through the slots, in as many rounds as the longest JSON needs. */
  #exchange<T>(value: T, read: boolean, what: string): T[] {
    const g = this.#group;
    // Boxed like the log's JSON events: NaN, ±Infinity and -0 survive the trip.
    const bytes = encoder.encode(JSON.stringify(value, jsonReplacer) ?? 'null');
    g.setLength(this.rank, bytes.length);
    g.barrier(what);
    const totals = Array.from({ length: this.worldSize }, (_, r) => g.length(r));
    const parts = read ? totals.map((n) => new Uint8Array(n)) : [];
    const size = g.slotBytes;
    const rounds = Math.ceil(Math.max(...totals) / size);
    for (let k = 0; k < rounds; k++) {
      g.slot(this.rank).set(bytes.subarray(k * size, (k + 1) * size));
      g.barrier(what);
      parts.forEach((part, r) => {
        const n = Math.min(size, totals[r]! - k * size);
        if (n > 0) part.set(g.slot(r).subarray(0, n), k * size);
      });
      g.barrier(what);
    }
    return parts.map((part) => JSON.parse(decoder.decode(part), jsonReviver) as T);
  }
}
