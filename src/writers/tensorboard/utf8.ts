import { InvalidArgumentError } from '../../errors/trainledger-error.js';

/**
 * UTF-8 for the short strings of event files (tags, the file version), in plain JS: Node's
 * TextEncoder/TextDecoder cross into C++ per call, which dominated the cost of writing a scalar.
 */

const fatalDecoder = new TextDecoder('utf-8', { fatal: true });

/** Strings up to this many bytes are decoded in JS when they are pure ASCII. */
const ASCII_FAST_PATH_LIMIT = 64;

/**
 * Number of UTF-8 bytes of `text`. Throws {@link InvalidArgumentError} naming `what` on a lone
 * surrogate, which has no UTF-8 form (TextEncoder would silently write U+FFFD instead).
 *
 * @example
 * ```ts
 * utf8ByteLength('héllo', 'tag'); // 6
 * ```
 */
export function utf8ByteLength(text: string, what: string): number {
  if (typeof text !== 'string') {
    throw new InvalidArgumentError(`${what} ${String(text)} is not a string; expected a string`);
  }
  let length = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) length += 1;
    else if (c < 0xd800 || c > 0xdfff) length += 2;
    else {
      const next = text.charCodeAt(i + 1);
      if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) {
        throw new InvalidArgumentError(
          `${what} ${JSON.stringify(text)} has a lone surrogate at index ${i}; expected well-formed UTF-16 text`,
        );
      }
      // A surrogate pair is two UTF-16 units and four UTF-8 bytes.
      length += 2;
      i++;
    }
  }
  return length;
}

/**
 * Writes the UTF-8 of `text` into `target` at `offset` and returns the offset after it. `text`
 * must have passed {@link utf8ByteLength}, and `target` must have room for that many bytes.
 *
 * @example
 * ```ts
 * const out = new Uint8Array(utf8ByteLength('loss', 'tag'));
 * writeUtf8('loss', out, 0); // 4
 * ```
 */
export function writeUtf8(text: string, target: Uint8Array, offset: number): number {
  let pos = offset;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      target[pos++] = c;
    } else if (c < 0x800) {
      target[pos++] = 0xc0 | (c >>> 6);
      target[pos++] = 0x80 | (c & 0x3f);
    } else if (c < 0xd800 || c > 0xdfff) {
      target[pos++] = 0xe0 | (c >>> 12);
      target[pos++] = 0x80 | ((c >>> 6) & 0x3f);
      target[pos++] = 0x80 | (c & 0x3f);
    } else {
      c = 0x10000 + ((c - 0xd800) << 10) + (text.charCodeAt(++i) - 0xdc00);
      target[pos++] = 0xf0 | (c >>> 18);
      target[pos++] = 0x80 | ((c >>> 12) & 0x3f);
      target[pos++] = 0x80 | ((c >>> 6) & 0x3f);
      target[pos++] = 0x80 | (c & 0x3f);
    }
  }
  return pos;
}

/**
 * Decodes `bytes[start, end)` as UTF-8, strictly: invalid input throws a `TypeError` rather than
 * producing U+FFFD. Taking a range lets callers skip allocating a subarray per string.
 *
 * @example
 * ```ts
 * decodeUtf8(Uint8Array.of(0x6c, 0x6f, 0x73, 0x73)); // 'loss'
 * ```
 */
export function decodeUtf8(bytes: Uint8Array, start = 0, end = bytes.length): string {
  if (end - start <= ASCII_FAST_PATH_LIMIT) {
    let text = '';
    let i = start;
    for (; i < end; i++) {
      const byte = bytes[i]!; // i < end <= bytes.length
      if (byte >= 0x80) break;
      text += String.fromCharCode(byte);
    }
    if (i === end) return text;
  }
  return fatalDecoder.decode(bytes.subarray(start, end));
}
