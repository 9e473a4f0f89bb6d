import { LogCorruptError, LogVersionError } from './errors.js';
import { EVENT_VERSIONS, event, type TrainEvent } from '../events/train-event.js';

/**
 * Binary layout of one batch (one row of the log: the events of one step).
 *
 * A row per scalar cannot reach a million scalars per second in SQLite, so the events of a step
 * are packed into one BLOB. Scalars and steps, the hot events, have fixed binary records; rare
 * events are JSON. Values are raw IEEE-754 doubles, so NaN and ±Inf round-trip exactly (SQLite
 * itself would turn a NaN REAL into NULL). All integers are little-endian.
 *
 * | tag | record                                   | bytes |
 * |-----|------------------------------------------|-------|
 * | 1   | scalar, smoothing hint on: u32 name id, u32 iter, f64 value  | 17 |
 * | 2   | scalar, smoothing hint off: same                           | 17 |
 * | 4   | step: u32 iter, f64 wall time (seconds)                    | 13 |
 * | 5   | JSON event: u32 byte length, UTF-8 `{type, v, data}`       | 5 + n |
 */
export const TAG_SCALAR_SMOOTHED = 1;
export const TAG_SCALAR_RAW = 2;
export const TAG_STEP = 4;
export const TAG_JSON = 5;

/** Bytes of a scalar record. */
export const SCALAR_RECORD_BYTES = 17;
/** Bytes of a step record. */
export const STEP_RECORD_BYTES = 13;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/**
 * Writes a scalar record at `at`. The one definition of the record, shared by `BatchEncoder`
 * and the run writer, which encodes straight into its hand-off ring.
 *
 * @example
 * ```ts
 * writeScalarRecord(new DataView(new ArrayBuffer(17)), 0, 3, true, 7, 0.25);
 * ```
 */
export function writeScalarRecord(v: DataView, at: number, nameId: number, smoothingHint: boolean, iter: number, value: number): void {
  v.setUint8(at, smoothingHint ? TAG_SCALAR_SMOOTHED : TAG_SCALAR_RAW);
  v.setUint32(at + 1, nameId, true);
  v.setUint32(at + 5, iter, true);
  v.setFloat64(at + 9, value, true);
}

/**
 * Writes a step record at `at`. See `writeScalarRecord`.
 *
 * @example
 * ```ts
 * writeStepRecord(new DataView(new ArrayBuffer(13)), 0, 7, 1700000000.5);
 * ```
 */
export function writeStepRecord(v: DataView, at: number, iter: number, wallTime: number): void {
  v.setUint8(at, TAG_STEP);
  v.setUint32(at + 1, iter, true);
  v.setFloat64(at + 5, wallTime, true);
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
    this.#length = 0;
    return out;
  }

  reset(): void {
    this.#length = 0;
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
    writeScalarRecord(this.#view, this.#reserve(SCALAR_RECORD_BYTES), nameId, smoothingHint, iter, value);
  }

  step(iter: number, wallTime: number): void {
    writeStepRecord(this.#view, this.#reserve(STEP_RECORD_BYTES), iter, wallTime);
  }

  json(e: TrainEvent): void {
    const text = textEncoder.encode(JSON.stringify(e, jsonReplacer));
    const at = this.#reserve(5 + text.length);
    this.#view.setUint8(at, TAG_JSON);
    this.#view.setUint32(at + 1, text.length, true);
    this.#bytes.set(text, at + 5);
  }
}

// Rare events may carry non-finite numbers (a failed eval, a histogram of NaNs) or -0: JSON has
// no token for them, so they are boxed and unboxed by the reviver below.
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && (!Number.isFinite(value) || Object.is(value, -0))) {
    return { $num: Object.is(value, -0) ? '-0' : String(value) };
  }
  return value;
}

export function jsonReviver(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && '$num' in value) {
    const s = (value as { $num: string }).$num;
    return s === 'NaN' ? NaN : s === 'Infinity' ? Infinity : s === '-0' ? -0 : -Infinity;
  }
  return value;
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
  while (at < end) {
    const tag = view.getUint8(at);
    if (tag === TAG_SCALAR_SMOOTHED || tag === TAG_SCALAR_RAW) {
      if (at + SCALAR_RECORD_BYTES > end) throw truncated(at - start, end - start);
      visitor.scalar(view.getUint32(at + 1, true), tag === TAG_SCALAR_SMOOTHED, view.getUint32(at + 5, true), view.getFloat64(at + 9, true));
      at += SCALAR_RECORD_BYTES;
    } else if (tag === TAG_STEP) {
      if (at + STEP_RECORD_BYTES > end) throw truncated(at - start, end - start);
      visitor.step(view.getUint32(at + 1, true), view.getFloat64(at + 5, true));
      at += STEP_RECORD_BYTES;
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

function parseEvent(text: Uint8Array, at: number, end: number): TrainEvent {
  let e: unknown;
  try {
    e = JSON.parse(textDecoder.decode(text), jsonReviver);
  } catch (cause) {
    throw new LogCorruptError(`the event record at byte ${at} of a ${end}-byte batch is not valid JSON`, { cause });
  }
  if (e === null || typeof e !== 'object' || typeof (e as TrainEvent).type !== 'string' || typeof (e as TrainEvent).v !== 'number') {
    throw new LogCorruptError(`the event record at byte ${at} of a ${end}-byte batch is not an event (no type and version)`);
  }
  return e as TrainEvent;
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
