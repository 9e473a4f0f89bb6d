import type Database from 'better-sqlite3';
import { batchChecksum, verifyChecksum } from './row-checksum.js';
import { LogCorruptError } from './errors.js';

/** One row of the log: the events of one step, still encoded. */
export interface StoredBatch {
  readonly seq: number;
  /** The iteration this batch's step event closes, or null for a batch without a step. */
  readonly stepIter: number | null;
  readonly body: Uint8Array;
}

/**
 * Consecutive batches of a run read in one go: their bodies back to back in `bytes`, and per
 * batch its seq, step iteration and where its body starts. Readers that decode in place
 * (replay) walk a page without creating an object or a buffer per batch.
 */
export interface BatchPage {
  readonly count: number;
  readonly seqs: Float64Array;
  /** The iteration the batch's step closes, or -1 for a batch without a step. */
  readonly stepIters: Float64Array;
  /** Batch i's body is `bytes[offsets[i], offsets[i + 1])`. */
  readonly offsets: Float64Array;
  readonly bytes: Uint8Array;
}

const subquery = (crc: string): string =>
  `SELECT seq, step_iter, body, ${crc} AS crc FROM batches WHERE run_id = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT ?`;

/**
 * Reads pages of batches. A row per batch costs better-sqlite3 a row array and a Buffer (a
 * malloc'd copy) each, more than decoding and folding the batch costs; so SQLite packs a
 * page itself: one aggregate concatenates the bodies into one blob and lists seqs, lengths and
 * step iterations as text, in the same pass over the rows, hence in the same order. The page is
 * checked (seqs increasing from where it started, lengths adding up to the blob) and read again
 * row by row if it does not check out, is too big for one SQLite value, or the database is not
 * UTF-8 (the blob passes through text, byte for byte only in UTF-8).
 *
 * Every batch of a page is checked against its checksum: a changed byte is a `LogCorruptError`
 * naming the run and seq, never a silently different replay.
 *
 * @example
 * ```ts
 * const reader = new BatchPageReader(db, { checksums: true, path: 'runs/demo.sqlite' });
 * const page = reader.read(runId, 0, Number.MAX_SAFE_INTEGER, 512);
 * ```
 */
export class BatchPageReader {
  readonly #packed: Database.Statement | null;
  readonly #rows: Database.Statement;
  /** Batches whose body holds given bytes (`holding`). */
  readonly #holding: Database.Statement;
  readonly #path: string;
  /** Stored checksums of the page last read (-1: none stored, a row from before schema 3). */
  #crcs = new Float64Array(0);

  /** `checksums`: the log's rows carry them (schema 3 on). `path` names the log in errors. */
  constructor(db: Database.Database, options: { readonly checksums: boolean; readonly path: string }) {
    this.#path = options.path;
    const sub = subquery(options.checksums ? 'crc' : 'NULL');
    const utf8 = String(db.pragma('encoding', { simple: true })).toUpperCase() === 'UTF-8';
    this.#packed = utf8
      ? db
          .prepare(
            `SELECT count(*), CAST(group_concat(body, '') AS BLOB), group_concat(seq, ','), group_concat(length(body), ','), group_concat(coalesce(step_iter, -1), ','), group_concat(coalesce(crc, -1), ',') FROM (${sub})`,
          )
          .raw()
      : null;
    this.#rows = db.prepare(sub).raw();
    this.#holding = db.prepare(`SELECT seq, step_iter, body, ${options.checksums ? 'crc' : 'NULL'} FROM batches WHERE run_id = ? AND instr(body, ?) > 0 ORDER BY seq`).raw();
  }

