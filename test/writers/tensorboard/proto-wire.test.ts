import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { InvalidArgumentError } from '../../../src/errors/trainledger-error.js';
import { ProtoReader } from '../../../src/writers/tensorboard/proto-reader.js';
import { WireType } from '../../../src/writers/tensorboard/proto-wire-type.js';
import { ProtoWriter } from '../../../src/writers/tensorboard/proto-writer.js';
import { TfEventsFormatError } from '../../../src/writers/tensorboard/errors.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const fromHex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));

/** int64 varint by the book, on BigInt: two's complement to 64 bits, then 7 bits per byte. */
function referenceInt64Varint(value: number | bigint): Uint8Array {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

const isFormatError = (reason: string) => (error: unknown) =>
  error instanceof TfEventsFormatError && error.code === 'ERR_TFEVENTS_FORMAT' && error.reason === reason;

test('protobuf varints: int64 varints match the protobuf encoding examples byte for byte', () => {
  const cases: Array<[number, string]> = [
    [0, '00'],
    [1, '01'],
    [127, '7f'],
    [128, '8001'],
    [150, '9601'],
    [300, 'ac02'],
    [2 ** 31, '8080808008'],
    [2 ** 32, '8080808010'],
    [2 ** 53 - 1, 'ffffffffffffff0f'],
    [-1, 'ffffffffffffffffff01'],
    [-(2 ** 32), '80808080f0ffffffff01'],
    [-(2 ** 53 - 1), '81808080808080f0ff01'],
  ];
  for (const [value, expected] of cases) {
    assert.equal(hex(new ProtoWriter().int64(value).finish()), expected, `int64 ${value}`);
    assert.equal(ProtoWriter.int64Size(value), expected.length / 2, `size of ${value}`);
  }
});

test('protobuf varints: every safe integer encodes like the BigInt reference and decodes back to itself', () => {
  const safe = fc.oneof(
    fc.maxSafeInteger(),
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
    fc.constantFrom(0, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 32 - 1, 2 ** 32, 2 ** 35, -(2 ** 35)),
  );
  fc.assert(
    fc.property(safe, (value) => {
      const bytes = new ProtoWriter().int64(value).finish();
      assert.deepEqual(bytes, referenceInt64Varint(value));
      assert.equal(ProtoWriter.int64Size(value), bytes.length);
      const reader = new ProtoReader(bytes);
      assert.equal(reader.int64(), value);
      assert.ok(reader.done);
    }),
    { numRuns: 2000 },
  );
});

test('protobuf varints: an int64 outside the safe range is refused on both sides instead of being rounded', () => {
  assert.throws(() => new ProtoWriter().int64(2 ** 53), InvalidArgumentError);
  assert.throws(() => new ProtoWriter().int64(1.5), InvalidArgumentError);
  for (const value of [2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n)]) {
    assert.throws(() => new ProtoReader(referenceInt64Varint(value)).int64(), isFormatError('invalid-event'), `${value}`);
  }
});

test('protobuf varints: uint32 varints use the fewest bytes', () => {
  for (const [value, expected] of [
    [0, '00'],
    [300, 'ac02'],
    [2 ** 14, '808001'],
    [2 ** 32 - 1, 'ffffffff0f'],
  ] as const) {
    assert.equal(hex(new ProtoWriter().uint32(value).finish()), expected);
    assert.equal(ProtoWriter.uint32Size(value), expected.length / 2);
  }
  assert.throws(() => new ProtoWriter().uint32(2 ** 32), InvalidArgumentError);
  assert.throws(() => new ProtoWriter().uint32(-1), InvalidArgumentError);
});

test('protobuf varints: a varint cut short or longer than ten bytes is a format error', () => {
  assert.throws(() => new ProtoReader(fromHex('8080')).int64(), isFormatError('invalid-event'));
  assert.throws(() => new ProtoReader(fromHex('ffffffffffffffffff8001')).int64(), isFormatError('invalid-event'));
});

test('protobuf fixed-width values: floats are little-endian float32 with NaN and infinities written canonically', () => {
  const w = new ProtoWriter();
  for (const v of [0.25, NaN, Infinity, -Infinity, -0, 1 / 3]) w.float(v);
  assert.equal(hex(w.finish()), '0000803e' + '0000c07f' + '0000807f' + '000080ff' + '00000080' + 'abaaaa3e');
  const r = new ProtoReader(w.finish());
  assert.deepEqual([r.float(), r.float(), r.float(), r.float(), r.float(), r.float()], [0.25, NaN, Infinity, -Infinity, -0, Math.fround(1 / 3)]);
});

