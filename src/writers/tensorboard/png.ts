import { deflateSync } from 'node:zlib';
import { InvalidArgumentError } from '../../errors/trainledger-error.js';

const SIGNATURE = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** PNG colour type by channel count: greyscale, greyscale+alpha, RGB, RGBA. */
const COLOR_TYPE: Readonly<Record<number, number>> = { 1: 0, 2: 4, 3: 2, 4: 6 };

let crcTable: Uint32Array | null = null;

/** CRC-32 (ISO 3309, what PNG chunks carry; not the CRC-32C of TFRecords). */
function crc32(bytes: Uint8Array, start: number, end: number): number {
  const table = (crcTable ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  }));
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = table[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out, 4, 8 + data.length));
  return out;
}

/**
 * Encodes HWC uint8 pixels as an 8-bit PNG (no filtering, zlib deflate at level 6), what
 * TensorBoard's image plugin shows. Same pixels in, same bytes out (for one zlib build).
 *
 * @example
 * ```ts
 * encodePng(2, 1, 1, new Uint8Array([0, 255])); // a 1×2 greyscale PNG
 * ```
 */
export function encodePng(height: number, width: number, channels: number, pixels: Uint8Array): Uint8Array {
  const colorType = COLOR_TYPE[channels];
  if (colorType === undefined || !Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1 || pixels.length !== height * width * channels) {
    throw new InvalidArgumentError(`PNG of ${height}×${width}×${channels} from ${pixels.length} bytes: expected positive integer sizes, 1 to 4 channels and height×width×channels bytes`);
  }
  const header = new Uint8Array(13);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  header[8] = 8; // bit depth; compression, filter and interlace stay 0
  header[9] = colorType;
  const row = width * channels;
  // Each scanline starts with its filter type, 0 (none).
  const raw = new Uint8Array(height * (row + 1));
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * row, (y + 1) * row), y * (row + 1) + 1);
  const parts = [SIGNATURE, chunk('IHDR', header), chunk('IDAT', deflateSync(raw, { level: 6 })), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
