import { TfEventsFormatError } from './errors.js';
import { WireType } from './proto-wire-type.js';
import { decodeUtf8 } from './utf8.js';

const TWO_POW_32 = 0x1_0000_0000;

// Fixed-width values are copied here and read through one shared DataView, instead of giving
// every (often tiny, nested) reader its own DataView: that allocation dominated decoding.
const scratchBytes = new Uint8Array(8);
const scratchView = new DataView(scratchBytes.buffer);

/** A decoded field key. */
export interface ProtoKey {
  readonly field: number;
  readonly wireType: WireType;
}

/**
 * Reads protobuf wire-format primitives from a byte range. Every malformed input (a varint that
 * runs off the end, a length past the end, an unknown wire type) throws
 * {@link TfEventsFormatError} with reason `invalid-event` and the absolute offset of the problem;
 * `baseOffset` is where `bytes` starts in the enclosing file, so those offsets are file offsets.
 *
 * @example
 * ```ts
 * const r = new ProtoReader(new Uint8Array([0x10, 0x07]));
 * r.key(); // { field: 2, wireType: 0 }
 * r.int64(); // 7
 * ```
 */
export class ProtoReader {
  /** Shared by a reader and the readers of its embedded messages, which only narrow the window. */
  readonly #bytes: Uint8Array;
  /** Absolute offset of `#bytes[0]`. */
  readonly #baseOffset: number;
  readonly #end: number;
  #pos: number;
  /** High half of the last varint read; kept here so reading a varint allocates nothing. */
  #varintHi = 0;

  /** Reads `bytes[start, end)`; offsets in errors are `baseOffset` + the index in `bytes`. */
  constructor(bytes: Uint8Array, baseOffset = 0, start = 0, end = bytes.length) {
    // A plain Uint8Array: indexing and subarray on a Buffer (what fs returns) are slower.
    this.#bytes = bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#baseOffset = baseOffset;
    this.#pos = start;
    this.#end = end;
  }

  /** True once every byte has been consumed. */
  get done(): boolean {
    return this.#pos >= this.#end;
  }

  /** Absolute offset of the next byte to be read. */
  get offset(): number {
    return this.#baseOffset + this.#pos;
  }

  /** Reads a field key. */
  key(): ProtoKey {
    const at = this.offset;
    const lo = this.#varint();
    const field = lo >>> 3;
    const wireType = lo & 7;
    if (this.#varintHi !== 0 || field === 0) {
      throw this.#error(at, `field key at offset ${at} has field number ${this.#varintHi !== 0 ? '>= 2^29' : 0}; expected 1 to 2^29 - 1`);
    }
    if (wireType !== WireType.varint && wireType !== WireType.i64 && wireType !== WireType.len && wireType !== WireType.i32) {
      throw this.#error(at, `field ${field} at offset ${at} has wire type ${wireType}; expected 0, 1, 2 or 5`);
    }
    return { field, wireType };
  }

  /**
   * Reads an int64 varint as a number. Values outside the safe-integer range are rejected rather
   * than rounded, because a silently rounded step would misplace a point on TensorBoard's x axis.
   */
  int64(): number {
    const at = this.offset;
    const lo = this.#varint();
    const hi = this.#varintHi;
    if (hi < 0x8000_0000) {
      const value = hi * TWO_POW_32 + lo;
      if (hi < 0x20_0000) return value;
      throw this.#error(at, `int64 at offset ${at} is ${value} or more; expected at most Number.MAX_SAFE_INTEGER`);
    }
    // Negative: the magnitude is the two's complement of (hi, lo).
    const magLo = (~lo + 1) >>> 0;
    const magHi = (~hi + (magLo === 0 ? 1 : 0)) >>> 0;
    const magnitude = magHi * TWO_POW_32 + magLo;
    if (magHi < 0x20_0000 && magnitude <= Number.MAX_SAFE_INTEGER) return -magnitude;
    throw this.#error(at, `int64 at offset ${at} is below Number.MIN_SAFE_INTEGER; expected a safe integer`);
  }

  /** Reads an int32/enum varint; negative values arrive sign-extended to ten bytes. */
  int32(): number {
    return this.#varint() | 0;
  }

  /** Reads a little-endian double. */
  double(): number {
    this.#copyToScratch(8);
    return scratchView.getFloat64(0, true);
  }

