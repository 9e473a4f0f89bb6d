// The storage under HistoryBuffer: samples live in fixed-size blocks of typed-array chunks shared
// by every version of a history; a chunk slot is written only by the first version to reach it.

// Blocks of 4096 samples: a full chunk is 48 KiB of typed arrays, so per-chunk overhead is noise
// next to the 12 bytes a sample costs (f64 value + u32 iteration), and copying a tail chunk on a
// branch is cheap.
export const CHUNK = 4096;
/** Slots a chunk starts with: a metric put twice costs 96 bytes of samples, not a whole block. */
const MIN_CHUNK = 8;
/**
 * Chunks of at most this many slots are carved from shared slabs: a typed array's own overhead
 * outweighs a few samples, and a wide run has one small chunk per metric.
 */
const SLAB_CHUNK_MAX = 64;
/** Slots per slab (48 KiB of samples). */
const SLAB = 4096;

/**
 * Storage for slots `lo .. lo + cap − 1` of one block (a full-size chunk has lo 0 and the
 * block's every slot), slot s at index `s + shift` of `values`/`iters`: arrays of its own, or a
 * slab it shares with other small chunks. `filled` is the slot after the last one written; it is
 * shared by every buffer that holds this chunk.
 */
export interface Chunk {
  readonly values: Float64Array;
  readonly iters: Uint32Array;
  readonly lo: number;
  readonly cap: number;
  readonly shift: number;
  filled: number;
}

let slabValues = new Float64Array(SLAB);
let slabIters = new Uint32Array(SLAB);
let slabUsed = 0;

function newChunk(lo: number, cap: number, filled: number): Chunk {
  // Never past its block: a read copies a chunk's slots up to its own end.
  cap = Math.min(cap, CHUNK - lo);
  if (cap > SLAB_CHUNK_MAX) return { values: new Float64Array(cap), iters: new Uint32Array(cap), lo, cap, shift: -lo, filled };
  // A slab is freed once no chunk carved from it is referenced any more.
  if (slabUsed + cap > SLAB) {
    slabValues = new Float64Array(SLAB);
    slabIters = new Uint32Array(SLAB);
    slabUsed = 0;
  }
  const at = slabUsed;
  slabUsed += cap;
  return { values: slabValues, iters: slabIters, lo, cap, shift: at - lo, filled };
}

/** Where an append (or a build) stands: `chunks` may be shared until `own` says it was copied. */
export interface Writing {
  chunks: Chunk[];
  own: boolean;
  base: number;
  end: number;
}

/**
 * Writes `values[i..n)` after `w.end`: in place when nobody wrote past it in the last chunk and
 * there is room, else into a new chunk (a new block, a full chunk grown geometrically, or a
 * branch's private copy of the tail). `liveFrom` is the first absolute index still retained once
 * all is written (earlier slots are not copied when a chunk is replaced); `planned` how many
 * samples are still to come, this call's included (to size a chunk once for a bulk write).
 */
export function write(w: Writing, values: ArrayLike<number>, iters: ArrayLike<number>, i: number, n: number, liveFrom: number, maxLength: number, planned: number): void {
  while (i < n) {
    const k = w.chunks.length - 1;
    const blockStart = w.base + k * CHUNK;
    let local = w.end - blockStart;
    let c = w.chunks[k];
    if (c === undefined || local === CHUNK) {
      // A new block. Past the first block a history is long: give it what maxLength lets it
      // keep of the block at once (a full chunk by default), so long histories never copy.
      const slot = c === undefined ? w.end - w.base : 0;
      const expected = w.end >= CHUNK ? maxLength : 0;
      c = newChunk(slot, Math.min(CHUNK - slot, Math.max(MIN_CHUNK, planned, expected)), slot);
      if (!w.own) {
        w.chunks = w.chunks.slice();
        w.own = true;
      }
      w.chunks.push(c);
      local = slot;
    } else if (c.filled !== local || local === c.lo + c.cap) {
      // Full, or a branch (another version already wrote past our end here): a new chunk with
      // the retained slots, twice as many as they are (O(1) amortized), so the other version
      // never sees our samples.
      const from = Math.min(local, Math.max(c.lo, liveFrom - blockStart));
      const live = local - from;
      const grown = newChunk(from, Math.min(CHUNK - from, Math.max(MIN_CHUNK, 2 * live, live + planned)), local);
      grown.values.set(c.values.subarray(from + c.shift, local + c.shift), from + grown.shift);
      grown.iters.set(c.iters.subarray(from + c.shift, local + c.shift), from + grown.shift);
      if (!w.own) {
        w.chunks = w.chunks.slice();
        w.own = true;
      }
      w.chunks[k] = c = grown;
    }
    // Nobody has written past our end in `c`: append in place, invisibly to older versions
    // (they stop at their own end).
    const at = local + c.shift;
    const m = Math.min(c.lo + c.cap - local, n - i);
    const cv = c.values;
    const ci = c.iters;
    for (let j = 0; j < m; j++) {
      cv[at + j] = values[i + j]!;
      ci[at + j] = iters[i + j]!;
    }
    c.filled = local + m;
    w.end += m;
    i += m;
    planned -= m;
  }
}

