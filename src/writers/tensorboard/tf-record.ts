import { maskedCrc32c } from './crc32c.js';
import { TfEventsFormatError } from './errors.js';

/**
 * TFRecord framing (https://www.tensorflow.org/tutorials/load_data/tfrecord, TensorFlow's
 * record_writer), all integers little-endian:
 *
 *     uint64 length | uint32 masked_crc32c(length bytes) | data[length] | uint32 masked_crc32c(data)
 *
 * The length has its own CRC so a reader can tell a corrupt length from a short file before
 * trusting it to skip ahead.
 */

/** Bytes a record adds around its data: 8 (length) + 4 (length CRC) + 4 (data CRC). */
export const TF_RECORD_OVERHEAD = 16;

/** Bytes before a record's data: the length and its CRC. */
export const TF_RECORD_HEADER_SIZE = 12;
const TWO_POW_32 = 0x1_0000_0000;

/**
 * Frames `data` into `target` at `offset` and returns the offset just past the record. `target`
 * must have {@link TF_RECORD_OVERHEAD} + `data.length` bytes free there; this lets a writer frame
 * straight into its output buffer without an intermediate copy.
 *
 * @example
 * ```ts
 * const out = new Uint8Array(TF_RECORD_OVERHEAD + data.length);
 * writeTfRecord(out, 0, data); // out.length
 * ```
 */
export function writeTfRecord(target: Uint8Array, offset: number, data: Uint8Array): number {
  const view = new DataView(target.buffer, target.byteOffset, target.byteLength);
  view.setUint32(offset, data.length % TWO_POW_32, true);
  view.setUint32(offset + 4, Math.floor(data.length / TWO_POW_32), true);
  view.setUint32(offset + 8, maskedCrc32c(target.subarray(offset, offset + 8)), true);
  target.set(data, offset + TF_RECORD_HEADER_SIZE);
  const end = offset + TF_RECORD_HEADER_SIZE + data.length;
  view.setUint32(end, maskedCrc32c(data), true);
  return end + 4;
}

/**
 * Returns `data` framed as one TFRecord in a new array.
 *
 * @example
 * ```ts
 * frameTfRecord(new Uint8Array(0)).length; // 16
 * ```
 */
export function frameTfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(TF_RECORD_OVERHEAD + data.length);
  writeTfRecord(out, 0, data);
  return out;
}

/** One record found by {@link readTfRecords}: its data and where the record starts in the input. */
export interface TfRecord {
  readonly offset: number;
  readonly data: Uint8Array;
}

/**
 * Iterates the records of a TFRecord stream, verifying both CRCs of each. `data` views the input
 * (no copy). A stream ending inside a record throws {@link TfEventsFormatError} with reason
 * `truncated`; a CRC mismatch throws it with reason `corrupt`. Records before the bad one are
 * yielded first, so a caller can salvage them.
 *
 * @example
 * ```ts
 * for (const { offset, data } of readTfRecords(readFileSync(path))) console.log(offset, data.length);
 * ```
 */
export function* readTfRecords(input: Uint8Array): Generator<TfRecord, void, undefined> {
  // A plain Uint8Array view: Buffer#subarray (Buffers come from fs) is several times slower.
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const total = bytes.length;
  let pos = 0;
  while (pos < total) {
    if (total - pos < TF_RECORD_HEADER_SIZE) {
      throw new TfEventsFormatError(
        'truncated',
        pos,
        `record header at offset ${pos} has ${total - pos} bytes; expected ${TF_RECORD_HEADER_SIZE} (input ends inside a record)`,
      );
    }
    const storedLengthCrc = view.getUint32(pos + 8, true);
    const lengthCrc = maskedCrc32c(bytes.subarray(pos, pos + 8));
    if (storedLengthCrc !== lengthCrc) {
      throw new TfEventsFormatError(
        'corrupt',
        pos,
        `record at offset ${pos} has length CRC ${hex(storedLengthCrc)}; expected ${hex(lengthCrc)} (the length bytes are damaged)`,
      );
    }
    const length = view.getUint32(pos + 4, true) * TWO_POW_32 + view.getUint32(pos, true);
    const dataStart = pos + TF_RECORD_HEADER_SIZE;
    const available = total - dataStart;
    if (length + 4 > available) {
      throw new TfEventsFormatError(
        'truncated',
        pos,
        `record at offset ${pos} declares ${length} data bytes plus a 4-byte CRC; only ${available} bytes remain (input ends inside a record)`,
      );
    }
    const dataEnd = dataStart + length;
    const data = bytes.subarray(dataStart, dataEnd);
    const storedDataCrc = view.getUint32(dataEnd, true);
    const dataCrc = maskedCrc32c(data);
    if (storedDataCrc !== dataCrc) {
      throw new TfEventsFormatError(
        'corrupt',
        pos,
        `record at offset ${pos} has data CRC ${hex(storedDataCrc)}; expected ${hex(dataCrc)} (the data bytes are damaged)`,
      );
    }
    yield { offset: pos, data };
    pos = dataEnd + 4;
  }
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}
