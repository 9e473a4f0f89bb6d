import { deflateRawSync, inflateRawSync } from 'node:zlib';

/**
 * How a snapshot block's samples are stored: compressed, so that the cache stays a small
 * fraction of the log it caches, with codecs simple enough to decode at memory speed.
 *
 * Values: float32 when every value of the block is one exactly (a loss from tfjs is), each the
 * difference of its bit pattern from the previous one's (a slowly moving curve differs in low
 * bits only); else float64, each XOR the previous (sign and exponent cancel). The bytes are then
 * split into planes (all first bytes, all second bytes, ...), which puts the near-constant high
 * bytes together, and deflated (level 1: fast, and most of the gain).
 *
 * Iterations: first and stride when they step evenly (a metric put every k steps), else the
 * differences, planed and deflated likewise.
 *
 * | first byte | rest |
 * |---|---|
 * | 1 | values, float32 differences, planed, deflated |
 * | 2 | values, float64 XOR, planed, deflated |
 * | 3 | iterations, even: u32 first, i32 stride, u32 count |
 * | 4 | iterations, u32 differences, planed, deflated |
 */
const F32_DELTA = 1;
const F64_XOR = 2;
const ITERS_EVEN = 3;
const ITERS_DELTA = 4;

/**
 * Encodes the values of a block.
 *
 * @example
 * ```ts
 * const blob = encodeBlockValues(new Float64Array([0.5, 0.25])); // decodeBlockValues(blob) gives them back
 * ```
 */
export function encodeBlockValues(values: Float64Array): Buffer {
  const n = values.length;
  let single = true;
  for (let i = 0; i < n && single; i++) single = Math.fround(values[i]!) === values[i];
  if (single) {
    const words = new Uint32Array(new Float32Array(values).buffer);
    // Backwards, so each word still sees its predecessor's original bits.
    for (let i = n - 1; i > 0; i--) words[i] = words[i]! - words[i - 1]!;
    return packed(F32_DELTA, words, 4);
  }
  const words = new Uint32Array(Float64Array.from(values).buffer);
  for (let i = words.length - 1; i > 1; i--) words[i] = words[i]! ^ words[i - 2]!;
  return packed(F64_XOR, words, 8);
}

/**
 * Decodes what `encodeBlockValues` made. Throws `RangeError` on a blob it did not make.
 *
 * @example
 * ```ts
 * const values = decodeBlockValues(encodeBlockValues(new Float64Array([1, 2])));
 * ```
 */
export function decodeBlockValues(blob: Uint8Array): Float64Array {
  const kind = blob[0];
  if (kind === F32_DELTA) {
    const words = unpacked(blob, 4);
    for (let i = 1; i < words.length; i++) words[i] = words[i]! + words[i - 1]!;
    return Float64Array.from(new Float32Array(words.buffer, words.byteOffset, words.length));
  }
  if (kind === F64_XOR) {
    const words = unpacked(blob, 8);
    for (let i = 2; i < words.length; i++) words[i] = words[i]! ^ words[i - 2]!;
    return new Float64Array(words.buffer, words.byteOffset, words.length / 2);
  }
  throw new RangeError(`a snapshot block's values start with ${String(kind)}, not a values codec`);
}

/**
 * Encodes the iterations of a block.
 *
 * @example
 * ```ts
 * const blob = encodeBlockIters(new Uint32Array([10, 20, 30])); // 13 bytes: first, stride, count
 * ```
 */
export function encodeBlockIters(iters: Uint32Array): Buffer {
  const n = iters.length;
  const first = n > 0 ? iters[0]! : 0;
  const stride = n > 1 ? (iters[1]! - first) | 0 : 0;
  let even = true;
  for (let i = 1; i < n && even; i++) even = iters[i] === (first + i * stride) >>> 0;
  if (even) {
    const out = Buffer.alloc(13);
    out[0] = ITERS_EVEN;
    out.writeUInt32LE(first, 1);
    out.writeInt32LE(stride, 5);
    out.writeUInt32LE(n, 9);
    return out;
  }
  const words = Uint32Array.from(iters);
  for (let i = n - 1; i > 0; i--) words[i] = words[i]! - words[i - 1]!;
  return packed(ITERS_DELTA, words, 4);
}

/**
 * Decodes what `encodeBlockIters` made. Throws `RangeError` on a blob it did not make.
 *
 * @example
 * ```ts
 * const iters = decodeBlockIters(encodeBlockIters(new Uint32Array([10, 20, 30])));
 * ```
 */
export function decodeBlockIters(blob: Uint8Array): Uint32Array {
  const kind = blob[0];
  if (kind === ITERS_EVEN && blob.length === 13) {
    const b = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
    const first = b.readUInt32LE(1);
    const stride = b.readInt32LE(5);
    const out = new Uint32Array(b.readUInt32LE(9));
    for (let i = 0; i < out.length; i++) out[i] = first + i * stride;
    return out;
  }
  if (kind === ITERS_DELTA) {
    const words = unpacked(blob, 4);
    for (let i = 1; i < words.length; i++) words[i] = words[i]! + words[i - 1]!;
    return words;
  }
  throw new RangeError(`a snapshot block's iterations start with ${String(kind)}, not an iterations codec`);
}

/** `kind`, then the bytes of `words` split into `width` planes and deflated. */
function packed(kind: number, words: Uint32Array, width: number): Buffer {
  const bytes = new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
  const n = bytes.length / width;
  const planes = Buffer.allocUnsafe(bytes.length + 1);
  planes[0] = kind;
  for (let k = 0; k < width; k++) {
    const base = 1 + k * n;
    for (let i = 0; i < n; i++) planes[base + i] = bytes[i * width + k]!;
  }
  return Buffer.concat([planes.subarray(0, 1), deflateRawSync(planes.subarray(1), { level: 1 })]);
}

/** The words `packed` stored (inflated, planes joined back). */
function unpacked(blob: Uint8Array, width: number): Uint32Array {
  const planes = inflateRawSync(blob.subarray(1));
  if (planes.length % width !== 0) throw new RangeError(`a snapshot block of ${planes.length} bytes is not a whole number of ${width}-byte samples`);
  const n = planes.length / width;
  const bytes = new Uint8Array(planes.length);
  for (let k = 0; k < width; k++) {
    const base = k * n;
    for (let i = 0; i < n; i++) bytes[i * width + k] = planes[base + i]!;
  }
  return new Uint32Array(bytes.buffer);
}