/**
 * Copies the `n` samples before absolute index `end` of a history's `chunks` (the first one's
 * slot 0 at absolute `base`) into `values` (and `iters` if given): a run of a chunk at a time, a
 * typed-array copy rather than a division per sample.
 */
export function copyNewest(chunks: readonly Chunk[], base: number, end: number, n: number, values: Float64Array, iters: Uint32Array | null): void {
  let abs = end - n;
  let i = 0;
  while (i < n) {
    const off = abs - base;
    const c = chunks[(off / CHUNK) | 0]!;
    const slot = off % CHUNK;
    const m = Math.min(c.lo + c.cap - slot, n - i);
    const from = slot + c.shift;
    if (m <= 64) {
      // A few samples (a writer's every-20-steps read): a loop, not two views and two sets.
      const cv = c.values;
      for (let k = 0; k < m; k++) values[i + k] = cv[from + k]!;
      if (iters !== null) {
        const ci = c.iters;
        for (let k = 0; k < m; k++) iters[i + k] = ci[from + k]!;
      }
    } else {
      values.set(c.values.subarray(from, from + m), i);
      if (iters !== null) iters.set(c.iters.subarray(from, from + m), i);
    }
    i += m;
    abs += m;
  }
}

/** Block `firstBlock + k` of a history's samples for `chunksOfBlocks`, holding its slots from `lo` on. */
export interface SampleBlock {
  readonly lo: number;
  readonly values: Float64Array;
  readonly iters: Uint32Array;
}

/**
 * The chunks holding absolute samples `start .. end − 1` from `blocks`, `blocks[k]` being block
 * `firstBlock + k`. A block of exactly the block size is adopted, not copied; others are copied.
 * Throws RangeError when the blocks do not cover the samples.
 */
export function chunksOfBlocks(firstBlock: number, blocks: readonly SampleBlock[], start: number, end: number): Chunk[] {
  const base = firstBlock * CHUNK;
  if (end > start && (start < base || start >= base + CHUNK || base + blocks.length * CHUNK < end || end - base <= (blocks.length - 1) * CHUNK)) {
    throw new RangeError(`fromBlocks: blocks ${firstBlock}..${firstBlock + blocks.length - 1} do not cover samples ${start}..${end - 1}`);
  }
  const chunks: Chunk[] = [];
  for (let k = 0; k < blocks.length && end > start; k++) {
    const b = blocks[k]!;
    const at = base + k * CHUNK;
    // The slots this history reads in this block, and how many the block must hold.
    const from = Math.max(start, at) - at;
    const filled = Math.min(CHUNK, end - at);
    if (b.lo > from || b.lo + b.values.length < filled || b.iters.length !== b.values.length) {
      throw new RangeError(`fromBlocks: block ${firstBlock + k} holds slots ${b.lo}..${b.lo + b.values.length - 1}, needs ${from}..${filled - 1}`);
    }
    if (b.lo === 0 && b.values.length === CHUNK && b.iters.length === CHUNK) {
      chunks.push({ values: b.values, iters: b.iters, lo: 0, cap: CHUNK, shift: 0, filled });
    } else {
      // Just the slots read: appends grow the chunk as they need.
      const c = newChunk(from, Math.min(CHUNK - from, Math.max(MIN_CHUNK, filled - from)), filled);
      c.values.set(b.values.subarray(from - b.lo, filled - b.lo), from + c.shift);
      c.iters.set(b.iters.subarray(from - b.lo, filled - b.lo), from + c.shift);
      chunks.push(c);
    }
  }
  return chunks;
}