  /**
   * The batches of a run whose body holds the UTF-8 bytes of `text` (a JSON event's type, say),
   * found by SQLite's scan: the others never reach JavaScript. Each is checked as `read` checks.
   *
   * @example
   * ```ts
   * const cursors = reader.holding(runId, '"writer-cursor"');
   * ```
   */
  holding(runId: number, text: string): StoredBatch[] {
    const rows = this.#holding.all(runId, Buffer.from(text, 'utf8')) as [number, number | null, Uint8Array, number | null][];
    return rows.map((row) => {
      checkRowTypes(row, runId, this.#path);
      const [seq, stepIter, body, crc] = row;
      verifyChecksum(crc, batchChecksum(runId, seq, stepIter, body, 0, body.length), () => `run ${runId} batch seq ${seq}`, this.#path);
      return { seq, stepIter, body };
    });
  }

  /** Up to `limit` batches with `from <= seq <= to`, in seq order (an empty page at the end). */
  read(runId: number, from: number, to: number, limit: number): BatchPage {
    const page = this.#read(runId, from, to, limit);
    this.#verify(runId, page);
    return page;
  }

  #verify(runId: number, page: BatchPage): void {
    const { count, seqs, stepIters, offsets, bytes } = page;
    const crcs = this.#crcs;
    for (let i = 0; i < count; i++) {
      const seq = seqs[i]!;
      const stored = crcs[i]!;
      if (stored < 0) continue;
      const stepIter = stepIters[i]!;
      verifyChecksum(stored, batchChecksum(runId, seq, stepIter < 0 ? null : stepIter, bytes, offsets[i]!, offsets[i + 1]!), () => `run ${runId} batch seq ${seq}`, this.#path);
    }
  }

  #read(runId: number, from: number, to: number, limit: number): BatchPage {
    if (this.#packed !== null) {
      let row: [number, Uint8Array | null, string | null, string | null, string | null, string | null] | undefined;
      try {
        row = this.#packed.get(runId, from, to, limit) as typeof row;
      } catch (e) {
        // A page larger than SQLite's biggest value (huge image batches): read it row by row.
        if ((e as { code?: string }).code !== 'SQLITE_TOOBIG') throw e;
      }
      if (row !== undefined) {
        const page = checkedPage(row, from);
        if (page !== null && this.#parseCrcs(row[5], page.count)) return page;
      }
    }
    return this.#readRows(runId, from, to, limit);
  }

  #crcsFor(count: number): Float64Array {
    if (this.#crcs.length < count) this.#crcs = new Float64Array(Math.max(count, this.#crcs.length * 2));
    return this.#crcs;
  }

  #parseCrcs(text: string | null, count: number): boolean {
    if (count === 0) return true;
    return text !== null && parseIntList(text, this.#crcsFor(count).subarray(0, count)) === count;
  }

  #readRows(runId: number, from: number, to: number, limit: number): BatchPage {
    const rows = this.#rows.all(runId, from, to, limit) as [number, number | null, Uint8Array, number | null][];
    const count = rows.length;
    for (const row of rows) checkRowTypes(row, runId, this.#path);
    const crcs = this.#crcsFor(count);
    for (let i = 0; i < count; i++) crcs[i] = rows[i]![3] ?? -1;
    const seqs = new Float64Array(count);
    const stepIters = new Float64Array(count);
    const offsets = new Float64Array(count + 1);
    let total = 0;
    for (let i = 0; i < count; i++) {
      const [seq, stepIter, body] = rows[i]!;
      seqs[i] = seq;
      stepIters[i] = stepIter ?? -1;
      offsets[i] = total;
      total += body.length;
    }
    offsets[count] = total;
    const bytes = new Uint8Array(total);
    for (let i = 0; i < count; i++) bytes.set(rows[i]![2], offsets[i]!);
    return { count, seqs, stepIters, offsets, bytes };
  }
}

/**
 * Throws `LogCorruptError` when a batch row's columns are not of their SQLite types: a damaged
 * row can turn a BLOB body into NULL or text, which must never be read as a batch.
 *
 * @example
 * ```ts
 * checkRowTypes([3, 3, body, crc], 1, 'runs/demo.sqlite');
 * ```
 */
export function checkRowTypes(row: readonly unknown[], runId: number, path: string): void {
  const [seq, stepIter, body, crc] = row;
  const whole = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v);
  if (!whole(seq) || !(stepIter === null || whole(stepIter)) || !(body instanceof Uint8Array) || !(crc === null || whole(crc))) {
    throw new LogCorruptError(`${path}: run ${runId} has a batch row near seq ${String(seq)} whose columns are not of their types: the file was changed after it was written`);
  }
}

function checkedPage(row: [number, Uint8Array | null, string | null, string | null, string | null, string | null], from: number): BatchPage | null {
  const [count, blob, seqText, lengthText, iterText] = row;
  const bytes = blob ?? new Uint8Array(0);
  const seqs = new Float64Array(count);
  const stepIters = new Float64Array(count);
  const offsets = new Float64Array(count + 1);
  if (count > 0) {
    if (seqText === null || lengthText === null || iterText === null) return null;
    if (parseIntList(seqText, seqs) !== count || parseIntList(iterText, stepIters) !== count) return null;
    // Lengths land in offsets[1..], then accumulate into start offsets.
    if (parseIntList(lengthText, offsets.subarray(1)) !== count) return null;
    let previous = from - 1;
    for (let i = 0; i < count; i++) {
      const seq = seqs[i]!;
      if (!(seq > previous)) return null;
      previous = seq;
      offsets[i + 1] = offsets[i]! + offsets[i + 1]!;
    }
  }
  if (offsets[count] !== bytes.length) return null;
  return { count, seqs, stepIters, offsets, bytes };
}

/**
 * Parses comma-separated integers into `out`; returns how many, or -1 when the text is not such
 * a list or holds more than `out` takes.
 *
 * @example
 * ```ts
 * parseIntList('3,-1,12', new Float64Array(3)); // 3
 * ```
 */
export function parseIntList(text: string, out: Float64Array): number {
  let n = 0;
  let value = 0;
  let negative = false;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 44;
    if (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      digits++;
    } else if (c === 45 && digits === 0 && !negative) {
      negative = true;
    } else if (c === 44) {
      if (digits === 0 || n === out.length) return -1;
      out[n++] = negative ? -value : value;
      value = 0;
      digits = 0;
      negative = false;
    } else {
      return -1;
    }
  }
  return n;
}
