import Database from 'better-sqlite3';
import { HistoryBuffer } from '../storage/history-buffer.js';
import type { MetricsTable, RunInfoState, StorageState } from '../storage/storage-state.js';
import type { LogFile } from './log-file.js';
import { onTimeline, type SeqRange } from './timeline.js';
import { jsonReplacer, jsonReviver } from './batch-codec.js';

const FORMAT = 1;

interface Loaded {
  readonly seq: number;
  readonly state: StorageState;
}

interface SeriesDelta {
  readonly name: string;
  readonly hint: boolean;
  readonly count: number;
  readonly globalAvg: number;
  /** Samples appended since the parent snapshot (all retained ones for a root snapshot). */
  readonly values: Float64Array;
  readonly iters: Uint32Array;
}

interface Header {
  readonly format: number;
  readonly iter: number;
  readonly maxLength: number;
  readonly info: RunInfoState;
  readonly series: ReadonlyArray<{ name: string; hint: boolean; count: number; globalAvg: number; n: number }>;
  readonly steps: { count: number; n: number };
}

/**
 * A disposable cache of replayed states, so "state at iteration N" of a long run does not
 * replay it from the start. Never a source of truth: it lives in its own file beside the log
 * (the log itself is never written by readers), is keyed by the log's id and batch seq (a state
 * after batch `seq` never changes, since the log is append-only and timelines only grow at the
 * end), and can be deleted at any time.
 *
 * Snapshots are taken every `interval` iterations during a replay. Each stores only the samples
 * appended since the previous snapshot of the same replay (its parent), so the cache grows with
 * the run, not with the square of it; loading walks the chain and concatenates.
 *
 * @example
 * ```ts
 * const cache = SnapshotCache.open(log);
 * const { state } = replayRun(log, runId, { untilIter: 500_000, cache });
 * ```
 */
export class SnapshotCache {
  readonly path: string;
  readonly interval: number;
  readonly #db: Database.Database;
  readonly #logId: string;
  #nextBoundary = 0;
  /** The snapshot the next one is a delta of, with what it held. */
  #parent: { runId: number; seq: number; counts: Map<string, number>; steps: number } | null = null;

  private constructor(path: string, db: Database.Database, logId: string, interval: number) {
    this.path = path;
    this.#db = db;
    this.#logId = logId;
    this.interval = interval;
  }

  /**
   * Opens (creating) the cache of a log; returns null when it cannot be written (a read-only
   * folder), in which case replays simply run uncached.
   *
   * @example
   * ```ts
   * const cache = SnapshotCache.open(log, { interval: 5000 });
   * ```
   */
  static open(log: LogFile, options: { readonly path?: string; readonly interval?: number } = {}): SnapshotCache | null {
    const path = options.path ?? `${log.path}.snapshots`;
    const row = log.database.prepare("SELECT value FROM meta WHERE key = 'log_id'").get() as { value: string } | undefined;
    const logId = row?.value ?? 'unknown';
    try {
      const db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = OFF'); // a cache: losing it costs only time
      db.exec(`CREATE TABLE IF NOT EXISTS snapshots (
        log_id TEXT NOT NULL, run_id INTEGER NOT NULL, seq INTEGER NOT NULL, iter INTEGER NOT NULL,
        parent_seq INTEGER, format INTEGER NOT NULL, body BLOB NOT NULL,
        PRIMARY KEY (log_id, run_id, seq)) WITHOUT ROWID`);
      // A cache from another log that had this path, or another format, is useless: drop it.
      db.prepare('DELETE FROM snapshots WHERE log_id != ? OR format != ?').run(logId, FORMAT);
      return new SnapshotCache(path, db, logId, options.interval ?? 5000);
    } catch {
      return null;
    }
  }