test('protobuf fixed-width values: a NaN with a payload is still written as the canonical float NaN', () => {
  const bits = new DataView(new ArrayBuffer(8));
  bits.setUint32(0, 0x7ff80000 | 0x1234);
  bits.setUint32(4, 0xdeadbeef);
  const payloadNaN = bits.getFloat64(0);
  assert.equal(hex(new ProtoWriter().float(payloadNaN).finish()), '0000c07f');
  assert.equal(hex(new ProtoWriter().double(payloadNaN).finish()), '000000000000f87f');
});

test('protobuf fixed-width values: doubles are little-endian float64', () => {
  assert.equal(hex(new ProtoWriter().double(1.5).finish()), '000000000000f83f');
  assert.equal(new ProtoReader(fromHex('000000000000f83f')).double(), 1.5);
});

test('protobuf fixed-width values: a fixed-width value cut short is a format error that names its offset', () => {
  assert.throws(
    () => new ProtoReader(fromHex('0000f8'), 100).double(),
    (error: unknown) => isFormatError('invalid-event')(error) && (error as TfEventsFormatError).offset === 100,
  );
});

test('protobuf keys and length-delimited fields: keys pack the field number and wire type', () => {
  const w = new ProtoWriter();
  w.key(1, WireType.i64).key(2, WireType.varint).key(5, WireType.len).key(2, WireType.i32).key(16, WireType.varint);
  assert.equal(hex(w.finish()), '09' + '10' + '2a' + '15' + '8001');
  const r = new ProtoReader(w.finish());
  assert.deepEqual(r.key(), { field: 1, wireType: WireType.i64 });
  assert.deepEqual(r.key(), { field: 2, wireType: WireType.varint });
  assert.deepEqual(r.key(), { field: 5, wireType: WireType.len });
  assert.deepEqual(r.key(), { field: 2, wireType: WireType.i32 });
  assert.deepEqual(r.key(), { field: 16, wireType: WireType.varint });
});

test('protobuf keys and length-delimited fields: field number zero and group wire types are rejected', () => {
  assert.throws(() => new ProtoReader(fromHex('02')).key(), isFormatError('invalid-event'));
  assert.throws(() => new ProtoReader(fromHex('0b')).key(), isFormatError('invalid-event'));
});

test('protobuf keys and length-delimited fields: a length past the end of the input is a format error', () => {
  assert.throws(() => new ProtoReader(fromHex('05 6c6f')).bytes(), isFormatError('invalid-event'));
});

test('protobuf keys and length-delimited fields: strings must be valid UTF-8', () => {
  assert.equal(new ProtoReader(fromHex('04 6c6f7373')).string(), 'loss');
  assert.throws(() => new ProtoReader(fromHex('02 c328')).string(), isFormatError('invalid-event'));
});

test('protobuf keys and length-delimited fields: skipping consumes exactly one value of each wire type', () => {
  const bytes = fromHex('08 ac02' + '11 0102030405060708' + '1a 03 616263' + '25 01020304' + '28 07');
  const r = new ProtoReader(bytes);
  for (let i = 0; i < 4; i++) r.skip(r.key().wireType);
  assert.deepEqual(r.key(), { field: 5, wireType: WireType.varint });
  assert.equal(r.int64(), 7);
  assert.ok(r.done);
});

test('protobuf keys and length-delimited fields: an embedded message reader reports offsets in the enclosing input', () => {
  const outer = new ProtoReader(fromHex('2a 02 0880'), 40);
  outer.key();
  const inner = outer.message();
  assert.equal(inner.offset, 42);
  inner.key();
  assert.throws(
    () => inner.int64(),
    (error: unknown) => isFormatError('invalid-event')(error) && (error as TfEventsFormatError).offset === 43,
  );
});

test('protobuf keys and length-delimited fields: the writer grows past its initial capacity without losing bytes', () => {
  const payload = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
  const w = new ProtoWriter(1);
  w.key(3, WireType.len).lengthDelimited(payload);
  const r = new ProtoReader(w.finish());
  assert.deepEqual(r.key(), { field: 3, wireType: WireType.len });
  assert.deepEqual(r.bytes(), payload);
});
