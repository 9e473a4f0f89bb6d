import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { InvalidArgumentError } from '../../../src/errors/trainledger-error.js';
import { decodeUtf8, utf8ByteLength, writeUtf8 } from '../../../src/writers/tensorboard/utf8.js';

const reference = new TextEncoder();

function encode(text: string): Uint8Array {
  const out = new Uint8Array(utf8ByteLength(text, 'text'));
  assert.equal(writeUtf8(text, out, 0), out.length);
  return out;
}

test('utf8: encoding agrees with TextEncoder on any well-formed string, astral characters included', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.string()), (text) => {
      assert.deepEqual(encode(text), reference.encode(text));
    }),
    { numRuns: 1000 },
  );
});

test('utf8: the boundaries between 1-, 2-, 3- and 4-byte sequences encode correctly', () => {
  for (const codePoint of [0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xffff, 0x10000, 0x10ffff]) {
    const text = String.fromCodePoint(codePoint);
    assert.deepEqual(encode(text), reference.encode(text), codePoint.toString(16));
  }
});

test('utf8: a lone surrogate is refused instead of being replaced by U+FFFD', () => {
  for (const text of ['\ud800', 'a\udc00b', 'end\udbff', '\udc00\ud800']) {
    assert.throws(
      () => utf8ByteLength(text, 'tag'),
      (e: unknown) => e instanceof InvalidArgumentError && e.message.includes('tag') && e.message.includes('lone surrogate'),
    );
  }
});

test('utf8: decoding agrees with TextDecoder on short and long, ASCII and non-ASCII strings', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), fc.string({ minLength: 60, maxLength: 70 })), (text) => {
      const bytes = reference.encode(text);
      assert.equal(decodeUtf8(bytes), text);
      const padded = new Uint8Array([0x41, ...bytes, 0x42]);
      assert.equal(decodeUtf8(padded, 1, padded.length - 1), text);
    }),
    { numRuns: 500 },
  );
});

test('utf8: invalid UTF-8 throws rather than decoding to replacement characters', () => {
  for (const bytes of [[0xc3, 0x28], [0xff], [0xe2, 0x82], [0xed, 0xa0, 0x80]]) {
    assert.throws(() => decodeUtf8(Uint8Array.from(bytes)), TypeError, JSON.stringify(bytes));
  }
});
