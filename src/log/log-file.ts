import type Database from 'better-sqlite3';
import { BatchPageReader, checkRowTypes, type BatchPage, type StoredBatch } from './batch-pages.js';
import { openLogDatabase, removePrivateCopy, wrapSqliteError } from './log-database.js';
import { LogClosedError, LogCorruptError, UnknownRunError } from './errors.js';
import { LogAppender } from './log-appender.js';
import type { LogAppenderOptions } from './appender-options.js';
import { computeTimeline, type Rewind, type SeqRange } from './timeline.js';
import { acquireLease, leaseIsLive, readLease } from './run-lease.js';
import { batchChecksum, extentChecksum, nameChecksum, rewindChecksum, runChecksum, verifyChecksum } from './row-checksum.js';

export type { BatchPage, StoredBatch } from './batch-pages.js';

/** A run as listed in the log. */
export interface RunRecord {
  readonly id: number;
  readonly name: string;
  /** Seconds since the epoch. */
  readonly createdAt: number;
}

export interface LogOpenOptions {
  /** Open for reading only. Readers (replay, CLI) never write to a log. Default false. */
  readonly readonly?: boolean;
}

// Reading one row per call tops out far below SQLite's speed; pages of batches are fastest.
// Pages start small and double: a reader that stops early (state at an iteration, from a
// snapshot a few thousand steps back) does not pay for a big first page it mostly discards.
const FIRST_PAGE = 512;
/** The schema version from which rows carry checksums. */
const CHECKSUM_SCHEMA = 3;
/** The schema version from which each run's last seq is also kept in run_extents. */
const EXTENT_SCHEMA = 4;
const MAX_PAGE = 16_384;
const PAGE_BYTES = 4 << 20;

/** Index of the first batch of `page` whose seq is not `from` + its index, or -1. */
function firstGap(page: BatchPage, from: number): number {
  for (let i = 0; i < page.count; i++) if (page.seqs[i] !== from + i) return i;
  return -1;
}

function findNewestNamed(runs: readonly RunRecord[], name: string): RunRecord | undefined {
  for (let i = runs.length - 1; i >= 0; i--) if (runs[i]!.name === name) return runs[i];
  return undefined;
}

/**
 * A trainledger log file: many runs, each an append-only sequence of batches.
 *
 * @example
 * ```ts
 * const log = LogFile.open('runs/demo.sqlite', { readonly: true });
 * for (const run of log.runs()) console.log(run.id, run.name);
 * log.close();
 * ```
 */
export class LogFile {
  readonly path: string;
  readonly readonly: boolean;
  readonly #db: Database.Database;
  #pageReader: BatchPageReader | null = null;
  #closed = false;
  /** Whether rows carry checksums (schema 3 on); an older log opened read-only has none. */
  readonly #crc: string;
  /** Whether runs' extents are recorded apart from their batches (schema 4 on). */
  readonly #extents: boolean;

  /** The temp folder a read-only folder's log is read from (see openLogDatabase), or null. */
  readonly #privateCopy: string | null;

  private constructor(path: string, db: Database.Database, readonly: boolean, privateCopy: string | null) {
    this.path = path;
    this.#db = db;
    this.#privateCopy = privateCopy;
    this.readonly = readonly;
    const version = db.pragma('user_version', { simple: true }) as number;
    this.#crc = version >= CHECKSUM_SCHEMA ? 'crc' : 'NULL';
    this.#extents = version >= EXTENT_SCHEMA;
  }

  /**
   * Opens a log; a writer creates the file and schema when missing and upgrades an older schema.
   * A reader of a log in a read-only folder (where SQLite cannot keep its `-shm` file) reads a
   * private copy of it, made in the temp folder and removed by `close()`.
   * Errors: `LogNotFoundError`, `NotALogError`, `LogCorruptError`, `LogVersionError`.
   *
   * @example
   * ```ts
   * const log = LogFile.open('runs/demo.sqlite');
   * ```
   */
  static open(path: string, options: LogOpenOptions = {}): LogFile {
    const readonly = options.readonly ?? false;
    const { db, privateCopy } = openLogDatabase(path, { readonly, create: !readonly });
    return new LogFile(path, db, readonly, privateCopy);
  }

  #live(): Database.Database {
    if (this.#closed) throw new LogClosedError(`${this.path} is closed`);
    return this.#db;
  }

