import Database from 'better-sqlite3';
import { existsSync, rmSync, statSync } from 'node:fs';
import { crc32c } from '../util/crc32c.js';
import { HISTORY_BLOCK_SIZE, HistoryBuffer } from '../storage/history-buffer.js';
import type { MetricsTable, RunInfoState, StorageState } from '../storage/storage-state.js';
import type { LogFile } from './log-file.js';
import { onTimeline, type SeqRange } from './timeline.js';
import { jsonReplacer, jsonReviver } from './batch-codec.js';

/**
 * Cache file format, kept in its `user_version`: a cache of another format is deleted and
 * rebuilt. 2: samples stored in blocks aligned with the histories' chunks, read back without
 * a copy. 3: a checksum on every snapshot and block (a damaged one is ignored, never read).
 */
const FORMAT = 3;
/** Marks a file as a trainledger snapshot cache (`PRAGMA application_id`, "tlsc"). */
const APPLICATION_ID = 0x746c7363;
/** Series number of the step times in the blocks table (metrics are 0, 1, ...). */
const STEPS_SERIES = -1;
const BLOCK = HISTORY_BLOCK_SIZE;

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
 * already hold in full, so the cache grows with the run, not with its square. Loading takes,
 * for each block the state retains, the newest version along the chain of parents; each block
 * is one row that fits a 64 KiB page, so SQLite hands it over without assembling overflow
 * pages, and its arrays become the history's chunks as they are: reading a state costs about
 * one copy of its samples.
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
      // Never touch a file this project did not make: a stranger at the cache's path means no cache.
      if (existsSync(path) && ownership(path) === 'foreign') return null;
      let db = new Database(path);
      db.pragma('busy_timeout = 10000');
      if (db.pragma('user_version', { simple: true }) !== FORMAT) {
        const tables = (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n;
        if (tables > 0) {
          // Our cache in an older format: start over, so the page size below applies.
          db.close();
          for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
          db = new Database(path);
          db.pragma('busy_timeout = 10000');
        }
        // Big pages: a block (48 KiB) fits in one, so it is read in place, not reassembled.
        db.pragma('page_size = 65536');
        db.pragma('journal_mode = WAL');
        // Several readers may build the cache at once: one creates the tables, the others find them.
        db.transaction(() => {
          db.exec(`CREATE TABLE IF NOT EXISTS snapshots (
            log_id TEXT NOT NULL, run_id INTEGER NOT NULL, seq INTEGER NOT NULL, iter INTEGER NOT NULL,
            parent_seq INTEGER, header TEXT NOT NULL, info TEXT NOT NULL, crc INTEGER NOT NULL,
            PRIMARY KEY (log_id, run_id, seq)) WITHOUT ROWID;
          CREATE TABLE IF NOT EXISTS blocks (
            id INTEGER PRIMARY KEY, log_id TEXT NOT NULL, run_id INTEGER NOT NULL, seq INTEGER NOT NULL,
            series INTEGER NOT NULL, block INTEGER NOT NULL, lo INTEGER NOT NULL, vals BLOB NOT NULL, iters BLOB NOT NULL,
            crc INTEGER NOT NULL);
          CREATE INDEX IF NOT EXISTS blocks_of_snapshot ON blocks (log_id, run_id, seq, series, block);`);
          db.pragma(`application_id = ${APPLICATION_ID}`);
          db.pragma(`user_version = ${FORMAT}`);
        }).immediate();
      } else {
        db.pragma('journal_mode = WAL');
      }
      db.pragma('synchronous = OFF'); // a cache: losing it costs only time, and checksums catch damage
      db.pragma('mmap_size = 1073741824');
      // A cache from another log that had this path is useless: drop it. Looked for in the
      // small table first: deleting from the blocks table scans every block.
      if (db.prepare('SELECT 1 FROM snapshots WHERE log_id != ? LIMIT 1').get(logId) !== undefined) {
        db.transaction(() => {
          db.prepare('DELETE FROM snapshots WHERE log_id != ?').run(logId);
          db.prepare('DELETE FROM blocks WHERE log_id != ?').run(logId);
        }).immediate();
      }
      return new SnapshotCache(path, db, logId, options.interval ?? 5000);
    } catch {
      return null;
    }
  }

  /**
   * The latest cached state on the given timeline, taken after a step ≤ `untilIter`.
   */
  nearest(runId: number, ranges: readonly SeqRange[], untilIter?: number): Loaded | null {
    if (this.#broken) return null;
    try {
      return this.#nearest(runId, ranges, untilIter);
    } catch {
      // The cache is never a reason for a read to fail: without it, the replay starts from the log.
      this.#broken = true;
      return null;
    }
  }

  #nearest(runId: number, ranges: readonly SeqRange[], untilIter?: number): Loaded | null {
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
    const block = (series: number, b: { block: number; lo: number; values: Float64Array; iters: Uint32Array }): void => {
      const vals = bytesOf(b.values);
      const iters = bytesOf(b.iters);
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

  #load(runId: number, seq: number): Loaded | null {
    const snapshot = this.#db.prepare('SELECT parent_seq, header, info, crc FROM snapshots WHERE log_id = ? AND run_id = ? AND seq = ?');
    const top = snapshot.get(this.#logId, runId, seq) as { parent_seq: number | null; header: string; info: string; crc: number } | undefined;
    if (top === undefined || top.crc !== textChecksum(top.header, top.info)) return null;
    const header = JSON.parse(top.header, jsonReviver) as Header;
    const info = JSON.parse(top.info, jsonReviver) as RunInfoState;
    const all = [...header.series.map((s) => ({ count: s.count, maxLength: header.maxLength })), { count: header.steps.count, maxLength: header.maxLength }];
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
        const blocks = w.ids.map((id) => {
          const row = rows.get(id!);
          if (row === undefined) throw new RangeError(`block ${id} is gone`);
          const [lo, vals, iters] = row;
          return { lo, values: typedOf(vals, Float64Array), iters: typedOf(iters, Uint32Array) };
        });
        const stats = i === header.series.length ? header.steps : header.series[i]!;
        return HistoryBuffer.fromBlocks(w.first, blocks, { maxLength: all[i]!.maxLength, count: stats.count, globalAvg: stats.globalAvg });
      });
    } catch {
      return null; // a damaged or vanished block: fall back as for a broken chain
    }
    const names = header.series.map((s) => s.name);
    const metrics: MetricsTable = {
      names,
      hints: header.series.map((s) => s.hint),
      histories: histories.slice(0, names.length),
      index: new Map(names.map((n, i) => [n, i])),
    };
    const state: StorageState = { iter: header.iter, maxLength: header.maxLength, metrics, stepTimes: histories[names.length]!, info };
    this.#parent = { runId, seq, counts: metrics.histories.map((h) => h.count), steps: state.stepTimes.count };
    return { seq, state };
  }

  close(): void {
    this.#db.close();
  }
}

