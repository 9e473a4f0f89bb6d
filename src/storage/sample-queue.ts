import type { HistoryBuffer } from './history-buffer.js';

const INITIAL_CAPACITY = 64;

/**
 * The samples a `StateFold` has taken but not yet appended to their histories: one typed-array
 * queue (metric position, value, iteration), sized by the events between two states, not by the
 * metrics ever seen (a run may put 100k names). `appendTo` appends them with one
 * `HistoryBuffer.appendAll` per metric, so k samples of a metric make one new buffer, not k.
 *
 * @example
 * ```ts
 * const queue = new SampleQueue();
 * queue.push(0, 0.5, 10);
 * queue.push(0, 0.4, 11);
 * queue.appendTo(histories); // histories[0] gains both samples in one appendAll
 * ```
 */
export class SampleQueue {
  /** Samples not yet appended, in arrival order: metric (1 + its index in `#touched`), value, iteration. */
  #metric = new Uint32Array(INITIAL_CAPACITY);
  #values = new Float64Array(INITIAL_CAPACITY);
  #iters = new Uint32Array(INITIAL_CAPACITY);
  #queued = 0;
  /** The queued samples grouped by metric, at `appendTo`. */
  #groupValues = new Float64Array(0);
  #groupIters = new Uint32Array(0);
  /** Metric positions with queued samples, in first-touch order. */
  readonly #touched: number[] = [];
  /** By metric position: 1 + its index in `#touched`, or 0 when it has nothing queued. */
  #touchedAt = new Uint32Array(INITIAL_CAPACITY);
  /** Samples queued for each touched metric, by 1 + its index in `#touched`. */
  #touchedCount = new Uint32Array(INITIAL_CAPACITY);

  /** Whether no sample waits. */
  get isEmpty(): boolean {
    return this.#touched.length === 0;
  }

  /** Bytes of the buffers samples wait in (they grow with the events between two states). */
  get byteLength(): number {
    return this.#metric.byteLength + this.#values.byteLength + this.#iters.byteLength + this.#groupValues.byteLength + this.#groupIters.byteLength;
  }

  /** Queues a sample of the metric at position `at`. */
  push(at: number, value: number, iter: number): void {
    if (at >= this.#touchedAt.length) this.#touchedAt = grow(this.#touchedAt, new Uint32Array(Math.max(at + 1, this.#touchedAt.length * 2)));
    let k = this.#touchedAt[at]!;
    if (k === 0) {
      k = this.#touchedAt[at] = this.#touched.push(at);
      if (k === this.#touchedCount.length) this.#touchedCount = grow(this.#touchedCount, new Uint32Array(k * 2));
    }
    // Counted here, where k is at hand: appendTo() then groups the queue in one pass.
    this.#touchedCount[k]!++;
    const n = this.#queued;
    if (n === this.#values.length) {
      this.#metric = grow(this.#metric, new Uint32Array(n * 2));
      this.#values = grow(this.#values, new Float64Array(n * 2));
      this.#iters = grow(this.#iters, new Uint32Array(n * 2));
    }
    this.#metric[n] = k;
    this.#values[n] = value;
    this.#iters[n] = iter;
    this.#queued = n + 1;
  }

  /** Appends the queued samples to `histories`, one `appendAll` per metric, and empties the queue. */
  appendTo(histories: HistoryBuffer[]): void {
    const touched = this.#touched;
    const t = touched.length;
    const n = this.#queued;
    const values = this.#values;
    const iters = this.#iters;
    const count = this.#touchedCount;
    if (t === n) {
      // One sample per metric (a wide run, one put per name per step): queue order is touch order.
      for (let k = 0; k < n; k++) histories[touched[k]!] = histories[touched[k]!]!.append(values[k]!, iters[k]!);
    } else {
      // Group by metric keeping arrival order (a counting sort): one appendAll per metric.
      // count[k] becomes where group k starts, then (after the scatter) where it ends.
      for (let k = 1, start = 0; k <= t; k++) {
        const c = count[k]!;
        count[k] = start;
        start += c;
      }
      // Scratch as large as the queue, kept: allocating typed arrays costs more than this sort.
      if (this.#groupValues.length < n) {
        this.#groupValues = new Float64Array(this.#values.length);
        this.#groupIters = new Uint32Array(this.#values.length);
      }
      const groupValues = this.#groupValues;
      const groupIters = this.#groupIters;
      const metric = this.#metric;
      for (let i = 0; i < n; i++) {
        const to = count[metric[i]!]!++;
        groupValues[to] = values[i]!;
        groupIters[to] = iters[i]!;
      }
      for (let k = 1, from = 0; k <= t; k++) {
        const to = count[k]!;
        const at = touched[k - 1]!;
        histories[at] = histories[at]!.appendAll(groupValues.subarray(from, to), groupIters.subarray(from, to), to - from);
        from = to;
      }
    }
    for (let k = 0; k < t; k++) {
      this.#touchedAt[touched[k]!] = 0;
      count[k + 1] = 0;
    }
    touched.length = 0;
    this.#queued = 0;
  }
}

/** `to` holding `from`'s elements first: a typed array grown by copying. */
export function grow<T extends Float64Array | Uint32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
