import { crc32c, crc32cRange } from '../util/crc32c.js';
import { LogCorruptError } from './errors.js';

/**
 * Checksums of the log's rows (schema 3 on). Each covers the row's key and its values, so a
 * changed byte anywhere in a row, its seq included, fails the check instead of being read as a
 * different value. A row from before schema 3 has no checksum (null) and is read unverified.
 *
 * | table        | CRC-32C over                                                        |
 * |--------------|---------------------------------------------------------------------|
 * | batches      | u32 run, u32 seq, i32 step iter (-1: none), u32 body length, body   |
 * | metric_names | u32 run, u32 id, UTF-8 name                                         |
 * | rewinds      | u32 run, u32 seq, i32 to iter, u32 to seq                            |
 * | runs         | u32 id, f64 created at, UTF-8 name                                  |
 * | run_extents  | u32 run, u32 last seq                                               |
 *
 * All integers little-endian.
 */
const scratch = new DataView(new ArrayBuffer(16));
const scratchBytes = new Uint8Array(scratch.buffer);
const encoder = new TextEncoder();

function words(a: number, b: number, c: number, d: number): Uint8Array {
  scratch.setUint32(0, a, true);
  scratch.setUint32(4, b, true);
  scratch.setInt32(8, c, true);
  scratch.setUint32(12, d, true);
  return scratchBytes;
}

/**
 * Checksum of a batch row whose body is `bytes[start, end)`.
 *
 * @example
 * ```ts
 * const crc = batchChecksum(1, 0, 0, body, 0, body.length);
 * ```
 */
export function batchChecksum(runId: number, seq: number, stepIter: number | null, bytes: Uint8Array, start: number, end: number): number {
  return crc32cRange(bytes, start, end, crc32c(words(runId, seq, stepIter ?? -1, end - start)));
}

/** Checksum of a metric_names row. */
export function nameChecksum(runId: number, id: number, name: string): number {
  return crc32c(encoder.encode(name), crc32c(words(runId, id, 0, 0).subarray(0, 8)));
}

/** Checksum of a rewinds row. */
export function rewindChecksum(runId: number, seq: number, toIter: number, toSeq: number): number {
  return crc32c(words(runId, seq, toIter, toSeq));
}

/** Checksum of a run_extents row. */
export function extentChecksum(runId: number, lastSeq: number): number {
  return crc32c(words(runId, lastSeq, 0, 0).subarray(0, 8));
}

/** Checksum of a runs row. */
export function runChecksum(id: number, createdAt: number, name: string): number {
  scratch.setUint32(0, id, true);
  scratch.setFloat64(4, createdAt, true);
  return crc32c(encoder.encode(name), crc32c(scratchBytes.subarray(0, 12)));
}

/**
 * Throws `LogCorruptError` naming the row when a stored checksum (not null) differs from the
 * computed one.
 *
 * @example
 * ```ts
 * verifyChecksum(stored, nameChecksum(run, id, name), () => `run ${run} metric name ${id}`, path);
 * ```
 */
export function verifyChecksum(stored: number | null, computed: number, what: () => string, path: string): void {
  if (stored === null || stored === computed) return;
  throw new LogCorruptError(
    `${path}: ${what()} fails its checksum (stored ${stored}, computed ${computed}): the file was changed after it was written; the rest of the log is unaffected`,
  );
}
