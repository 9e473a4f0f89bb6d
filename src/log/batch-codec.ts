import { LogCorruptError, LogVersionError } from './errors.js';
import { jsonReplacer, parseEvent } from './event-json.js';
import { EVENT_VERSIONS, event, type TrainEvent } from '../events/train-event.js';

/**
 * Binary layout of one batch (one row of the log: the events of one step).
 *
 * A row per scalar cannot reach a million scalars per second in SQLite, so the events of a step
 * are packed into one BLOB. Scalars and steps, the hot events, have compact binary records; rare
 * events are JSON. Values are IEEE-754, so NaN and ±Inf round-trip exactly (SQLite itself would
 * turn a NaN REAL into NULL): a float32 when that holds the value exactly (tfjs computes in
 * float32, so a loss always is), else a double. A record's iteration is a zigzag varint of its
 * difference from the previous record's in the batch (0 before the first), so the records of a
 * step, which share one, spend a byte on it. Fixed-width integers are little-endian.
 *
 * | tag | record                                                            | bytes   |
 * |-----|-------------------------------------------------------------------|---------|
 * | 6/7 | scalar, smoothing hint on/off: varint name id, iter delta, f32     | 7 typical |
 * | 8/9 | scalar, smoothing hint on/off: varint name id, iter delta, f64     | 11 typical |
 * | 10  | step: iter delta, f64 wall time (seconds)                        | 10 typical |
 * | 5   | JSON event: u32 byte length, UTF-8 `{type, v, data}`               | 5 + n   |
 * | 1/2 | scalar (schema ≤ 4 logs): u32 name id, u32 iter, f64 value        | 17      |
 * | 4   | step (schema ≤ 4 logs): u32 iter, f64 wall time                   | 13      |
 *
 * Tags 1, 2 and 4 are what logs of schema 4 and older hold; they are still read, never written.
 */
export const TAG_SCALAR_SMOOTHED = 1;
export const TAG_SCALAR_RAW = 2;
export const TAG_STEP = 4;
export const TAG_JSON = 5;
export const TAG_F32_SMOOTHED = 6;
export const TAG_F32_RAW = 7;
export const TAG_F64_SMOOTHED = 8;
export const TAG_F64_RAW = 9;
export const TAG_STEP_DELTA = 10;

/** Most bytes a scalar record takes (tag, two 5-byte varints, f64). */
export const SCALAR_RECORD_MAX_BYTES = 19;
/** Most bytes a step record takes (tag, 5-byte varint, f64). */
export const STEP_RECORD_MAX_BYTES = 14;

const textEncoder = new TextEncoder();

/** Zigzag: small differences of either sign become small unsigned numbers. */
function zigzag(d: number): number {
  return d >= 0 ? d * 2 : -d * 2 - 1;
}

