import type Database from 'better-sqlite3';
import { HistoryBuffer } from '../storage/history-buffer.js';
import type { MetricsTable, RunInfoState, StorageState } from '../storage/storage-state.js';
import type { LogFile } from './log-file.js';
import { onTimeline, type SeqRange } from './timeline.js';
import { jsonReplacer, jsonReviver } from './event-json.js';
import { BLOCK, STEPS_SERIES, blockChecksum, newBlocks, textChecksum, type SnapshotBlock } from './snapshot-blocks.js';
import { decodeBlockIters, decodeBlockValues, encodeBlockIters, encodeBlockValues } from './snapshot-block-codec.js';
import { openSnapshotDatabase } from './snapshot-database.js';

interface Loaded {
  readonly seq: number;
  readonly state: StorageState;
}

/** What a snapshot row holds besides its blocks (JSON). */
interface Header {
  readonly iter: number;
  readonly maxLength: number;
  /** Metrics in state order: series i of the blocks table is `series[i]`. */
  readonly series: ReadonlyArray<{ readonly name: string; readonly hint: boolean; readonly count: number; readonly globalAvg: number }>;
  readonly steps: { readonly count: number; readonly globalAvg: number };
}

interface Parent {
  readonly runId: number;
  readonly seq: number;
  /** Samples ever appended to each metric it holds, by position. */
  readonly counts: readonly number[];
  /** Step times ever appended. */
  readonly steps: number;
}

