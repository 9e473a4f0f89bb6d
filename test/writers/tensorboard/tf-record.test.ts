import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { TfEventsFormatError } from '../../../src/writers/tensorboard/errors.js';
import { TF_RECORD_OVERHEAD, frameTfRecord, readTfRecords, writeTfRecord } from '../../../src/writers/tensorboard/tf-record.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const formatError = (reason: string, offset: number) => (error: unknown) =>
  error instanceof TfEventsFormatError && error.code === 'ERR_TFEVENTS_FORMAT' && error.reason === reason && error.offset === offset;

test('TFRecord framing: an empty record is the zero length, its masked CRC, and the masked CRC of nothing', () => {
  // masked_crc32c(8 zero bytes) = 0x07980329 and masked_crc32c("") = 0xa282ead8, both computed
  // with a bitwise CRC-32C outside this code base; stored little-endian.
  assert.equal(hex(frameTfRecord(new Uint8Array(0))), '0000000000000000' + '29039807' + 'd8ea82a2');
});

test('TFRecord framing: a record frames at an offset inside a larger buffer', () => {
  const data = Uint8Array.of(1, 2, 3);
  const target = new Uint8Array(5 + TF_RECORD_OVERHEAD + data.length + 5);
  const end = writeTfRecord(target.subarray(0), 5, data);
  assert.equal(end, 5 + TF_RECORD_OVERHEAD + 3);
  assert.deepEqual(target.subarray(5, end), frameTfRecord(data));
});

test('TFRecord framing: records round-trip through framing and reading, with their offsets', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), (payloads) => {
      const stream = concat(payloads.map(frameTfRecord));
      const records = [...readTfRecords(stream)];
      assert.deepEqual(records.map((r) => r.data), payloads);
      let offset = 0;
      const offsets = payloads.map((p) => {
        const at = offset;
        offset += TF_RECORD_OVERHEAD + p.length;
        return at;
      });
      assert.deepEqual(records.map((r) => r.offset), offsets);
    }),
  );
});

test('TFRecord framing: flipping any bit of any record is reported as corrupt at that record', () => {
  const first = frameTfRecord(new TextEncoder().encode('first record'));
  const second = frameTfRecord(new TextEncoder().encode('second'));
  const stream = concat([first, second]);
  for (let i = 0; i < stream.length; i++) {
    for (const bit of [0x01, 0x80]) {
      const damaged = Buffer.from(stream);
      damaged.writeUInt8(damaged.readUInt8(i) ^ bit, i);
      const recordOffset = i < first.length ? 0 : first.length;
      assert.throws(() => [...readTfRecords(damaged)], formatError('corrupt', recordOffset), `byte ${i} bit ${bit}`);
    }
  }
});

test('TFRecord framing: cutting the stream inside a record is reported as truncated at that record', () => {
  const first = frameTfRecord(new TextEncoder().encode('first record'));
  const second = frameTfRecord(new TextEncoder().encode('second'));
  const stream = concat([first, second]);
  for (let length = 1; length < stream.length; length++) {
    if (length === first.length) continue;
    const recordOffset = length < first.length ? 0 : first.length;
    assert.throws(() => [...readTfRecords(stream.subarray(0, length))], formatError('truncated', recordOffset), `length ${length}`);
  }
});

test('TFRecord framing: records before a damaged one are still yielded', () => {
  const good = frameTfRecord(Uint8Array.of(7));
  const bad = Buffer.from(frameTfRecord(Uint8Array.of(8)));
  bad.writeUInt8(bad.readUInt8(12) ^ 0xff, 12);
  const seen: number[] = [];
  assert.throws(() => {
    for (const record of readTfRecords(concat([good, bad]))) seen.push(...record.data);
  }, TfEventsFormatError);
  assert.deepEqual(seen, [7]);
});