/**
 * The blocks of `h` holding samples appended after the first `since` (whole blocks: one the
 * parent held in part is stored again, complete), limited to the samples `h` retains.
 */
function newBlocks(h: HistoryBuffer, since: number): Array<{ block: number; lo: number; values: Float64Array; iters: Uint32Array }> {
  const count = h.count;
  const retained = count - h.length;
  if (since >= count) return [];
  const from = Math.max(retained, Math.floor(Math.max(since, retained) / BLOCK) * BLOCK);
  const { values, iters } = h.columns(count - from);
  const out: Array<{ block: number; lo: number; values: Float64Array; iters: Uint32Array }> = [];
  for (let at = from; at < count; ) {
    const block = Math.floor(at / BLOCK);
    const to = Math.min((block + 1) * BLOCK, count);
    out.push({ block, lo: at - block * BLOCK, values: values.subarray(at - from, to - from), iters: iters.subarray(at - from, to - from) });
    at = to;
  }
  return out;
}

/**
 * Whether the file at `path` is a snapshot cache this project made: marked with our
 * application id, or an unmarked cache of format 1 or 2 (our tables and nothing else), or one
 * still empty.
 */
function ownership(path: string): 'ours' | 'foreign' {
  // Empty, or no tables yet: another reader is creating the cache this moment; nothing to lose.
  if (statSync(path).size === 0) return 'ours';
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch {
    return 'foreign';
  }
  try {
    if (db.pragma('application_id', { simple: true }) === APPLICATION_ID) return 'ours';
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[]).join(',');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (tables === '') return 'ours';
    const ourTables = tables === 'blocks,snapshots' || tables === 'snapshots';
    const logId = (db.prepare("SELECT count(*) FROM pragma_table_info('snapshots') WHERE name = 'log_id'").pluck().get() as number) === 1;
    return ourTables && logId && version <= 2 ? 'ours' : 'foreign';
  } catch {
    return 'foreign';
  } finally {
    db.close();
  }
}

function blockChecksum(lo: number, vals: Uint8Array, iters: Uint8Array): number {
  return crc32c(iters, crc32c(vals, lo));
}

function textChecksum(header: string, info: string): number {
  return crc32c(Buffer.from(info), crc32c(Buffer.from(header)));
}

function bytesOf(a: Float64Array | Uint32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** A typed view of a blob SQLite handed over (a fresh, aligned allocation), or a copy. */
function typedOf<T extends Float64Array | Uint32Array>(blob: Buffer, Type: { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; new (length: number): T; readonly BYTES_PER_ELEMENT: number }): T {
  const n = blob.byteLength / Type.BYTES_PER_ELEMENT;
  if (!Number.isInteger(n)) throw new RangeError(`a block of ${blob.byteLength} bytes is not a whole number of samples`);
  if (blob.byteOffset % Type.BYTES_PER_ELEMENT === 0) return new Type(blob.buffer, blob.byteOffset, n);
  const copy = new Type(n);
  new Uint8Array(copy.buffer).set(blob);
  return copy;
}
