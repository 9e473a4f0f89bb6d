import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { MetricWriter, WriterCursor, WriterSpec } from '../projections/metric-writer.js';
import { metricsLine, pythonFloat } from './python-json.js';
import { keepLines } from './keep-lines.js';
import { smoothedSince } from './smoothed-since.js';
import type { StorageState } from '../storage/storage-state.js';
import type { RunStartedData } from '../events/train-event.js';

export interface JSONWriterOptions {
  /** Smoothing window, in iterations, for hinted metrics. Default 20. */
  readonly window?: number;
  /** Writer id recorded in the log. Default `json:<path>`. */
  readonly id?: string;
}

/**
 * detectron2's metrics.json: on each write, one JSON object per iteration newer than the last
 * written one, holding the smoothed latest values of the metrics put at that iteration.
 * Unlike detectron2, lines are always in iteration order (late eval metrics included), and a
 * resumed writer first drops lines past its recorded cursor, and a fresh run those from its start
 * iteration on, so no iteration appears twice.
 *
 * @example
 * ```ts
 * const writer = new JSONWriter('out/metrics.json', { window: 20 });
 * writer.write(storage.state);
 * writer.close();
 * ```
 */
export class JSONWriter implements MetricWriter {
  readonly id: string;
  readonly path: string;
  readonly window: number;
  #fd: number | null = null;
  #lastWrite = -1;

  constructor(path: string, options: JSONWriterOptions = {}) {
    this.path = path;
    this.window = options.window ?? 20;
    this.id = options.id ?? `json:${path}`;
  }

  #open(): number {
    if (this.#fd === null) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.#fd = openSync(this.path, 'a');
    }
    return this.#fd;
  }

  write(state: StorageState): void {
    const m = state.metrics;
    // Fast path, the common case: every new value is of one iteration, so one line, built
    // straight from the histories in a key order kept per metric table.
    let iter = -1;
    let mixed = false;
    for (let i = 0; i < m.histories.length; i++) {
      const h = m.histories[i]!;
      if (h.length === 0) continue;
      const it = h.latestIter;
      if (it <= this.#lastWrite) continue;
      if (iter === -1) iter = it;
      else if (it !== iter) mixed = true;
    }
    if (iter === -1) return;
    if (mixed) {
      this.#writeGrouped(state);
      return;
    }
    const order = this.#keyOrder(m.names);
    let line = '{';
    for (let k = 0; k < order.length; k++) {
      const i = order[k]!;
      if (i < 0) {
        line += (line.length > 1 ? ', ' : '') + `"iteration": ${iter}`;
        continue;
      }
      const h = m.histories[i]!;
      // Metrics not put since the last write are not written again.
      if (h.latestIter !== iter) continue;
      line += (line.length > 1 ? ', ' : '') + this.#keys[i]! + pythonFloat(m.hints[i] ? h.median(h.countSince(this.window)) : h.latest()[0]);
    }
    this.#lastWrite = iter;
    writeSync(this.#open(), line + '}\n');
  }

  /** Metric positions in the code-point order of their names, -1 for "iteration" among them. */
  #keyOrder(names: readonly string[]): readonly number[] {
    // Names only grow, and each growth is a new array: the array is the cache key.
    if (this.#orderOf !== names) {
      this.#keys = names.map((n) => `${JSON.stringify(n)}: `);
      const all = [...names.map((n, i) => [n, i] as const), ['iteration', -1] as const];
      all.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      this.#order = all.map(([, i]) => i);
      this.#orderOf = names;
    }
    return this.#order;
  }
  #orderOf: readonly string[] | null = null;
  #order: readonly number[] = [];
  #keys: readonly string[] = [];

  /** New values of several iterations (a metric put for an earlier step): a line each. */
  #writeGrouped(state: StorageState): void {
    const byIter = new Map<number, Record<string, number>>();
    // Only what has not been written yet.
    const latest = smoothedSince(state, this.window, this.#lastWrite);
    for (const [name, [value, iter]] of Object.entries(latest)) {
      let row = byIter.get(iter);
      if (!row) byIter.set(iter, (row = {}));
      row[name] = value;
    }
    if (byIter.size === 0) return;
    const iters = [...byIter.keys()].sort((a, b) => a - b);
    this.#lastWrite = iters[iters.length - 1]!;
    const text = iters.map((it) => metricsLine(it, byIter.get(it)!) + '\n').join('');
    writeSync(this.#open(), text);
  }

  cursor(): { readonly iter: number } {
    return { iter: this.#lastWrite };
  }

  restore(cursor: WriterCursor | null): void {
    const iter = cursor?.iter ?? -1;
    this.#lastWrite = iter;
    // Lines past the cursor were written after the state we resume from: drop them so that the
    // resumed run writes those iterations exactly once.
    this.#keepThrough(iter);
  }

  begin(run: RunStartedData): void {
    this.#lastWrite = -1;
    // Lines from startIter on belong to this run: a process killed before its first checkpoint
    // and started afresh must not leave its lines before the new run's own.
    this.#keepThrough(run.startIter - 1);
  }

  /** Keeps only the file's lines of iterations up to `iter`. */
  #keepThrough(iter: number): void {
    this.close();
    keepLines(this.path, (line) => lineIteration(line) <= iter);
  }

  /** Runs on the log's commit thread when the trainer has a log (see PeriodicWriter). */
  spec(): WriterSpec {
    return { id: this.id, module: import.meta.url, exportName: 'JSONWriter', args: [this.path, { window: this.window, id: this.id }] };
  }

  close(): void {
    if (this.#fd !== null) {
      closeSync(this.#fd);
      this.#fd = null;
    }
  }
}

function lineIteration(line: string): number {
  // A line cut short (the disk filled, the machine lost power) is never kept.
  const m = line.endsWith('}') ? /"iteration": (\d+)/.exec(line) : null;
  return m ? Number(m[1]) : Infinity;
}
