import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { crc32c, maskCrc32c, maskedCrc32c } from '../../../src/writers/tensorboard/crc32c.js';

/** Bit-at-a-time CRC-32C straight from the definition, to check the table-driven one against. */
function referenceCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** TFRecord's mask computed with BigInt arithmetic, independently of the 32-bit shifts under test. */
function referenceMask(crc: number): number {
  const c = BigInt(crc);
  const rotated = ((c >> 15n) | (c << 17n)) & 0xffffffffn;
  return Number((rotated + 0xa282ead8n) % (1n << 32n));
}

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);

test('crc32c: the CRC-32C of "123456789" is the standard check value 0xe3069283', () => {
  assert.equal(crc32c(ascii('123456789')), 0xe3069283);
});

test('crc32c: the RFC 3720 appendix B.4 test vectors come out right', () => {
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
});

test('crc32c: the CRC-32C of no bytes is zero', () => {
  assert.equal(crc32c(new Uint8Array(0)), 0);
});

test('crc32c: the sliced implementation agrees with the bitwise definition on any bytes at any alignment', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(7), (bytes, skip) => {
      const view = bytes.subarray(Math.min(skip, bytes.length));
      assert.equal(crc32c(view), referenceCrc32c(view));
    }),
    { numRuns: 500 },
  );
});

test('crc32c: a checksum continued over two pieces equals the checksum of the whole', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ maxLength: 100 }), (a, b) => {
      const whole = new Uint8Array(a.length + b.length);
      whole.set(a);
      whole.set(b, a.length);
      assert.equal(crc32c(b, crc32c(a)), crc32c(whole));
    }),
  );
});

test('masked crc32c: masking zero yields the mask delta 0xa282ead8', () => {
  assert.equal(maskCrc32c(0), 0xa282ead8);
  assert.equal(maskedCrc32c(new Uint8Array(0)), 0xa282ead8);
});

test('masked crc32c: the masked CRC of "123456789" matches a hand rotation of 0xe3069283', () => {
  // By hand: 0xe3069283 rotated right by 15 bits is 0x2507c60d (its low 15 bits 0x1283 move to
  // the top), and 0x2507c60d + 0xa282ead8 = 0xc78ab0e5 (mod 2^32).
  assert.equal(referenceMask(0xe3069283), 0xc78ab0e5);
  assert.equal(maskedCrc32c(ascii('123456789')), 0xc78ab0e5);
});

test('masked crc32c: masking agrees with a BigInt rotation for every kind of CRC value', () => {
  fc.assert(
    fc.property(fc.nat({ max: 0xffffffff }), (crc) => {
      assert.equal(maskCrc32c(crc), referenceMask(crc));
    }),
    { numRuns: 1000 },
  );
});
