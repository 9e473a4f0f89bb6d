import { crc32c } from '../util/crc32c.js';
import { HISTORY_BLOCK_SIZE, type HistoryBuffer } from '../storage/history-buffer.js';

/** Series number of the step times in the blocks table (metrics are 0, 1, ...). */
export const STEPS_SERIES = -1;
/** Samples per block: a block is a chunk of the histories, stored and read back whole. */
export const BLOCK = HISTORY_BLOCK_SIZE;

/** Block number `block` of a series, from its sample `lo` on (samples before `lo` fell out of the history). */
export interface SnapshotBlock {
  readonly block: number;
  readonly lo: number;
  readonly values: Float64Array;
  readonly iters: Uint32Array;
}

/**
 * The blocks of `h` holding samples appended after the first `since` (whole blocks: one the
 * parent held in part is stored again, complete), limited to the samples `h` retains.
 */
export function newBlocks(h: HistoryBuffer, since: number): SnapshotBlock[] {
  const count = h.count;
  const retained = count - h.length;
  if (since >= count) return [];
  const from = Math.max(retained, Math.floor(Math.max(since, retained) / BLOCK) * BLOCK);
  const { values, iters } = h.columns(count - from);
  const out: SnapshotBlock[] = [];
  for (let at = from; at < count; ) {
    const block = Math.floor(at / BLOCK);
    const to = Math.min((block + 1) * BLOCK, count);
    out.push({ block, lo: at - block * BLOCK, values: values.subarray(at - from, to - from), iters: iters.subarray(at - from, to - from) });
    at = to;
  }
  return out;
}

/** The checksum of a block row (its `crc`). */
export function blockChecksum(lo: number, vals: Uint8Array, iters: Uint8Array): number {
  return crc32c(iters, crc32c(vals, lo));
}

/** The checksum of a snapshot row's header and info (its `crc`). */
export function textChecksum(header: string, info: string): number {
  return crc32c(Buffer.from(info), crc32c(Buffer.from(header)));
}

/** The bytes of a typed array, as a Buffer over the same memory (a block's blob). */
export function bytesOf(a: Float64Array | Uint32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** A typed view of a blob SQLite handed over (a fresh, aligned allocation), or a copy. */
export function typedOf<T extends Float64Array | Uint32Array>(blob: Buffer, Type: { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; new (length: number): T; readonly BYTES_PER_ELEMENT: number }): T {
  const n = blob.byteLength / Type.BYTES_PER_ELEMENT;
  if (!Number.isInteger(n)) throw new RangeError(`a block of ${blob.byteLength} bytes is not a whole number of samples`);
  if (blob.byteOffset % Type.BYTES_PER_ELEMENT === 0) return new Type(blob.buffer, blob.byteOffset, n);
  const copy = new Type(n);
  new Uint8Array(copy.buffer).set(blob);
  return copy;
}