  #guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw wrapSqliteError(e, this.path);
    }
  }

  /** The underlying connection, for tests and tools. */
  get database(): Database.Database {
    return this.#live();
  }

  /** Every run, oldest first. */
  runs(): RunRecord[] {
    return this.#guard(() =>
      (this.#live().prepare(`SELECT id, name, created_at, ${this.#crc} FROM runs ORDER BY id`).raw().all() as [number, string, number, number | null][]).map(
        ([id, name, createdAt, crc]) => {
          verifyChecksum(crc, runChecksum(id, createdAt, name), () => `run ${id}`, this.path);
          return { id, name, createdAt };
        },
      ),
    );
  }

  /**
   * A run by id, or by name (the newest run of that name). A string of digits is an id; prefix
   * `id:` or `name:` to say which (a run named "1" is `name:1`). Unknown → `UnknownRunError`.
   *
   * @example
   * ```ts
   * const run = log.run('demo');
   * const named1 = log.run('name:1');
   * ```
   */
  run(ref: number | string): RunRecord {
    const runs = this.runs();
    let found: RunRecord | undefined;
    if (typeof ref === 'number') found = runs.find((r) => r.id === ref);
    else if (ref.startsWith('name:')) found = findNewestNamed(runs, ref.slice(5));
    else if (ref.startsWith('id:')) found = /^\d+$/.test(ref.slice(3)) ? runs.find((r) => r.id === Number(ref.slice(3))) : undefined;
    else found = (/^\d+$/.test(ref) ? runs.find((r) => r.id === Number(ref)) : undefined) ?? findNewestNamed(runs, ref);
    if (!found) {
      throw new UnknownRunError(
        `${this.path} has no run ${JSON.stringify(ref)}; runs: ${runs.length ? runs.map((r) => `${r.id} (${r.name})`).join(', ') : '(none)'} (a digit string is an id: use name:NAME for a run named by digits)`,
      );
    }
    return found;
  }

  /** Interned metric names of a run, indexed by id. */
  names(runId: number): string[] {
    return this.#guard(() => {
      const rows = this.#live().prepare(`SELECT id, name, ${this.#crc} FROM metric_names WHERE run_id = ? ORDER BY id`).raw().all(runId) as [number, string, number | null][];
      const out: string[] = [];
      for (const [id, name, crc] of rows) {
        verifyChecksum(crc, nameChecksum(runId, id, name), () => `run ${runId} metric name ${id}`, this.path);
        out[id] = name;
      }
      return out;
    });
  }

  /** Resume points of a run, in log order. */
  rewinds(runId: number): Rewind[] {
    return this.#guard(() =>
      (this.#live().prepare(`SELECT seq, to_iter, to_seq, ${this.#crc} FROM rewinds WHERE run_id = ? ORDER BY seq`).raw().all(runId) as [number, number, number, number | null][]).map(
        ([seq, toIter, toSeq, crc]) => {
          verifyChecksum(crc, rewindChecksum(runId, seq, toIter, toSeq), () => `run ${runId} resume point at seq ${seq}`, this.path);
          return { seq, toIter, toSeq };
        },
      ),
    );
  }

  /** The seq ranges that make up the run's live timeline (abandoned iterations left out). */
  timeline(runId: number): SeqRange[] {
    return computeTimeline(this.rewinds(runId));
  }

  /**
   * Highest seq of a run, or -1: the larger of the batches' and the run's recorded extent (schema
   * 4), so a tail cut off by a damaged page still counts, and reading it fails.
   */
  lastSeq(runId: number): number {
    return this.#guard(() => {
      const row = this.#live().prepare('SELECT max(seq) FROM batches WHERE run_id = ?').raw().get(runId) as [number | null];
      const stored = row[0] ?? -1;
      if (!this.#extents) return stored;
      const extent = this.#live().prepare('SELECT last_seq, crc FROM run_extents WHERE run_id = ?').raw().get(runId) as [number, number] | undefined;
      if (extent === undefined) return stored;
      verifyChecksum(extent[1], extentChecksum(runId, extent[0]), () => `run ${runId} extent`, this.path);
      return Math.max(stored, extent[0]);
    });
  }

  #pages(): BatchPageReader {
    return (this.#pageReader ??= this.#guard(() => new BatchPageReader(this.#live(), { checksums: this.#crc === 'crc', path: this.path })));
  }

  /**
   * The batches of a run holding `text` (e.g. `'"writer-cursor"'`), in seq order: SQLite finds
   * them, so a reader after a rare event does not decode every batch of a long run.
   *
   * @example
   * ```ts
   * for (const b of log.batchesHolding(1, '"writer-cursor"')) decodeBatch(b.body, names);
   * ```
   */
  batchesHolding(runId: number, text: string): StoredBatch[] {
    return this.#guard(() => this.#pages().holding(runId, text));
  }

  /**
   * Batches of a run with `from <= seq <= to`, in order, read in pages.
   *
   * @example
   * ```ts
   * for (const b of log.batches(1)) decodeBatch(b.body, names);
   * ```
   */
  *batches(runId: number, from = 0, to = Number.MAX_SAFE_INTEGER): Generator<StoredBatch> {
    for (const page of this.batchPages(runId, from, to)) {
      const { seqs, stepIters, offsets, bytes } = page;
      for (let i = 0; i < page.count; i++) {
        const stepIter = stepIters[i]!;
        yield { seq: seqs[i]!, stepIter: stepIter < 0 ? null : stepIter, body: bytes.subarray(offsets[i]!, offsets[i + 1]!) };
      }
    }
  }

  /**
   * The batches of `batches()`, a page at a time, for readers that decode in place: no object
   * or buffer per batch (see `BatchPage`). Pages start small and double, and hold about 4 MiB at
   * most, so a reader that stops early does not pay for rows it never looks at.
   *
   * @example
   * ```ts
   * for (const page of log.batchPages(1)) total += page.count;
   * ```
   */
  *batchPages(runId: number, from = 0, to = Number.MAX_SAFE_INTEGER): Generator<BatchPage> {
    const reader = this.#pages();
    let next = from;
    let limit = FIRST_PAGE;
    // Where the scan must get to, asked before it starts: a damaged b-tree page can end a range
    // scan early, which would read as a shorter run; appends made meanwhile only go past this.
    const mustReach = Math.min(to, this.lastSeq(runId));
    const endedAt = (last: number): void => {
      if (last < mustReach) {
        throw new LogCorruptError(
          `${this.path}: run ${runId} has batches up to seq ${mustReach}, but reading them in order stops after seq ${last}: the file was changed after it was written`,
        );
      }
    };
    for (;;) {
      // The reader keeps prepared statements: a log closed between pages is refused here,
      // with LogClosedError, rather than by SQLite.
      this.#live();
      const page = this.#guard(() => reader.read(runId, next, to, limit));
      if (page.count === 0) return endedAt(next - 1);
      // A run's seqs are consecutive from 0: a gap is a lost row, never skipped silently.
      const gapAt = firstGap(page, next);
      if (gapAt >= 0) {
        throw new LogCorruptError(
          `${this.path}: run ${runId} has no batch seq ${next + gapAt} but has seq ${page.seqs[gapAt]}: rows are missing or the file was changed after it was written`,
        );
      }
      yield page;
      next = page.seqs[page.count - 1]! + 1;
      if (page.count < limit) return endedAt(next - 1);
      const perRow = Math.max(1, page.bytes.length / page.count);
      limit = Math.max(1, Math.min(MAX_PAGE, limit * 2, Math.floor(PAGE_BYTES / perRow)));
    }
  }

  /** The last `n` batches of a run, oldest first. */
  lastBatches(runId: number, n: number): StoredBatch[] {
    return this.#guard(() =>
      (this.#live().prepare(`SELECT seq, step_iter, body, ${this.#crc} FROM batches WHERE run_id = ? ORDER BY seq DESC LIMIT ?`).raw().all(runId, n) as [number, number | null, Uint8Array, number | null][])
        .reverse()
        .map((row) => {
          checkRowTypes(row, runId, this.path);
          const [seq, stepIter, body, crc] = row;
          verifyChecksum(crc, batchChecksum(runId, seq, stepIter, body, 0, body.length), () => `run ${runId} batch seq ${seq}`, this.path);
          return { seq, stepIter, body };
        }),
    );
  }

  /**
   * Creates a run and returns its writer.
   *
   * @example
   * ```ts
   * const writer = log.createRun({ name: 'mnist' }, { durability: 'step' });
   * ```
   */
  createRun(run: { readonly name: string }, options: LogAppenderOptions = {}): LogAppender {
    if (this.readonly) throw new LogClosedError(`${this.path} is open read-only; cannot create a run`);
    const db = this.#live();
    const id = this.#guard(() =>
      db
        .transaction((): number => {
          // The id is chosen here, not by SQLite, so the row's checksum can cover it.
          const next = ((db.prepare('SELECT max(id) FROM runs').raw().get() as [number | null])[0] ?? 0) + 1;
          const createdAt = Date.now() / 1000;
          db.prepare('INSERT INTO runs (id, name, created_at, crc) VALUES (?, ?, ?, ?)').run(next, run.name, createdAt, runChecksum(next, createdAt, run.name));
          return next;
        })
        .immediate(),
    );
    this.#guard(() => acquireLease(this.#live(), id));
    return new LogAppender(this.path, id, 0, [], options);
  }

  /**
   * A writer that continues an existing run (after a crash or a stop) at its next seq.
   *
   * @example
   * ```ts
   * const writer = log.appendToRun(run.id);
   * ```
   */
  appendToRun(runId: number, options: LogAppenderOptions = {}): LogAppender {
    if (this.readonly) throw new LogClosedError(`${this.path} is open read-only; cannot append to run ${runId}`);
    this.run(runId);
    // Refuses (RunLiveError) while another live process writes this run; takes over a crashed one's.
    acquireLease(this.#live(), runId);
    return new LogAppender(this.path, runId, this.lastSeq(runId) + 1, this.names(runId), options);
  }

  /** Whether a live process is appending to the run (it holds the run's writer lease). */
  isLive(runId: number): boolean {
    return this.#guard(() => leaseIsLive(readLease(this.#live(), runId)));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
    if (this.#privateCopy !== null) removePrivateCopy(this.#privateCopy);
  }
}
