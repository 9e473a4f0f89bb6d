/**
 * A single-producer single-consumer byte ring in a SharedArrayBuffer: the training thread hands
 * encoded batches to the log's commit thread without a syscall, a copy through the structured
 * clone, or a promise. The training thread encodes straight into the ring and hands a batch
 * over with one atomic add; the commit thread reads it in place; SQLite's commit cost is paid
 * on the other core.
 *
 * Layout: an Int32 control block, an error-text area, then the data area. Messages are
 * `u32 length` + payload. A message never wraps: when it does not fit before the end, the
 * producer leaves a wrap marker (or, with fewer than 4 bytes left, nothing) and restarts at 0;
 * the consumer mirrors the same rule. `USED` counts bytes in flight including skipped tails.
 */
export const CTRL_USED = 0;
export const CTRL_SLEEPING = 1;
export const CTRL_CLOSED = 2;
export const CTRL_COMMITTED_SEQ = 3;
export const CTRL_ERROR = 4;
export const CTRL_FLUSH_TO = 5;
export const CTRL_ERROR_LENGTH = 6;
export const CTRL_READY = 7;
/** Set (1) by the commit thread when a metric writer running there failed. */
export const CTRL_PROJECTION_ERROR = 8;
/** Int32 slots of the control block, then bytes of the error-text area (the data area follows). */
export const CTRL_SLOTS = 16;
export const ERROR_BYTES = 4096;
const WRAP = 0xffffffff;

export interface RingLayout {
  readonly sab: SharedArrayBuffer;
  readonly capacity: number;
}

/**
 * Allocates a ring of `capacity` data bytes.
 *
 * @example
 * ```ts
 * const ring = createRing(1 << 24);
 * ```
 */
export function createRing(capacity: number): RingLayout {
  const sab = new SharedArrayBuffer(CTRL_SLOTS * 4 + ERROR_BYTES + capacity);
  return { sab, capacity };
}

function parts(ring: RingLayout): { ctrl: Int32Array; error: Uint8Array; data: Uint8Array; view: DataView } {
  const ctrl = new Int32Array(ring.sab, 0, CTRL_SLOTS);
  const error = new Uint8Array(ring.sab, CTRL_SLOTS * 4, ERROR_BYTES);
  const data = new Uint8Array(ring.sab, CTRL_SLOTS * 4 + ERROR_BYTES, ring.capacity);
  return { ctrl, error, data, view: new DataView(ring.sab, CTRL_SLOTS * 4 + ERROR_BYTES, ring.capacity) };
}

/**
 * The training thread's end of the ring. Messages are built in place: `reserve` hands out room
 * in the open message (the caller writes its bytes straight into `data`/`view`), `end` closes
 * it, and `publish` makes every closed message visible to the consumer with one atomic add. So
 * encoding a record is a few DataView stores: no staging buffer, no copy, no allocation.
 */
export class RingProducer {
  readonly ctrl: Int32Array;
  /** The data area; `reserve` returns offsets into it. */
  readonly data: Uint8Array;
  /** The data area as a DataView. */
  readonly view: DataView;
  readonly #capacity: number;
  readonly #error: Uint8Array;
  /** Where the open message's length prefix is. */
  #head = 0;
  /** Bytes of the open message reserved so far (after its length prefix). */
  #open = 0;
  /** Bytes skipped at the ring's end to keep the open message whole, not yet in USED. */
  #skip = 0;
  /** Bytes of closed messages (prefixes and skips included) not yet in USED. */
  #unpublished = 0;
  /** `capacity - USED` as last read, less what was published since: a lower bound of the room. */
  #free: number;

  constructor(ring: RingLayout) {
    const p = parts(ring);
    this.ctrl = p.ctrl;
    this.data = p.data;
    this.view = p.view;
    this.#error = p.error;
    this.#capacity = ring.capacity;
    this.#free = ring.capacity;
  }

