/**
 * A single-producer single-consumer byte ring in a SharedArrayBuffer: the training thread hands
 * encoded batches to the log's writer thread without a syscall, a copy through the structured
 * clone, or a promise. Writing a batch costs a memcpy and one atomic add; SQLite's commit cost
 * (~3–30 µs) is paid on the other core.
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
const CTRL_SLOTS = 16;
const ERROR_BYTES = 4096;
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

/** The training thread's end of the ring. */
export class RingProducer {
  readonly ctrl: Int32Array;
  readonly #data: Uint8Array;
  readonly #view: DataView;
  readonly #capacity: number;
  readonly #error: Uint8Array;
  #head = 0;

  constructor(ring: RingLayout) {
    const p = parts(ring);
    this.ctrl = p.ctrl;
    this.#data = p.data;
    this.#view = p.view;
    this.#error = p.error;
    this.#capacity = ring.capacity;
  }

  /** Largest message the ring takes. */
  get maxMessage(): number {
    return (this.#capacity >> 1) - 8;
  }

  /**
   * Copies `header` then `body` into the ring as one message. Blocks (Atomics.wait) only when the
   * consumer is a full ring behind, which bounds memory and the amount a crash can lose.
   */
  write(header: Uint8Array, body: Uint8Array): void {
    const len = header.length + body.length;
    const cap = this.#capacity;
    let head = this.#head;
    let skip = 0;
    if (head + 4 + len > cap) {
      skip = cap - head;
      if (skip >= 4) this.#view.setUint32(head, WRAP, true);
      head = 0;
    }
    const total = skip + 4 + len;
    const ctrl = this.ctrl;
    for (;;) {
      const used = Atomics.load(ctrl, CTRL_USED);
      if (cap - used >= total) break;
      if (Atomics.load(ctrl, CTRL_ERROR) !== 0) return; // the consumer is gone; the caller reads the error
      Atomics.wait(ctrl, CTRL_USED, used, 50);
    }
    this.#view.setUint32(head, len, true);
    this.#data.set(header, head + 4);
    this.#data.set(body, head + 4 + header.length);
    this.#head = head + 4 + len;
    // Publishing the size after the bytes are in place is what makes them visible to the consumer.
    Atomics.add(ctrl, CTRL_USED, total);
    if (Atomics.load(ctrl, CTRL_SLEEPING) !== 0) Atomics.notify(ctrl, CTRL_USED);
  }

  errorText(): string {
    const n = Atomics.load(this.ctrl, CTRL_ERROR_LENGTH);
    return Buffer.from(this.#error.slice(0, n)).toString('utf8');
  }
}

/** The writer thread's end of the ring. */
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
   * Reads every whole message published so far (copied out, so the space can be released) and
   * returns them with the byte count to release once they are durable.
   */
  readAvailable(): { readonly messages: Buffer[]; readonly bytes: number } {
    const available = Atomics.load(this.ctrl, CTRL_USED);
    const messages: Buffer[] = [];
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
      messages.push(Buffer.from(this.#data.subarray(tail + 4, tail + 4 + len)));
      tail += 4 + len;
      consumed += 4 + len;
    }
    this.#tail = tail;
    return { messages, bytes: consumed };
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
  }
}
