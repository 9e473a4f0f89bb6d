import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { TfEventsFormatError } from '../../../src/writers/tensorboard/tf-events-format-error.js';
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

describe('TFRecord framing', () => {
  test('an empty record is the zero length, its masked CRC, and the masked CRC of nothing', () => {
    // masked_crc32c(8 zero bytes) = 0x07980329 and masked_crc32c("") = 0xa282ead8, both computed
    // with a bitwise CRC-32C outside this code base; stored little-endian.
    assert.equal(hex(frameTfRecord(new Uint8Array(0))), '0000000000000000' + '29039807' + 'd8ea82a2');
  });

  test('a record frames at an offset inside a larger buffer', () => {
    const data = Uint8Array.of(1, 2, 3);
    const target = new Uint8Array(5 + TF_RECORD_OVERHEAD + data.length + 5);
    const end = writeTfRecord(target.subarray(0), 5, data);
    assert.equal(end, 5 + TF_RECORD_OVERHEAD + 3);
    assert.deepEqual(target.subarray(5, end), frameTfRecord(data));
  });

  test('records round-trip through framing and reading, with their offsets', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), (payloads) => {
        const stream = concat(payloads.map(frameTfRecord));
        const records = [...readTfRecords(stream)];
        assert.deepEqual(records.map((r) => r.data), payloads);
        let offset = 0;
        for (const [i, record] of records.entries()) {
          assert.equal(record.offset, offset);
          offset += TF_RECORD_OVERHEAD + payloads[i].length;
        }
      }),
    );
  });

  test('flipping any bit of any record is reported as corrupt at that record', () => {
    const first = frameTfRecord(new TextEncoder().encode('first record'));
    const second = frameTfRecord(new TextEncoder().encode('second'));
    const stream = concat([first, second]);
    for (let i = 0; i < stream.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const damaged = stream.slice();
        damaged[i] ^= bit;
        const recordOffset = i < first.length ? 0 : first.length;
        assert.throws(() => [...readTfRecords(damaged)], formatError('corrupt', recordOffset), `byte ${i} bit ${bit}`);
      }
    }
  });

  test('cutting the stream inside a record is reported as truncated at that record', () => {
    const first = frameTfRecord(new TextEncoder().encode('first record'));
    const second = frameTfRecord(new TextEncoder().encode('second'));
    const stream = concat([first, second]);
    for (let length = 1; length < stream.length; length++) {
      if (length === first.length) continue;
      const recordOffset = length < first.length ? 0 : first.length;
      assert.throws(() => [...readTfRecords(stream.subarray(0, length))], formatError('truncated', recordOffset), `length ${length}`);
    }
  });

  test('records before a damaged one are still yielded', () => {
    const good = frameTfRecord(Uint8Array.of(7));
    const bad = frameTfRecord(Uint8Array.of(8));
    bad[12] ^= 0xff;
    const seen: number[] = [];
    assert.throws(() => {
      for (const record of readTfRecords(concat([good, bad]))) seen.push(record.data[0]);
    }, TfEventsFormatError);
    assert.deepEqual(seen, [7]);
  });
});