  /** Largest message the ring takes. */
  get maxMessage(): number {
    return (this.#capacity >> 1) - 8;
  }

  /** Bytes reserved in the open message so far. */
  get openLength(): number {
    return this.#open;
  }

  /** Offset in `data` of the open message's first byte (it can move until the next `reserve`). */
  get openAt(): number {
    return this.#head + 4;
  }

  /**
   * Reserves `n` more bytes at the end of the open message (opening one if none is) and returns
   * their offset in `data`, or -1 when the consumer has failed and the ring is full. A message
   * never wraps: one that would run past the end of the ring is moved to its start (a memmove
   * of what was written, once per lap of the ring). Blocks (Atomics.wait) only while the
   * consumer is a full ring behind, which bounds memory and what a crash can lose. The caller
   * keeps messages within `maxMessage`.
   */
  reserve(n: number): number {
    const cap = this.#capacity;
    const head = this.#head;
    const open = this.#open;
    const length = open + n;
    if (head + 4 + length > cap) {
      const skip = cap - head;
      if (!this.#room(this.#unpublished + this.#skip + skip + 4 + length)) return -1;
      // No overlap: the message is under half the ring, so it started past the middle.
      if (open > 0) this.data.copyWithin(4, head + 4, head + 4 + open);
      if (skip >= 4) this.view.setUint32(head, WRAP, true);
      this.#skip += skip;
      this.#head = 0;
      this.#open = length;
      return 4 + open;
    }
    if (!this.#room(this.#unpublished + this.#skip + 4 + length)) return -1;
    this.#open = length;
    return head + 4 + open;
  }

  #room(required: number): boolean {
    if (required <= this.#free) return true;
    const ctrl = this.ctrl;
    for (;;) {
      const used = Atomics.load(ctrl, CTRL_USED);
      this.#free = this.#capacity - used;
      if (required <= this.#free) return true;
      if (Atomics.load(ctrl, CTRL_ERROR) !== 0) return false; // the consumer is gone; the caller reads the error
      Atomics.wait(ctrl, CTRL_USED, used, 50);
    }
  }

  /**
   * Closes the open message (which must have had a `reserve`), keeping its first `length` bytes
   * (default: all reserved); it is sent at the next `publish`.
   */
  end(length = this.#open): void {
    if (length > this.#open) throw new RangeError(`end(${length}): only ${this.#open} bytes were reserved`);
    this.view.setUint32(this.#head, length, true);
    this.#unpublished += this.#skip + 4 + length;
    this.#head += 4 + length;
    this.#open = 0;
    this.#skip = 0;
  }

  /** Drops the open message. */
  discard(): void {
    // A skip already taken stays pending: the consumer will cross that wrap marker, so the
    // bytes are published (counted) with the next message.
    this.#open = 0;
  }

  /** Makes every closed message visible to the consumer. */
  publish(): void {
    const total = this.#unpublished;
    if (total === 0) return;
    this.#unpublished = 0;
    this.#free -= total;
    const ctrl = this.ctrl;
    // Publishing the size after the bytes are in place is what makes them visible to the consumer.
    Atomics.add(ctrl, CTRL_USED, total);
    if (Atomics.load(ctrl, CTRL_SLEEPING) !== 0) Atomics.notify(ctrl, CTRL_USED);
  }

  errorText(): string {
    const n = Atomics.load(this.ctrl, CTRL_ERROR_LENGTH);
    return Buffer.from(this.#error.slice(0, n)).toString('utf8');
  }
}

/** The commit thread's end of the ring. */
export class RingConsumer {
  readonly ctrl: Int32Array;
  readonly #data: Uint8Array;
  readonly #view: DataView;
  readonly #capacity: number;
  readonly #error: Uint8Array;
  #tail = 0;

  constructor(ring: RingLayout) {
    const p = parts(ring);
    this.ctrl = p.ctrl;
    this.#data = p.data;
    this.#view = p.view;
    this.#error = p.error;
    this.#capacity = ring.capacity;
  }

  /**
   * Visits every whole message published so far, in order, without copying: `visit` gets the
   * message's offset and length in `data` (and must not keep views of it past `release`).
   * Returns the byte count to release once the messages are durable; until then the producer
   * cannot reuse their space.
   */
  drain(visit: (at: number, length: number) => void): number {
    const available = Atomics.load(this.ctrl, CTRL_USED);
    let consumed = 0;
    let tail = this.#tail;
    const cap = this.#capacity;
    while (consumed < available) {
      if (cap - tail < 4) {
        consumed += cap - tail;
        tail = 0;
        continue;
      }
      const len = this.#view.getUint32(tail, true);
      if (len === WRAP) {
        consumed += cap - tail;
        tail = 0;
        continue;
      }
      visit(tail + 4, len);
      tail += 4 + len;
      consumed += 4 + len;
    }
    this.#tail = tail;
    return consumed;
  }

  /** The data area, which `drain` offsets index into. */
  get data(): Uint8Array {
    return this.#data;
  }

  /** The data area as a DataView, for reading message headers in place. */
  get view(): DataView {
    return this.#view;
  }

  release(bytes: number): void {
    Atomics.sub(this.ctrl, CTRL_USED, bytes);
    Atomics.notify(this.ctrl, CTRL_USED);
  }

  setError(message: string): void {
    const bytes = Buffer.from(message, 'utf8').subarray(0, this.#error.length);
    this.#error.set(bytes);
    Atomics.store(this.ctrl, CTRL_ERROR_LENGTH, bytes.length);
    Atomics.store(this.ctrl, CTRL_ERROR, 1);
    Atomics.notify(this.ctrl, CTRL_COMMITTED_SEQ);
    Atomics.notify(this.ctrl, CTRL_USED);
    Atomics.notify(this.ctrl, CTRL_READY);
  }
}