  /** Reads a little-endian float32, widened to a number. */
  float(): number {
    this.#copyToScratch(4);
    return scratchView.getFloat32(0, true);
  }

  /** Reads a length-delimited payload as a view into the input (no copy). */
  bytes(): Uint8Array {
    const start = this.#lengthDelimited();
    return this.#bytes.subarray(start, this.#pos);
  }

  /** Reads a length-delimited UTF-8 string; invalid UTF-8 is an error, not replaced. */
  string(): string {
    const at = this.offset;
    const start = this.#lengthDelimited();
    try {
      return decodeUtf8(this.#bytes, start, this.#pos);
    } catch (cause) {
      throw new TfEventsFormatError('invalid-event', at, `string field at offset ${at} is not valid UTF-8; expected UTF-8 text`, { cause });
    }
  }

  /** Reads a length-delimited embedded message as a reader that reports absolute offsets. */
  message(): ProtoReader {
    const start = this.#lengthDelimited();
    return new ProtoReader(this.#bytes, this.#baseOffset, start, this.#pos);
  }

  /** Skips over the value of a field this decoder does not interpret. */
  skip(wireType: WireType): void {
    switch (wireType) {
      case WireType.varint:
        this.#varint();
        return;
      case WireType.i64:
        this.#advance(8);
        return;
      case WireType.len:
        this.#lengthDelimited();
        return;
      case WireType.i32:
        this.#advance(4);
        return;
    }
  }

  /**
   * Throws the error for a field whose wire type is not the one its schema declares. Strict rather
   * than skipping, because a mismatch here means the bytes are not the message we think they are.
   */
  wrongWireType(name: string, key: ProtoKey, expected: WireType, at: number): never {
    throw this.#error(at, `field ${key.field} (${name}) at offset ${at} has wire type ${key.wireType}; expected ${expected}`);
  }

  /** Consumes a length prefix and the payload it announces; returns the payload's start index. */
  #lengthDelimited(): number {
    const at = this.offset;
    const length = this.#varint();
    const remaining = this.#end - this.#pos;
    if (this.#varintHi !== 0 || length > remaining) {
      throw this.#error(
        at,
        `length-delimited field at offset ${at} declares ${this.#varintHi !== 0 ? 'over 2^32' : length} bytes; expected at most the ${remaining} remaining`,
      );
    }
    const start = this.#pos;
    this.#pos += length;
    return start;
  }

  /**
   * Reads up to ten varint bytes; returns the low 32 bits of the uint64 and leaves the high 32 in
   * `#varintHi`.
   */
  #varint(): number {
    const bytes = this.#bytes;
    const start = this.#pos;
    const end = Math.min(this.#end, start + 10);
    let lo = 0;
    let hi = 0;
    for (let i = start, shift = 0; i < end; i++, shift += 7) {
      // i < end <= bytes.length: in range.
      const byte = bytes[i]!;
      const b = byte & 0x7f;
      // Byte 4 straddles the halves: its low 4 bits end `lo`, its high 3 bits start `hi`.
      if (shift < 28) lo |= b << shift;
      else if (shift === 28) {
        lo |= b << 28;
        hi = b >>> 4;
      } else hi |= b << (shift - 32);
      if (byte < 0x80) {
        this.#pos = i + 1;
        this.#varintHi = hi >>> 0;
        return lo >>> 0;
      }
    }
    const at = this.#baseOffset + start;
    if (end - start === 10) throw this.#error(at, `varint at offset ${at} is longer than 10 bytes; expected at most 10`);
    throw this.#error(at, `varint at offset ${at} runs past the end of its ${this.#end - start} remaining bytes; expected a terminating byte below 0x80`);
  }

  #copyToScratch(count: number): void {
    const start = this.#advance(count);
    scratchBytes.set(this.#bytes.subarray(start, start + count));
  }

  #advance(count: number): number {
    const start = this.#pos;
    if (this.#end - start < count) {
      const at = this.#baseOffset + start;
      throw this.#error(at, `fixed-width value at offset ${at} needs ${count} bytes; only ${this.#end - start} remain`);
    }
    this.#pos += count;
    return start;
  }

  #error(at: number, message: string): TfEventsFormatError {
    return new TfEventsFormatError('invalid-event', at, message);
  }
}