/** Writes `n` (an integer in [0, 2^35)) as a little-endian base-128 varint; returns the end. */
function putVarint(v: DataView, at: number, n: number): number {
  while (n >= 0x80) {
    v.setUint8(at++, (n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  v.setUint8(at++, n);
  return at;
}

/**
 * Writes a scalar record at `at` (room for `SCALAR_RECORD_MAX_BYTES`) and returns where it ends;
 * `prevIter` is the iteration of the batch's previous record (0 for its first). The one
 * definition of the record, shared by `BatchEncoder` and the run writer, which encodes straight
 * into its hand-off ring.
 *
 * @example
 * ```ts
 * const end = writeScalarRecord(new DataView(new ArrayBuffer(19)), 0, 3, true, 7, 0.25, 0); // 7
 * ```
 */
export function writeScalarRecord(v: DataView, at: number, nameId: number, smoothingHint: boolean, iter: number, value: number, prevIter: number): number {
  const single = Math.fround(value) === value;
  v.setUint8(at, single ? (smoothingHint ? TAG_F32_SMOOTHED : TAG_F32_RAW) : smoothingHint ? TAG_F64_SMOOTHED : TAG_F64_RAW);
  const p = putVarint(v, putVarint(v, at + 1, nameId), zigzag(iter - prevIter));
  if (single) {
    v.setFloat32(p, value, true);
    return p + 4;
  }
  v.setFloat64(p, value, true);
  return p + 8;
}

/**
 * Writes a step record at `at` (room for `STEP_RECORD_MAX_BYTES`) and returns where it ends.
 * See `writeScalarRecord`.
 *
 * @example
 * ```ts
 * const end = writeStepRecord(new DataView(new ArrayBuffer(14)), 0, 7, 1700000000.5, 7); // 10
 * ```
 */
export function writeStepRecord(v: DataView, at: number, iter: number, wallTime: number, prevIter: number): number {
  v.setUint8(at, TAG_STEP_DELTA);
  const p = putVarint(v, at + 1, zigzag(iter - prevIter));
  v.setFloat64(p, wallTime, true);
  return p + 8;
}

/**
 * Appends records to a growable buffer. One encoder is reused for every batch of a run, so
 * encoding a scalar allocates nothing.
 *
 * @example
 * ```ts
 * const enc = new BatchEncoder();
 * enc.scalar(0, true, 7, 0.25);
 * enc.step(7, 1700000000.5);
 * const body = enc.take();
 * ```
 */
export class BatchEncoder {
  #bytes = new Uint8Array(1024);
  #view = new DataView(this.#bytes.buffer);
  #length = 0;
  /** Iteration of the last record, which the next one's is a difference from. */
  #prevIter = 0;

  get length(): number {
    return this.#length;
  }

  /** The encoded bytes so far (a view; valid until the next write or `reset`). */
  view(): Uint8Array {
    return this.#bytes.subarray(0, this.#length);
  }

  /** A copy of the encoded bytes, and the encoder is emptied. */
  take(): Uint8Array {
    const out = this.#bytes.slice(0, this.#length);
    this.reset();
    return out;
  }

  reset(): void {
    this.#length = 0;
    this.#prevIter = 0;
  }

  #reserve(n: number): number {
    const at = this.#length;
    if (at + n > this.#bytes.length) {
      const grown = new Uint8Array(Math.max(this.#bytes.length * 2, at + n));
      grown.set(this.#bytes.subarray(0, at));
      this.#bytes = grown;
      this.#view = new DataView(grown.buffer);
    }
    this.#length = at + n;
    return at;
  }

  scalar(nameId: number, smoothingHint: boolean, iter: number, value: number): void {
    const at = this.#reserve(SCALAR_RECORD_MAX_BYTES);
    this.#length = writeScalarRecord(this.#view, at, nameId, smoothingHint, iter, value, this.#prevIter);
    this.#prevIter = iter;
  }

  step(iter: number, wallTime: number): void {
    const at = this.#reserve(STEP_RECORD_MAX_BYTES);
    this.#length = writeStepRecord(this.#view, at, iter, wallTime, this.#prevIter);
    this.#prevIter = iter;
  }

  json(e: TrainEvent): void {
    const text = textEncoder.encode(JSON.stringify(e, jsonReplacer));
    const at = this.#reserve(5 + text.length);
    this.#view.setUint8(at, TAG_JSON);
    this.#view.setUint32(at + 1, text.length, true);
    this.#bytes.set(text, at + 5);
  }
}

/** Receives the decoded records of a batch without building objects for them. */
export interface BatchVisitor {
  scalar(nameId: number, smoothingHint: boolean, iter: number, value: number): void;
  step(iter: number, wallTime: number): void;
  /** A JSON event; its record is `bytes[at, end)` (for a reader that cuts records out of the batch). */
  json(e: TrainEvent, at: number, end: number): void;
}

/**
 * Walks the records of a batch body. Throws `LogCorruptError` on a record that runs past the end
 * or an unknown tag, and `LogVersionError` on an event version this build does not know.
 *
 * @example
 * ```ts
 * visitBatch(body, { scalar: (id, h, it, v) => {}, step: () => {}, json: () => {} });
 * ```
 */
export function visitBatch(body: Uint8Array, visitor: BatchVisitor): void {
  visitRecords(body, new DataView(body.buffer, body.byteOffset, body.byteLength), 0, body.byteLength, visitor);
}

/**
 * `visitBatch` over the batch at `bytes[start, end)`, with `view` a DataView of exactly `bytes`:
 * a reader of many batches packed in one buffer (a `BatchPage`) makes one view for all of them
 * instead of a subarray and a view per batch.
 *
 * @example
 * ```ts
 * const view = new DataView(page.bytes.buffer, page.bytes.byteOffset, page.bytes.byteLength);
 * visitRecords(page.bytes, view, page.offsets[0], page.offsets[1], visitor);
 * ```
 */
export function visitRecords(bytes: Uint8Array, view: DataView, start: number, end: number, visitor: BatchVisitor): void {
  let at = start;
  let prev = 0;
  while (at < end) {
    const tag = bytes[at]!;
    if (tag >= TAG_F32_SMOOTHED && tag <= TAG_F64_RAW) {
      // Varints inline for their one-byte case: this loop runs once per scalar of a replay.
      if (at + 3 > end) throw truncated(at - start, end - start);
      let id = bytes[at + 1]!;
      let p = at + 2;
      if (id >= 0x80) {
        id = readVarint(bytes, at + 1, end, at - start, start);
        p = varintEnd;
        if (p >= end) throw truncated(at - start, end - start);
      }
      let zz = bytes[p]!;
      p++;
      if (zz >= 0x80) {
        zz = readVarint(bytes, p - 1, end, at - start, start);
        p = varintEnd;
      }
      const iter = prev + (zz % 2 === 0 ? zz / 2 : -(zz + 1) / 2);
      const single = tag <= TAG_F32_RAW;
      const next = p + (single ? 4 : 8);
      if (next > end) throw truncated(at - start, end - start);
      visitor.scalar(id, tag === TAG_F32_SMOOTHED || tag === TAG_F64_SMOOTHED, iter, single ? view.getFloat32(p, true) : view.getFloat64(p, true));
      prev = iter;
      at = next;
    } else if (tag === TAG_STEP_DELTA) {
      if (at + 2 > end) throw truncated(at - start, end - start);
      let zz = bytes[at + 1]!;
      let p = at + 2;
      if (zz >= 0x80) {
        zz = readVarint(bytes, at + 1, end, at - start, start);
        p = varintEnd;
      }
      const iter = prev + (zz % 2 === 0 ? zz / 2 : -(zz + 1) / 2);
      if (p + 8 > end) throw truncated(at - start, end - start);
      visitor.step(iter, view.getFloat64(p, true));
      prev = iter;
      at = p + 8;
    } else if (tag === TAG_SCALAR_SMOOTHED || tag === TAG_SCALAR_RAW) {
      if (at + 17 > end) throw truncated(at - start, end - start);
      prev = view.getUint32(at + 5, true);
      visitor.scalar(view.getUint32(at + 1, true), tag === TAG_SCALAR_SMOOTHED, prev, view.getFloat64(at + 9, true));
      at += 17;
    } else if (tag === TAG_STEP) {
      if (at + 13 > end) throw truncated(at - start, end - start);
      prev = view.getUint32(at + 1, true);
      visitor.step(prev, view.getFloat64(at + 5, true));
      at += 13;
    } else if (tag === TAG_JSON) {
      if (at + 5 > end) throw truncated(at - start, end - start);
      const n = view.getUint32(at + 1, true);
      if (at + 5 + n > end) throw truncated(at - start, end - start);
      const e = parseEvent(bytes.subarray(at + 5, at + 5 + n), at - start, end - start);
      const known = EVENT_VERSIONS[e.type];
      if (known === undefined || e.v > known) {
        throw new LogVersionError(
          `event ${JSON.stringify(e.type)} version ${e.v} is newer than this build reads (${known ?? 'unknown type'}); upgrade trainledger`,
        );
      }
      visitor.json(e, at, at + 5 + n);
      at += 5 + n;
    } else {
      throw new LogCorruptError(`unknown record tag ${tag} at byte ${at - start} of a ${end - start}-byte batch`);
    }
  }
}

/** Where the last `readVarint` ended (a second return value without an allocation). */
let varintEnd = 0;

/** Reads the varint at `bytes[p]` (at most 5 bytes, before `end`); sets `varintEnd`. */
function readVarint(bytes: Uint8Array, p: number, end: number, record: number, start: number): number {
  let n = 0;
  let scale = 1;
  for (let k = 0; k < 5; k++) {
    if (p >= end) throw truncated(record, end - start);
    const b = bytes[p++]!;
    n += (b & 0x7f) * scale;
    if (b < 0x80) {
      varintEnd = p;
      return n;
    }
    scale *= 0x80;
  }
  throw new LogCorruptError(`a number in the record at byte ${record} of a ${end - start}-byte batch is longer than 5 bytes`);
}

function truncated(at: number, end: number): LogCorruptError {
  return new LogCorruptError(`record at byte ${at} runs past the end of a ${end}-byte batch`);
}

/**
 * Decodes a batch body into events, resolving interned metric names.
 *
 * @example
 * ```ts
 * const events = decodeBatch(body, ['total_loss', 'lr']);
 * ```
 */
export function decodeBatch(body: Uint8Array, names: readonly string[]): TrainEvent[] {
  const out: TrainEvent[] = [];
  visitBatch(body, {
    scalar(id, smoothingHint, iter, value) {
      const name = names[id];
      if (name === undefined) throw new LogCorruptError(`scalar refers to metric name id ${id}, which the log does not define`);
      out.push(event('scalar', { name, value, smoothingHint, iter }));
    },
    step(iter, wallTime) {
      out.push(event('step', { iter, wallTime }));
    },
    json(e) {
      out.push(e);
    },
  });
  return out;
}