  /**
   * The latest cached state on the given timeline, taken after a step ≤ `untilIter`.
   */
  nearest(runId: number, ranges: readonly SeqRange[], untilIter?: number): Loaded | null {
    const rows = this.#db
      .prepare('SELECT seq, iter FROM snapshots WHERE log_id = ? AND run_id = ? ORDER BY seq DESC')
      .raw()
      .all(this.#logId, runId) as [number, number][];
    for (const [seq, iter] of rows) {
      if (untilIter !== undefined && iter - 1 > untilIter) continue;
      if (!onTimeline(ranges, seq)) continue;
      const loaded = this.#load(runId, seq);
      if (loaded) {
        this.#nextBoundary = (Math.floor(loaded.state.iter / this.interval) + 1) * this.interval;
        return loaded;
      }
    }
    this.#parent = null;
    this.#nextBoundary = this.interval;
    return null;
  }

  /** Whether the replay should offer its state now (it crossed the next interval boundary). */
  wants(iter: number): boolean {
    return iter >= this.#nextBoundary;
  }

  /** Stores the state after batch `seq` (no-op if present). */
  offer(runId: number, seq: number, state: StorageState): void {
    this.#nextBoundary = (Math.floor(state.iter / this.interval) + 1) * this.interval;
    const exists = this.#db.prepare('SELECT 1 FROM snapshots WHERE log_id = ? AND run_id = ? AND seq = ?').get(this.#logId, runId, seq);
    const counts = new Map<string, number>();
    const m = state.metrics;
    for (let i = 0; i < m.names.length; i++) counts.set(m.names[i]!, m.histories[i]!.count);
    const parent = this.#parent !== null && this.#parent.runId === runId ? this.#parent : null;
    if (!exists) {
      const body = encode(state, parent);
      this.#db
        .prepare('INSERT INTO snapshots (log_id, run_id, seq, iter, parent_seq, format, body) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(this.#logId, runId, seq, state.iter, parent?.seq ?? null, FORMAT, body);
    }
    this.#parent = { runId, seq, counts, steps: state.stepTimes.count };
  }

  #load(runId: number, seq: number): Loaded | null {
    const stmt = this.#db.prepare('SELECT parent_seq, body FROM snapshots WHERE log_id = ? AND run_id = ? AND seq = ?');
    const chain: Buffer[] = [];
    let at: number | null = seq;
    while (at !== null) {
      const row = stmt.get(this.#logId, runId, at) as { parent_seq: number | null; body: Buffer } | undefined;
      if (!row) return null; // a broken chain: fall back to an older snapshot or a full replay
      chain.push(row.body);
      at = row.parent_seq;
    }
    chain.reverse();
    const decoded = chain.map(decode);
    const top = decoded[decoded.length - 1]!;
    const histories: HistoryBuffer[] = [];
    const names: string[] = [];
    const hints: boolean[] = [];
    for (const s of top.series) {
      const parts = decoded.map((d) => d.series.find((x) => x.name === s.name)).filter((x): x is SeriesDelta => x !== undefined);
      const { values, iters } = concat(parts);
      names.push(s.name);
      hints.push(s.hint);
      histories.push(HistoryBuffer.from(values, iters, { maxLength: top.header.maxLength, count: s.count, globalAvg: s.globalAvg }));
    }
    const stepParts = decoded.map((d) => d.steps);
    const st = concat(stepParts);
    const metrics: MetricsTable = { names, hints, histories, index: new Map(names.map((n, i) => [n, i])) };
    const state: StorageState = {
      iter: top.header.iter,
      maxLength: top.header.maxLength,
      metrics,
      stepTimes: HistoryBuffer.from(st.values, st.iters, { maxLength: Number.MAX_SAFE_INTEGER, count: top.steps.count, globalAvg: top.steps.globalAvg }),
      info: top.header.info,
    };
    const counts = new Map<string, number>();
    for (const s of top.series) counts.set(s.name, s.count);
    this.#parent = { runId, seq, counts, steps: top.steps.count };
    return { seq, state };
  }

  close(): void {
    this.#db.close();
  }
}

function concat(parts: readonly { values: Float64Array; iters: Uint32Array }[]): { values: Float64Array; iters: Uint32Array } {
  let n = 0;
  for (const p of parts) n += p.values.length;
  const values = new Float64Array(n);
  const iters = new Uint32Array(n);
  let at = 0;
  for (const p of parts) {
    values.set(p.values, at);
    iters.set(p.iters, at);
    at += p.values.length;
  }
  return { values, iters };
}

function tailOf(h: HistoryBuffer, since: number | undefined): { values: Float64Array; iters: Uint32Array } {
  const all = h.columns();
  const fresh = since === undefined ? all.values.length : Math.min(all.values.length, h.count - since);
  return { values: all.values.slice(all.values.length - fresh), iters: all.iters.slice(all.iters.length - fresh) };
}

function encode(state: StorageState, parent: { counts: Map<string, number>; steps: number } | null): Buffer {
  const m = state.metrics;
  const series: SeriesDelta[] = [];
  for (let i = 0; i < m.names.length; i++) {
    const h = m.histories[i]!;
    const t = tailOf(h, parent?.counts.get(m.names[i]!) ?? (parent ? 0 : undefined));
    series.push({ name: m.names[i]!, hint: m.hints[i]!, count: h.count, globalAvg: h.globalAvg, ...t });
  }
  const steps = tailOf(state.stepTimes, parent ? parent.steps : undefined);
  const header: Header = {
    format: FORMAT,
    iter: state.iter,
    maxLength: state.maxLength,
    info: state.info,
    series: series.map((s) => ({ name: s.name, hint: s.hint, count: s.count, globalAvg: s.globalAvg, n: s.values.length })),
    steps: { count: state.stepTimes.count, n: steps.values.length },
  };
  const head = Buffer.from(JSON.stringify({ ...header, stepsAvg: state.stepTimes.globalAvg }, jsonReplacer), 'utf8');
  const chunks: Buffer[] = [Buffer.alloc(4), head];
  chunks[0]!.writeUInt32LE(head.length, 0);
  for (const s of [...series, steps]) {
    chunks.push(Buffer.from(s.values.buffer, s.values.byteOffset, s.values.byteLength));
    chunks.push(Buffer.from(s.iters.buffer, s.iters.byteOffset, s.iters.byteLength));
  }
  return Buffer.concat(chunks);
}

function decode(body: Buffer): {
  header: Header;
  series: SeriesDelta[];
  steps: { values: Float64Array; iters: Uint32Array; count: number; globalAvg: number };
} {
  const n = body.readUInt32LE(0);
  const header = JSON.parse(body.toString('utf8', 4, 4 + n), jsonReviver) as Header & { stepsAvg: number };
  let at = 4 + n;
  const take = (count: number): { values: Float64Array; iters: Uint32Array } => {
    // Copy into aligned buffers: typed arrays need aligned offsets.
    const values = new Float64Array(count);
    new Uint8Array(values.buffer).set(body.subarray(at, at + count * 8));
    at += count * 8;
    const iters = new Uint32Array(count);
    new Uint8Array(iters.buffer).set(body.subarray(at, at + count * 4));
    at += count * 4;
    return { values, iters };
  };
  const series = header.series.map((s) => ({ name: s.name, hint: s.hint, count: s.count, globalAvg: s.globalAvg, ...take(s.n) }));
  const steps = { ...take(header.steps.n), count: header.steps.count, globalAvg: header.stepsAvg };
  return { header, series, steps };
}
