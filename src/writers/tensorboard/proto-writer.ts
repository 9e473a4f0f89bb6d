import { InvalidArgumentError } from '../../errors/trainledger-error.js';
import type { WireType } from './proto-wire-type.js';
import { utf8ByteLength, writeUtf8 } from './utf8.js';

const TWO_POW_32 = 0x1_0000_0000;

/**
 * Splits a safe integer into the low and high 32-bit halves of its int64 two's complement, using
 * only exact double arithmetic (no BigInt on the hot path).
 */
function splitInt64(value: number): [lo: number, hi: number] {
  if (!Number.isSafeInteger(value)) {
    throw new InvalidArgumentError(`int64 value ${value} is not representable; expected a safe integer`);
  }
  if (value >= 0) return [value % TWO_POW_32, Math.floor(value / TWO_POW_32)];
  const magnitude = -value;
  // Two's complement negation of the 64-bit magnitude: invert both halves, add one with carry.
  const lo = (~(magnitude % TWO_POW_32) + 1) >>> 0;
  const hi = (~Math.floor(magnitude / TWO_POW_32) + (lo === 0 ? 1 : 0)) >>> 0;
  return [lo, hi];
}

/**
 * Appends protobuf wire-format primitives to a growable byte buffer. It knows nothing about
 * messages: callers write keys and values in field order, and compute nested message sizes up
 * front with the static `*Size` helpers (which avoids re-copying nested messages).
 *
 * @example
 * ```ts
 * const w = new ProtoWriter();
 * w.key(2, WireType.varint).int64(7);
 * w.finish(); // Uint8Array [0x10, 0x07]
 * ```
 */
export class ProtoWriter {
  #bytes: Uint8Array;
  #view: DataView;
  #length = 0;

  constructor(initialCapacity = 64) {
    this.#bytes = new Uint8Array(Math.max(16, initialCapacity));
    this.#view = new DataView(this.#bytes.buffer);
  }

  /** Number of bytes written so far. */
  get length(): number {
    return this.#length;
  }

  /**
   * Bytes of a varint holding a non-negative integer below 2^32 (a length or an enum).
   *
   * @example
   * ```ts
   * ProtoWriter.uint32Size(300); // 2
   * ```
   */
  static uint32Size(value: number): number {
    if (value < 0x80) return 1;
    if (value < 0x4000) return 2;
    if (value < 0x20_0000) return 3;
    if (value < 0x1000_0000) return 4;
    return 5;
  }

  /**
   * Bytes of the varint of an int64 field holding `value` (10 for any negative value).
   *
   * @example
   * ```ts
   * ProtoWriter.int64Size(-1); // 10
   * ```
   */
  static int64Size(value: number): number {
    let [lo, hi] = splitInt64(value);
    let size = 1;
    while (hi !== 0 || lo > 0x7f) {
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
      size++;
    }
    return size;
  }

  /** Writes a field key: the field number and wire type packed into one varint. */
  key(field: number, wireType: WireType): this {
    return this.uint32(((field << 3) | wireType) >>> 0);
  }

  /** Writes a non-negative integer below 2^32 as a varint. */
  uint32(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value >= TWO_POW_32) {
      throw new InvalidArgumentError(`uint32 value ${value} is out of range; expected an integer in [0, 2^32)`);
    }
    this.#reserve(5);
    const bytes = this.#bytes;
    let pos = this.#length;
    let v = value;
    while (v > 0x7f) {
      bytes[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    bytes[pos++] = v;
    this.#length = pos;
    return this;
  }

  /** Writes a safe integer as an int64 varint; exact for every |value| up to 2^53 - 1. */
  int64(value: number): this {
    let [lo, hi] = splitInt64(value);
    this.#reserve(10);
    const bytes = this.#bytes;
    let pos = this.#length;
    while (hi !== 0 || lo > 0x7f) {
      bytes[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    bytes[pos++] = lo;
    this.#length = pos;
    return this;
  }

  /** Writes an IEEE 754 double, little-endian. NaN is written as the canonical quiet NaN. */
  double(value: number): this {
    this.#reserve(8);
    // The spec lets engines pick any NaN bit pattern; fixing one keeps output byte-deterministic.
    if (Number.isNaN(value)) {
      this.#view.setUint32(this.#length, 0, true);
      this.#view.setUint32(this.#length + 4, 0x7ff8_0000, true);
    } else {
      this.#view.setFloat64(this.#length, value, true);
    }
    this.#length += 8;
    return this;
  }

  /** Writes `value` rounded to float32, little-endian. NaN is written as the canonical quiet NaN. */
  float(value: number): this {
    this.#reserve(4);
    if (Number.isNaN(value)) this.#view.setUint32(this.#length, 0x7fc0_0000, true);
    else this.#view.setFloat32(this.#length, value, true);
    this.#length += 4;
    return this;
  }

  /** Writes a length-delimited payload: its length as a varint, then the bytes. */
  lengthDelimited(payload: Uint8Array): this {
    this.uint32(payload.length);
    this.#reserve(payload.length);
    this.#bytes.set(payload, this.#length);
    this.#length += payload.length;
    return this;
  }

  /** Writes bytes as they are (an already encoded run of fields). */
  raw(bytes: Uint8Array): this {
    this.#reserve(bytes.length);
    this.#bytes.set(bytes, this.#length);
    this.#length += bytes.length;
    return this;
  }

  /**
   * Writes a length-delimited UTF-8 string. Pass `byteLength` when it is already known (it was
   * needed for an enclosing message's size) to skip measuring the string again.
   */
  string(text: string, byteLength = utf8ByteLength(text, 'string')): this {
    this.uint32(byteLength);
    this.#reserve(byteLength);
    this.#length = writeUtf8(text, this.#bytes, this.#length);
    return this;
  }

  /** The bytes written so far (a view, valid until the next write or `reset()`). */
  finish(): Uint8Array {
    return this.#bytes.subarray(0, this.#length);
  }

  /** Forgets the bytes written so far but keeps the buffer, so one writer can encode many messages. */
  reset(): this {
    this.#length = 0;
    return this;
  }

  #reserve(extra: number): void {
    const needed = this.#length + extra;
    if (needed <= this.#bytes.length) return;
    const grown = new Uint8Array(Math.max(needed, this.#bytes.length * 2));
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
    this.#view = new DataView(grown.buffer);
  }
}
