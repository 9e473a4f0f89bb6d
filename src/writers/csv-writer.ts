import { closeSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { MetricWriter, WriterCursor, WriterSpec } from '../projections/metric-writer.js';
import { WallClock } from './wall-time.js';
import { pythonFloat } from './python-json.js';
import { keepLines } from './keep-lines.js';
import type { StorageState } from '../storage/storage-state.js';
import type { RunStartedData } from '../events/train-event.js';

/** The first line of every file CSVWriter writes (how a previous CSV export is recognised). */
export const CSV_HEADER = 'iteration,name,value,wall_time\n';

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Every sample of every metric in long format — `iteration,name,value,wall_time` — raw (not
 * smoothed), appended at each write: the file to load into pandas, R or a spreadsheet. Its
 * cursor is the number of samples of each metric already written.
 *
 * @example
 * ```ts
 * new PeriodicWriter([new CSVWriter('out/metrics.csv')]);
 * ```
 */
export class CSVWriter implements MetricWriter {
  readonly id: string;
  readonly path: string;
  #fd: number | null = null;
  #written = new Map<string, number>();
  #lastIter = -1;
  /** Arrays a write copies each metric's new samples into, reused from write to write. */
  readonly #columns: Array<{ values: Float64Array; iters: Uint32Array }> = [];

  constructor(path: string, options: { readonly id?: string } = {}) {
    this.path = path;
    this.id = options.id ?? `csv:${path}`;
  }

  #open(): number {
    if (this.#fd === null) {
      mkdirSync(dirname(this.path), { recursive: true });
      // Only an empty file gets the header (its size, not its contents, says so).
      const fresh = (statSync(this.path, { throwIfNoEntry: false })?.size ?? 0) === 0;
      this.#fd = openSync(this.path, 'a');
      if (fresh) writeSync(this.#fd, CSV_HEADER);
    }
    return this.#fd;
  }

  write(state: StorageState): void {
    const m = state.metrics;
    const order = this.#nameOrder(m.names);
    // The samples after each metric's cursor, metrics in name order: a write costs what it writes.
    const parts: Part[] = [];
    let rows = 0;
    for (const i of order) {
      const name = m.names[i]!;
      const h = m.histories[i]!;
      const done = this.#written.get(name) ?? 0;
      const fresh = Math.min(h.count - done, h.length);
      if (fresh <= 0) continue;
      const { values, iters } = this.#scratch(parts.length, fresh);
      h.columnsInto(fresh, values, iters);
      parts.push(inIterationOrder({ field: this.#fields[i]!, values: values.subarray(0, fresh), iters: iters.subarray(0, fresh), at: 0 }));
      rows += fresh;
      this.#written.set(name, h.count);
    }
    if (rows === 0) return;
    const clock = new WallClock(state);
    // Rows in (iteration, name) order; the usual write, every metric at the same iterations, needs no merge.
    const { text, last } = inLockstep(parts) ? lockstepRows(parts, clock) : mergedRows(parts, clock);
    writeSync(this.#open(), text);
    this.#lastIter = Math.max(this.#lastIter, last);
  }

  /** The `k`-th part's arrays, holding at least `n` samples (kept only while small). */
  #scratch(k: number, n: number): { values: Float64Array; iters: Uint32Array } {
    if (n > 4096) return { values: new Float64Array(n), iters: new Uint32Array(n) };
    let s = this.#columns[k];
    if (s === undefined || s.values.length < n) {
      const size = 2 ** Math.ceil(Math.log2(Math.max(n, 32)));
      s = { values: new Float64Array(size), iters: new Uint32Array(size) };
      this.#columns[k] = s;
    }
    return s;
  }

  /** Metric positions in name order, cached per metric table (names only grow, as a new array). */
  #nameOrder(names: readonly string[]): readonly number[] {
    if (this.#orderOf !== names) {
      this.#fields = names.map(csvField);
      this.#order = names.map((_, i) => i).sort((a, b) => (names[a]! < names[b]! ? -1 : names[a]! > names[b]! ? 1 : 0));
      this.#orderOf = names;
    }
    return this.#order;
  }
  #orderOf: readonly string[] | null = null;
  #order: readonly number[] = [];
  #fields: readonly string[] = [];

  cursor(): WriterCursor {
    return { iter: this.#lastIter, detail: Object.fromEntries(this.#written) };
  }

  restore(cursor: WriterCursor | null): void {
    this.#written = new Map(Object.entries((cursor?.detail as Record<string, number> | undefined) ?? {}));
    this.#lastIter = cursor?.iter ?? -1;
    // Rows past the cursor came from iterations the resumed run abandons: keep only what the
    // recorded cursor says was written.
    const budget = new Map(this.#written);
    this.#keepRows((line) => {
      const name = parseName(line);
      const left = budget.get(name) ?? 0;
      if (left > 0) budget.set(name, left - 1);
      return left > 0;
    });
  }

  begin(run: RunStartedData): void {
    this.#written = new Map();
    this.#lastIter = -1;
    // Rows from startIter on belong to this run (see JSONWriter.begin).
    this.#keepRows((line) => parseIteration(line) < run.startIter);
  }

  /** Keeps the file's header and the rows `keep` accepts. */
  #keepRows(keep: (line: string) => boolean): void {
    this.close();
    keepLines(this.path, (line, i) => i === 0 || keep(line));
  }

  /** Runs on the log's commit thread when the trainer has a log (see PeriodicWriter). */
  spec(): WriterSpec {
    return { id: this.id, module: import.meta.url, exportName: 'CSVWriter', args: [this.path, { id: this.id }] };
  }

  close(): void {
    if (this.#fd !== null) {
      closeSync(this.#fd);
      this.#fd = null;
    }
  }
}

function parseIteration(line: string): number {
  const comma = line.indexOf(',');
  const it = comma > 0 ? Number(line.slice(0, comma)) : NaN;
  // A row that does not start with an iteration is not kept.
  return Number.isInteger(it) ? it : Infinity;
}

function parseName(line: string): string {
  const rest = line.slice(line.indexOf(',') + 1);
  if (rest.startsWith('"')) {
    let out = '';
    for (let i = 1; i < rest.length; i++) {
      if (rest[i] === '"') {
        if (rest[i + 1] === '"') {
          out += '"';
          i++;
        } else break;
      } else out += rest[i];
    }
    return out;
  }
  return rest.slice(0, rest.indexOf(','));
}

/**
 * Whether every part has one sample at each of the same, increasing iterations: then rows go
 * iteration by iteration, metrics in name order, as the merge would put them.
 */
export function inLockstep(parts: readonly Pick<Part, 'iters'>[]): boolean {
  const first = parts[0]?.iters;
  if (first === undefined) return true;
  if (!increasing(first, true)) return false;
  for (const p of parts) {
    if (p.iters.length !== first.length) return false;
    for (let j = 0; j < first.length; j++) if (p.iters[j] !== first[j]) return false;
  }
  return true;
}

/** The rows of parts in lockstep (see `inLockstep`), and the last iteration written. */
function lockstepRows(parts: readonly Part[], clock: WallClock): { text: string; last: number } {
  let text = '';
  let j = 0;
  let last = -1;
  for (const it of parts[0]?.iters ?? []) {
    // What the rows of one iteration share is formatted once.
    const head = `${it},`;
    const tail = `,${clock.at(it).toFixed(6)}\n`;
    // Every part has a sample at j (inLockstep checked their lengths).
    for (const p of parts) text += head + p.field + ',' + pythonFloat(p.values[j]!) + tail;
    last = it;
    j++;
  }
  return { text, last };
}

/** Whether iterations never go down (strictly: always go up). */
function increasing(iters: Uint32Array, strictly: boolean): boolean {
  let prev = -1;
  for (const it of iters) {
    if (it < prev || (strictly && it === prev)) return false;
    prev = it;
  }
  return true;
}

/** The rows of parts merged by (iteration, name), and the last iteration written. */
function mergedRows(parts: Part[], clock: WallClock): { text: string; last: number } {
  const heap = new MergeHeap(parts);
  let last = -1;
  // What the rows of one iteration share is formatted once.
  let head = '';
  let tail = '';
  let text = '';
  for (let p = heap.top(); p !== null; p = heap.next()) {
    const it = p.iters[p.at]!;
    if (it !== last) {
      last = it;
      head = `${it},`;
      tail = `,${clock.at(it).toFixed(6)}\n`;
    }
    text += head + p.field + ',' + pythonFloat(p.values[p.at]!) + tail;
  }
  return { text, last };
}

/** A metric's samples to write, `at` the next one. */
interface Part {
  readonly field: string;
  values: Float64Array;
  iters: Uint32Array;
  at: number;
}

/** `part` with its samples in iteration order, those of one iteration kept in the order put (rarely not so already). */
function inIterationOrder(part: Part): Part {
  const { values, iters } = part;
  if (increasing(iters, false)) return part;
  const idx = Array.from(iters, (_, j) => j).sort((a, b) => iters[a]! - iters[b]! || a - b);
  part.values = Float64Array.from(idx, (j) => values[j]!);
  part.iters = Uint32Array.from(idx, (j) => iters[j]!);
  return part;
}

/**
 * A k-way merge of parts (given in name order) by (iteration, name): a binary heap of the parts,
 * so a write of r rows over k metrics costs r·log k, however wide the run.
 */
class MergeHeap {
  readonly #parts: Part[];
  readonly #heap: number[];

  constructor(parts: Part[]) {
    this.#parts = parts;
    this.#heap = parts.map((_, i) => i);
    for (let i = (this.#heap.length >> 1) - 1; i >= 0; i--) this.#down(i);
  }

  /** The part whose next sample comes first, or null when all are written. */
  top(): Part | null {
    return this.#heap.length > 0 ? this.#parts[this.#heap[0]!]! : null;
  }

  /** Moves past the top part's next sample; returns the new top. */
  next(): Part | null {
    const heap = this.#heap;
    const p = this.#parts[heap[0]!]!;
    if (++p.at === p.iters.length) {
      const tail = heap.pop()!;
      if (heap.length === 0) return null;
      heap[0] = tail;
    }
    this.#down(0);
    return this.top();
  }

  #before(a: number, b: number): boolean {
    const pa = this.#parts[a]!;
    const pb = this.#parts[b]!;
    const ia = pa.iters[pa.at]!;
    const ib = pb.iters[pb.at]!;
    // Parts are in name order: the index breaks ties by name.
    return ia < ib || (ia === ib && a < b);
  }

  #down(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      const c = r < n && this.#before(heap[r]!, heap[l]!) ? r : l;
      if (!this.#before(heap[c]!, heap[i]!)) return;
      [heap[c], heap[i]] = [heap[i]!, heap[c]!];
      i = c;
    }
  }
}
