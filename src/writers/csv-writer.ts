import { closeSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { MetricWriter, WriterCursor, WriterSpec } from './metric-writer.js';
import { wallTimeAt } from './wall-time.js';
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
    const rows: Array<[number, string, number]> = [];
    const m = state.metrics;
    for (let i = 0; i < m.names.length; i++) {
      const name = m.names[i]!;
      const h = m.histories[i]!;
      const done = this.#written.get(name) ?? 0;
      const fresh = Math.min(h.count - done, h.length);
      if (fresh <= 0) continue;
      const values = h.values();
      for (let j = values.length - fresh; j < values.length; j++) rows.push([values[j]![1], name, values[j]![0]]);
      this.#written.set(name, h.count);
    }
    if (rows.length === 0) return;
    rows.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    const text = rows.map(([it, name, v]) => `${it},${csvField(name)},${pythonFloat(v)},${wallTimeAt(state, it).toFixed(6)}\n`).join('');
    writeSync(this.#open(), text);
    this.#lastIter = Math.max(this.#lastIter, rows[rows.length - 1]![0]);
  }

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

  /** Runs on the log's writer thread when the trainer has a log (see PeriodicWriter). */
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
