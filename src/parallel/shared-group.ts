import { InvalidArgumentError } from '../errors/trainledger-error.js';
import { CommAbortedError, CommTimeoutError } from './errors.js';

// Control words (Int32) at the start of the group's memory.
const ARRIVED = 0;
const GENERATION = 1;
const ABORTED = 2;
/** Per rank from here: bytes the rank put in its slot for the collective in progress. */
const LENGTHS = 4;

/** What every rank of a group is given (structured-clonable: it crosses to worker threads). */
export interface SharedGroupInit {
  readonly sab: SharedArrayBuffer;
  readonly worldSize: number;
  /** Bytes of each rank's exchange slot. */
  readonly slotBytes: number;
  /** A collective that waits longer than this for the others throws CommTimeoutError. */
  readonly timeoutMs: number;
}

/**
 * Creates the shared memory of a group of `worldSize` ranks: a barrier and one exchange slot
 * per rank (8-byte aligned, `slotBytes` each).
 *
 * @example
 * ```ts
 * const init = createSharedGroup(2);
 * const rank0 = new SharedGroup(init, 0);
 * ```
 */
export function createSharedGroup(worldSize: number, options: { readonly slotBytes?: number; readonly timeoutMs?: number } = {}): SharedGroupInit {
  if (!Number.isInteger(worldSize) || worldSize < 1) throw new InvalidArgumentError(`worldSize must be a positive integer, got ${String(worldSize)}`);
  const slotBytes = options.slotBytes ?? 4 << 20;
  if (!Number.isInteger(slotBytes) || slotBytes < 64 || slotBytes % 8 !== 0) throw new InvalidArgumentError(`slotBytes must be a multiple of 8 of at least 64, got ${String(slotBytes)}`);
  const timeoutMs = options.timeoutMs ?? 600_000;
  if (!(timeoutMs > 0)) throw new InvalidArgumentError(`timeoutMs must be a positive number of milliseconds, got ${String(timeoutMs)}`);
  return { sab: new SharedArrayBuffer(headerBytes(worldSize) + worldSize * slotBytes), worldSize, slotBytes, timeoutMs };
}

function headerBytes(worldSize: number): number {
  return Math.ceil(((LENGTHS + worldSize) * 4) / 8) * 8;
}

/**
 * One rank's view of a group's shared memory: a reusable barrier (a generation counter, so
 * back-to-back barriers cannot mix up their arrivals) and the exchange slots collectives write
 * into. Blocking is `Atomics.wait`, which Node allows on its main thread too, so rank 0 may be
 * the main thread. A rank that fails calls `abort`: every rank waiting, or arriving later,
 * throws CommAbortedError instead of waiting for it forever.
 *
 * @example
 * ```ts
 * const g = new SharedGroup(init, rank);
 * g.slot(rank).set(bytes); g.setLength(rank, bytes.length);
 * g.barrier(); // now every rank's slot is readable
 * ```
 */
export class SharedGroup {
  readonly worldSize: number;
  readonly rank: number;
  readonly slotBytes: number;
  readonly #ctrl: Int32Array;
  readonly #sab: SharedArrayBuffer;
  readonly #base: number;
  readonly #timeoutMs: number;

  constructor(init: SharedGroupInit, rank: number) {
    if (!Number.isInteger(rank) || rank < 0 || rank >= init.worldSize) throw new InvalidArgumentError(`rank must be an integer in [0, ${init.worldSize}), got ${String(rank)}`);
    this.worldSize = init.worldSize;
    this.rank = rank;
    this.slotBytes = init.slotBytes;
    this.#sab = init.sab;
    this.#ctrl = new Int32Array(init.sab, 0, LENGTHS + init.worldSize);
    this.#base = headerBytes(init.worldSize);
    this.#timeoutMs = init.timeoutMs;
  }

  /** Rank `r`'s exchange slot, as bytes. */
  slot(r: number): Uint8Array {
    return new Uint8Array(this.#sab, this.#base + r * this.slotBytes, this.slotBytes);
  }

  /** Rank `r`'s exchange slot, as float32s. */
  floats(r: number): Float32Array {
    return new Float32Array(this.#sab, this.#base + r * this.slotBytes, this.slotBytes / 4);
  }

  setLength(r: number, bytes: number): void {
    Atomics.store(this.#ctrl, LENGTHS + r, bytes);
  }

  length(r: number): number {
    return Atomics.load(this.#ctrl, LENGTHS + r);
  }

  /** Waits until every rank has arrived. `what` names the collective in errors. */
  barrier(what = 'barrier'): void {
    const ctrl = this.#ctrl;
    this.#checkAborted(what);
    const generation = Atomics.load(ctrl, GENERATION);
    if (Atomics.add(ctrl, ARRIVED, 1) === this.worldSize - 1) {
      Atomics.store(ctrl, ARRIVED, 0);
      Atomics.add(ctrl, GENERATION, 1);
      Atomics.notify(ctrl, GENERATION);
      return;
    }
    const deadline = performance.now() + this.#timeoutMs;
    while (Atomics.load(ctrl, GENERATION) === generation) {
      this.#checkAborted(what);
      const left = deadline - performance.now();
      if (left <= 0) {
        // The arrival count is now off by this rank: the group cannot be used again.
        this.abort();
        throw new CommTimeoutError(`rank ${this.rank}: ${what} waited ${this.#timeoutMs} ms for the other ranks (${Atomics.load(ctrl, ARRIVED)} of ${this.worldSize} arrived)`);
      }
      Atomics.wait(ctrl, GENERATION, generation, Math.min(left, 100));
    }
  }

  /** Marks the group failed and wakes every rank waiting in it. */
  abort(): void {
    Atomics.store(this.#ctrl, ABORTED, 1);
    Atomics.notify(this.#ctrl, GENERATION);
  }

  get aborted(): boolean {
    return Atomics.load(this.#ctrl, ABORTED) !== 0;
  }

  #checkAborted(what: string): void {
    if (this.aborted) throw new CommAbortedError(`rank ${this.rank}: ${what} cannot complete: another rank of the group failed`);
  }
}
