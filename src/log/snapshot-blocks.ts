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
