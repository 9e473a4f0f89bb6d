import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeBlockIters, decodeBlockValues, encodeBlockIters, encodeBlockValues } from '../../src/log/snapshot-block-codec.js';

const bitsOf = (a: Float64Array): string[] => Array.from(new BigUint64Array(Float64Array.from(a).buffer), (b) => b.toString(16));

test('any block of values decodes to the same doubles bit for bit, float32-exact or not, NaN, ±Inf and -0 included', () => {
  const special = fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, 5e-324, 2 ** -149, Number.MAX_VALUE);
  const f32 = fc.float({ noNaN: true }).map((f) => f);
  fc.assert(
    fc.property(fc.array(fc.oneof(f32, fc.double(), special), { maxLength: 300 }), fc.boolean(), (list, onlyF32) => {
      const values = Float64Array.from(onlyF32 ? list.map((v) => Math.fround(v)) : list);
      assert.deepEqual(bitsOf(decodeBlockValues(encodeBlockValues(values))), bitsOf(values));
    }),
    { numRuns: 1000 },
  );
});

test('any block of iterations decodes to the same iterations: even steps, repeats, going back, wrapping u32', () => {
  const u32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
  const even = fc.tuple(u32, fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.nat(300)).map(([first, stride, n]) => Array.from({ length: n }, (_, i) => (first + i * stride) >>> 0));
  fc.assert(
    fc.property(fc.oneof(fc.array(u32, { maxLength: 300 }), even), (list) => {
      const iters = Uint32Array.from(list);
      assert.deepEqual(Array.from(decodeBlockIters(encodeBlockIters(iters))), list);
    }),
    { numRuns: 1000 },
  );
});

test('a block of a slowly moving float32 curve at consecutive iterations takes under 2 bytes a sample', () => {
  const n = 4096;
  const values = Float64Array.from({ length: n }, (_, i) => Math.fround(Math.sin((10_000 + i) * 0.001) + 1 / (10_001 + i)));
  const iters = Uint32Array.from({ length: n }, (_, i) => 10_000 + i);
  const bytes = encodeBlockValues(values).length + encodeBlockIters(iters).length;
  assert.equal(encodeBlockIters(iters).length, 13);
  assert.ok(bytes < 2 * n, `${bytes} bytes for ${n} samples`);
});

test('a blob that is not a block codec is a RangeError naming its first byte', () => {
  assert.throws(() => decodeBlockValues(Uint8Array.of(9, 0)), /start with 9, not a values codec/);
  assert.throws(() => decodeBlockIters(Uint8Array.of(1, 0)), /start with 1, not an iterations codec/);
});
