/**
 * CRC-32C (Castagnoli): TFRecord framing (TensorBoard files) and the log's row checksums.
 *
 * Slicing-by-8: eight 256-entry tables let the main loop fold eight input bytes per iteration,
 * several times faster than the byte-at-a-time loop, which matters because every byte written to
 * an event file is checksummed.
 */

/** The Castagnoli polynomial 0x1EDC6F41, bit-reversed for the LSB-first (reflected) algorithm. */
const POLYNOMIAL_REFLECTED = 0x82f63b78;

/**
 * Added after the rotation by TFRecord's masking; see `kMaskDelta` in TensorFlow's crc32c.h and
 * the TFRecord format description at https://www.tensorflow.org/tutorials/load_data/tfrecord.
 * Masking exists so that CRCs of data that itself embeds CRCs stay well distributed.
 */
const MASK_DELTA = 0xa282ead8;

// Table k (entries k·256 … k·256 + 255) holds the CRC register after feeding byte b followed by
// k zero bytes.
const TABLES = (() => {
  const all = new Uint32Array(8 * 256);
  for (let b = 0; b < 256; b++) {
    let c = b;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL_REFLECTED : c >>> 1;
    all[b] = c;
  }
  for (let b = 0; b < 256; b++) {
    // Indices are bytes (< 256) into the first table, filled above.
    let c = all[b]!;
    for (let k = 1; k < 8; k++) {
      c = all[c & 0xff]! ^ (c >>> 8);
      all[k * 256 + b] = c;
    }
  }
  return all;
})();
const table = (k: number): Uint32Array => TABLES.subarray(k * 256, (k + 1) * 256);
const T0 = table(0);
const T1 = table(1);
const T2 = table(2);
const T3 = table(3);
const T4 = table(4);
const T5 = table(5);
const T6 = table(6);
const T7 = table(7);

/**
 * CRC-32C of `bytes`. Pass a previous result as `previous` to continue a checksum over data given
 * in pieces: `crc32c(b, crc32c(a))` equals `crc32c(a ++ b)`.
 *
 * @example
 * ```ts
 * crc32c(new TextEncoder().encode('123456789')); // 0xe3069283
 * ```
 */
export function crc32c(bytes: Uint8Array, previous = 0): number {
  return crc32cRange(bytes, 0, bytes.length, previous);
}

/**
 * CRC-32C of `bytes[start, end)`, without a subarray: readers checksum many rows packed in one
 * buffer.
 *
 * @example
 * ```ts
 * crc32cRange(page.bytes, page.offsets[0], page.offsets[1]);
 * ```
 */
export function crc32cRange(bytes: Uint8Array, start: number, end: number, previous = 0): number {
  let crc = ~previous;
  const n = end;
  let i = start;
  // Hot loop: every index is in range (i + 7 < end ≤ bytes.length; table indices are bytes), so
  // the reads are asserted rather than checked.
  for (const last = n - 8; i <= last; i += 8) {
    const lo = crc ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    crc =
      T7[lo & 0xff]! ^
      T6[(lo >>> 8) & 0xff]! ^
      T5[(lo >>> 16) & 0xff]! ^
      T4[lo >>> 24]! ^
      T3[bytes[i + 4]!]! ^
      T2[bytes[i + 5]!]! ^
      T1[bytes[i + 6]!]! ^
      T0[bytes[i + 7]!]!;
  }
  for (; i < n; i++) crc = T0[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

/**
 * Masks a CRC-32C the way TFRecord stores it: rotate right by 15 bits, then add 0xa282ead8 (mod 2^32).
 *
 * @example
 * ```ts
 * maskCrc32c(0); // 0xa282ead8
 * ```
 */
export function maskCrc32c(crc: number): number {
  return (((crc >>> 15) | (crc << 17)) + MASK_DELTA) >>> 0;
}

/**
 * The masked CRC-32C of `bytes`, as found in TFRecord headers and trailers.
 *
 * @example
 * ```ts
 * maskedCrc32c(new Uint8Array(0)); // 0xa282ead8
 * ```
 */
export function maskedCrc32c(bytes: Uint8Array): number {
  return maskCrc32c(crc32c(bytes));
}