/**
 * A disposable cache of replayed states, so "state at iteration N" of a long run does not
 * replay it from the start. Never a source of truth: it lives in its own file beside the log
 * (the log itself is never written by readers), is keyed by the log's id and batch seq (a state
 * after batch `seq` never changes, since the log is append-only and timelines only grow at the
 * end), and can be deleted at any time.
 *
 * Snapshots are taken every `interval` iterations during a replay. A snapshot stores its samples
 * in blocks of `HISTORY_BLOCK_SIZE` consecutive samples of a series, aligned as the histories'
 * chunks are: only the blocks its parent (the previous snapshot of the same replay) does not
 * already hold in full, so the cache grows with the run, not with its square. The default
 * interval is one block, so a run logging each metric once a step ends every block exactly at a
 * snapshot and no block is stored twice (a partial block is stored again, complete, by the next).
 * Blocks are compressed (`snapshot-block-codec.ts`), so the cache stays a fraction of the log.
 * Loading takes, for each block the state retains, the newest version along the chain of
 * parents, in one statement; each decoded block becomes a history chunk as it is.
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
  /** Set once the cache failed (full disk, damage): from then on the replay runs without it. */
  #broken = false;
  /** The snapshot the next one is a delta of, with what it held. */
  #parent: Parent | null = null;

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
      const db = openSnapshotDatabase(path, logId);
      return db === null ? null : new SnapshotCache(path, db, logId, options.interval ?? BLOCK);
    } catch {
      return null;
    }
  }

  /**
   * The latest cached state on the given timeline, taken after a step ≤ `untilIter`; with
   * `only`, holding only those metrics (what a filtered replay folds), read without the others.
   */
  nearest(runId: number, ranges: readonly SeqRange[], untilIter?: number, only?: ReadonlySet<string> | null): Loaded | null {
    if (this.#broken) return null;
    try {
      return this.#nearest(runId, ranges, untilIter, only ?? null);
    } catch {
      // The cache is never a reason for a read to fail: without it, the replay starts from the log.
      this.#broken = true;
      return null;
    }
  }

  #nearest(runId: number, ranges: readonly SeqRange[], untilIter: number | undefined, only: ReadonlySet<string> | null): Loaded | null {
    const rows = this.#db
      .prepare('SELECT seq, iter FROM snapshots WHERE log_id = ? AND run_id = ? ORDER BY seq DESC')
      .raw()
      .all(this.#logId, runId) as [number, number][];
    for (const [seq, iter] of rows) {
      if (untilIter !== undefined && iter - 1 > untilIter) continue;
      if (!onTimeline(ranges, seq)) continue;
      const loaded = this.#load(runId, seq, only);
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
    return !this.#broken && iter >= this.#nextBoundary;
  }

  /** Stores the state after batch `seq` (no-op if present). */
  offer(runId: number, seq: number, state: StorageState): void {
    this.#nextBoundary = (Math.floor(state.iter / this.interval) + 1) * this.interval;
    try {
      this.#offer(runId, seq, state);
    } catch {
      // A full disk or a busy cache costs only the snapshot, never the read that offered it.
      this.#broken = true;
    }
  }

  #offer(runId: number, seq: number, state: StorageState): void {
    const m = state.metrics;
    const counts = m.histories.map((h) => h.count);
    const parent = this.#parent !== null && this.#parent.runId === runId ? this.#parent : null;
    const header: Header = {
      iter: state.iter,
      maxLength: state.maxLength,
      series: m.names.map((name, i) => ({ name, hint: m.hints[i]!, count: m.histories[i]!.count, globalAvg: m.histories[i]!.globalAvg })),
      steps: { count: state.stepTimes.count, globalAvg: state.stepTimes.globalAvg },
    };
    const headerText = JSON.stringify(header, jsonReplacer);
    const infoText = JSON.stringify(state.info, jsonReplacer);
    const insertBlock = this.#db.prepare('INSERT INTO blocks (log_id, run_id, seq, series, block, lo, vals, iters, crc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    const block = (series: number, b: SnapshotBlock): void => {
      const vals = encodeBlockValues(b.values);
      const iters = encodeBlockIters(b.iters);
      insertBlock.run(this.#logId, runId, seq, series, b.block, b.lo, vals, iters, blockChecksum(b.lo, vals, iters));
    };
    // Immediate, and the snapshot row first: a reader that offers the same snapshot at the same
    // time waits, then finds it there and adds nothing.
    this.#db
      .transaction(() => {
        const added = this.#db
          .prepare('INSERT OR IGNORE INTO snapshots (log_id, run_id, seq, iter, parent_seq, header, info, crc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
          .run(this.#logId, runId, seq, state.iter, parent?.seq ?? null, headerText, infoText, textChecksum(headerText, infoText)).changes;
        if (added === 0) return;
        // Positions are stable along a timeline (metrics are only ever added at the end), so
        // metric i here is metric i of the parent, when the parent has one.
        m.histories.forEach((h, i) => {
          const since = parent !== null && i < parent.counts.length ? parent.counts[i]! : 0;
          for (const b of newBlocks(h, since)) block(i, b);
        });
        for (const b of newBlocks(state.stepTimes, parent?.steps ?? 0)) block(STEPS_SERIES, b);
      })
      .immediate();
    this.#parent = { runId, seq, counts, steps: state.stepTimes.count };
  }

  #load(runId: number, seq: number, only: ReadonlySet<string> | null): Loaded | null {
    const snapshot = this.#db.prepare('SELECT parent_seq, header, info, crc FROM snapshots WHERE log_id = ? AND run_id = ? AND seq = ?');
    const top = snapshot.get(this.#logId, runId, seq) as { parent_seq: number | null; header: string; info: string; crc: number } | undefined;
    if (top === undefined || top.crc !== textChecksum(top.header, top.info)) return null;
    const header = JSON.parse(top.header, jsonReviver) as Header;
    const info = JSON.parse(top.info, jsonReviver) as RunInfoState;
    // Series left out (`only`) need no blocks: zero of them are wanted.
    const all = [
      ...header.series.map((s) => ({ count: only === null || only.has(s.name) ? s.count : 0, maxLength: header.maxLength })),
      { count: header.steps.count, maxLength: header.maxLength },
    ];
    // The block ids the state needs: per series and block, the newest version along the chain.
    const wanted = all.map((s) => {
      const first = Math.floor((s.count - Math.min(s.count, s.maxLength)) / BLOCK);
      const last = s.count === 0 ? first - 1 : Math.floor((s.count - 1) / BLOCK);
      return { first, ids: new Array<number | undefined>(Math.max(0, last - first + 1)).fill(undefined), missing: Math.max(0, last - first + 1) };
    });
    let missing = wanted.reduce((n, w) => n + w.missing, 0);
    const blocksOf = this.#db.prepare('SELECT id, series, block FROM blocks WHERE log_id = ? AND run_id = ? AND seq = ?').raw();
    const parentOf = this.#db.prepare('SELECT parent_seq FROM snapshots WHERE log_id = ? AND run_id = ? AND seq = ?').pluck();
    let at: number | null = seq;
    while (missing > 0 && at !== null) {
      for (const [id, series, block] of blocksOf.all(this.#logId, runId, at) as [number, number, number][]) {
        const w = wanted[series === STEPS_SERIES ? header.series.length : series];
        if (w === undefined) continue;
        const k = block - w.first;
        if (k < 0 || k >= w.ids.length || w.ids[k] !== undefined) continue;
        w.ids[k] = id;
        missing--;
      }
      if (missing === 0) break;
      at = at === seq ? top.parent_seq : ((parentOf.get(this.#logId, runId, at) as number | null | undefined) ?? null);
    }
    if (missing > 0) return null; // a broken chain: fall back to an older snapshot or a full replay
    // All the blocks in one statement (a JSON list of ids), in id order: one call instead of a
    // thousand.
    const ids = wanted.flatMap((w) => w.ids as number[]);
    const rows = new Map<number, [number, Buffer, Buffer]>();
    for (const [id, lo, vals, iters, crc] of this.#db
      .prepare('SELECT id, lo, vals, iters, crc FROM blocks WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id')
      .raw()
      .iterate(JSON.stringify(ids)) as IterableIterator<[number, number, Buffer, Buffer, number]>) {
      // A damaged block is left out, so the load falls back below, as for a vanished one.
      if (crc === blockChecksum(lo, vals, iters)) rows.set(id, [lo, vals, iters]);
    }
    let histories: HistoryBuffer[];
    try {
      histories = wanted.map((w, i) => {
        if (only !== null && i < header.series.length && !only.has(header.series[i]!.name)) return HistoryBuffer.empty(); // left out below
        const blocks = w.ids.map((id) => {
          const row = rows.get(id!);
          if (row === undefined) throw new RangeError(`block ${id} is gone`);
          const [lo, vals, iters] = row;
          const block = { lo, values: decodeBlockValues(vals), iters: decodeBlockIters(iters) };
          if (block.values.length !== block.iters.length) throw new RangeError(`block ${id} holds ${block.values.length} values and ${block.iters.length} iterations`);
          return block;
        });
        const stats = i === header.series.length ? header.steps : header.series[i]!;
        return HistoryBuffer.fromBlocks(w.first, blocks, { maxLength: all[i]!.maxLength, count: stats.count, globalAvg: stats.globalAvg });
      });
    } catch {
      return null; // a damaged or vanished block: fall back as for a broken chain
    }
    const kept = header.series.flatMap((s, i) => (only === null || only.has(s.name) ? [{ ...s, history: histories[i]! }] : []));
    const names = kept.map((s) => s.name);
    const metrics: MetricsTable = {
      names,
      hints: kept.map((s) => s.hint),
      histories: kept.map((s) => s.history),
      index: new Map(names.map((n, i) => [n, i])),
    };
    const state: StorageState = { iter: header.iter, maxLength: header.maxLength, metrics, stepTimes: histories[header.series.length]!, info };
    // A partial state is no parent: the next snapshot of this cache then stores all its blocks.
    this.#parent = only === null ? { runId, seq, counts: metrics.histories.map((h) => h.count), steps: state.stepTimes.count } : null;
    return { seq, state };
  }

  close(): void {
    this.#db.close();
  }
}

