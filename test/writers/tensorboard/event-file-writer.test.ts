import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { InvalidArgumentError } from '../../../src/errors/trainledger-error.js';
import { EventFileClosedError, EventFileExistsError } from '../../../src/writers/tensorboard/errors.js';
import { readEventFile } from '../../../src/writers/tensorboard/event-file-reader.js';
import { EventFileWriter } from '../../../src/writers/tensorboard/event-file-writer.js';
import { TF_EVENT_FILE_VERSION, TfSessionStatus, type TfEvent } from '../../../src/writers/tensorboard/tf-event.js';
import { readTfRecords } from '../../../src/writers/tensorboard/tf-record.js';

const root = mkdtempSync(join(tmpdir(), 'trainledger-tfevents-writer-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirCounter = 0;
const freshDir = (): string => join(root, `run-${dirCounter++}`);

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** Bitwise CRC-32C and TFRecord mask, used only to show where the golden CRC bytes come from. */
function referenceMaskedCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  const c = BigInt((crc ^ 0xffffffff) >>> 0);
  return Number(((((c >> 15n) | (c << 17n)) & 0xffffffffn) + 0xa282ead8n) & 0xffffffffn);
}

type Operation =
  | { readonly op: 'scalars'; readonly step: number; readonly wallTime: number; readonly values: ReadonlyArray<readonly [string, number]> }
  | { readonly op: 'sessionStart'; readonly step: number; readonly wallTime: number };

function apply(writer: EventFileWriter, operations: readonly Operation[]): void {
  for (const o of operations) {
    if (o.op === 'scalars') writer.writeScalars(o.step, o.wallTime, o.values);
    else writer.writeSessionStart(o.step, o.wallTime);
  }
}

function expectedEvents(creationTime: number, operations: readonly Operation[]): TfEvent[] {
  return [
    { kind: 'fileVersion', wallTime: creationTime, step: 0, fileVersion: TF_EVENT_FILE_VERSION },
    ...operations.map((o): TfEvent =>
      o.op === 'scalars'
        ? { kind: 'summary', wallTime: o.wallTime, step: o.step, values: o.values.map(([tag, v]) => ({ tag, simpleValue: Math.fround(v) })) }
        : { kind: 'sessionLog', wallTime: o.wallTime, step: o.step, status: TfSessionStatus.start },
    ),
  ];
}

const arbitraryStep = fc.oneof(fc.nat(1_000_000), fc.maxSafeNat(), fc.constantFrom(0, 2 ** 31, 2 ** 32, 2 ** 53 - 1), fc.integer({ min: -1000, max: -1 }));
const arbitraryWallTime = fc.double({ min: 0, max: 4e9, noNaN: true });
const arbitraryTag = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 });
const arbitraryValue = fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, -0, 3.4028234663852886e38, 1e39, 1e-46));
const arbitraryOperations: fc.Arbitrary<Operation[]> = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('scalars' as const), step: arbitraryStep, wallTime: arbitraryWallTime, values: fc.array(fc.tuple(arbitraryTag, arbitraryValue), { maxLength: 8 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('sessionStart' as const), step: arbitraryStep, wallTime: arbitraryWallTime }) },
  ),
  { maxLength: 60 },
);

test('EventFileWriter output format: a file with one scalar event matches the golden bytes derived from the proto wire format', () => {
  // Record = uint64 LE length | masked crc32c(length) | Event bytes | masked crc32c(Event bytes).
  //
  // Record 1, the header Event { wall_time: 1.5, file_version: "brain.Event:2" } (step 0 is the
  // proto3 default, so it is omitted):
  //   09 000000000000f83f   field 1 wire type 1 (0x09); 1.5 = 0x3ff8000000000000, little-endian
  //   1a 0d <13 ASCII bytes> field 3 wire type 2 (0x1a); "brain.Event:2" is 13 bytes
  //   -> 9 + 2 + 13 = 24 = 0x18 bytes
  // Record 2, Event { wall_time: 1.5, step: 7, summary { value { tag: "loss" simple_value: 0.25 } } }:
  //   09 000000000000f83f   wall_time
  //   10 07                 field 2 wire type 0 (0x10); varint 7
  //   2a 0d                 field 5 wire type 2 (0x2a); Summary is 13 bytes:
  //     0a 0b               Summary.value, field 1 wire type 2; Value is 11 bytes:
  //       0a 04 6c6f7373    Value.tag, field 1 wire type 2, "loss"
  //       15 0000803e       Value.simple_value, field 2 wire type 5 (0x15); 0.25f = 0x3e800000 LE
  //   -> 9 + 2 + 2 + 13 = 26 = 0x1a bytes
  // The four CRC words (little-endian) came from a bitwise CRC-32C written outside this code base;
  // the loop below re-derives them with the reference in this file.
  const golden =
    '1800000000000000' + 'a37f4b22' +
    '09000000000000f83f' + '1a0d' + '627261696e2e4576656e743a32' + '2a28646c' +
    '1a00000000000000' + '129bd82d' +
    '09000000000000f83f' + '1007' + '2a0d' + '0a0b' + '0a046c6f7373' + '150000803e' + 'c9d07b8d';
  const goldenBytes = Buffer.from(golden, 'hex');
  for (const [at, length] of [[12, 24], [52, 26]] as const) {
    const lengthBytes = goldenBytes.subarray(at - 12, at - 4);
    assert.equal(goldenBytes.readUInt32LE(at - 4), referenceMaskedCrc32c(lengthBytes));
    assert.equal(goldenBytes.readUInt32LE(at + length), referenceMaskedCrc32c(goldenBytes.subarray(at, at + length)));
  }

  const writer = new EventFileWriter(freshDir(), { fileName: 'events.out.tfevents.golden', wallTime: 1.5 });
  writer.writeScalars(7, 1.5, [['loss', 0.25]]);
  writer.close();
  assert.equal(hex(readFileSync(writer.path)), golden);
});

test('EventFileWriter output format: NaN and infinities are stored as float32 NaN and infinities', () => {
  const writer = new EventFileWriter(freshDir(), { fileName: 'events.out.tfevents.special', wallTime: 1 });
  writer.writeScalars(1, 2, [['a', NaN], ['b', Infinity], ['c', -Infinity], ['d', 1e39]]);
  writer.close();
  const [, record] = readTfRecords(readFileSync(writer.path));
  assert.ok(record, 'a second record');
  const floats = [...hex(record.data).matchAll(/15([0-9a-f]{8})/g)].map((m) => m[1]);
  // 1e39 overflows float32, so it becomes +Infinity like the real one.
  assert.deepEqual(floats, ['0000c07f', '0000807f', '000080ff', '0000807f']);
});

test('EventFileWriter output format: the default file name is events.out.tfevents.<ten-digit seconds>.<hostname>', () => {
  const dir = freshDir();
  const early = new EventFileWriter(dir, { hostname: 'node-a', wallTime: 42.9 });
  const late = new EventFileWriter(dir, { hostname: 'node-a', wallTime: 1718000000.25 });
  early.close();
  late.close();
  assert.equal(early.path, join(dir, 'events.out.tfevents.0000000042.node-a'));
  assert.equal(late.path, join(dir, 'events.out.tfevents.1718000000.node-a'));
  assert.deepEqual(readdirSync(dir).sort(), ['events.out.tfevents.0000000042.node-a', 'events.out.tfevents.1718000000.node-a']);
});

test('EventFileWriter output format: the first record is the brain.Event:2 file-version event stamped with the creation time', () => {
  const writer = new EventFileWriter(freshDir(), { hostname: 'h', wallTime: 1718000000.5 });
  writer.close();
  assert.deepStrictEqual(readEventFile(writer.path), [
    { kind: 'fileVersion', wallTime: 1718000000.5, step: 0, fileVersion: 'brain.Event:2' },
  ]);
});

test('EventFileWriter output format: the directory is created when missing', () => {
  const dir = join(freshDir(), 'nested', 'deeper');
  const writer = new EventFileWriter(dir, { hostname: 'h', wallTime: 1 });
  writer.close();
  assert.ok(existsSync(writer.path));
});

test('EventFileWriter round trip: random scalar and session-start events, with NaN, infinities and huge steps, read back exactly', () => {
  fc.assert(
    fc.property(arbitraryOperations, arbitraryWallTime, (operations, creationTime) => {
      const writer = new EventFileWriter(freshDir(), { hostname: 'prop', wallTime: creationTime });
      apply(writer, operations);
      writer.close();
      assert.deepStrictEqual(readEventFile(writer.path), expectedEvents(creationTime, operations));
    }),
    { numRuns: 150 },
  );
});

test('EventFileWriter round trip: a file much larger than the write buffer reads back complete and in order', () => {
  const operations: Operation[] = [];
  for (let step = 0; step < 20_000; step++) {
    if (step % 5000 === 0) operations.push({ op: 'sessionStart', step, wallTime: 1000 + step });
    operations.push({ op: 'scalars', step, wallTime: 1000 + step / 10, values: [['train/loss', 1 / (step + 1)], ['train/accuracy', step / 20_000], ['lr', 1e-3]] });
  }
  const writer = new EventFileWriter(freshDir(), { hostname: 'big', wallTime: 999 });
  apply(writer, operations);
  writer.close();
  assert.ok(statSync(writer.path).size > 1_000_000);
  assert.deepStrictEqual(readEventFile(writer.path), expectedEvents(999, operations));
});

test('EventFileWriter determinism: the same calls produce byte-identical files', () => {
  fc.assert(
    fc.property(arbitraryOperations, (operations) => {
      const options = { fileName: 'events.out.tfevents.replay', wallTime: 1234.5 };
      const first = new EventFileWriter(freshDir(), options);
      const second = new EventFileWriter(freshDir(), options);
      apply(first, operations);
      // Flushing at different moments must not change the bytes.
      for (const [i, o] of operations.entries()) {
        apply(second, [o]);
        if (i % 3 === 0) second.flush();
      }
      first.close();
      second.close();
      assert.ok(readFileSync(first.path).equals(readFileSync(second.path)));
    }),
    { numRuns: 50 },
  );
});

test('EventFileWriter determinism: a different value produces different bytes', () => {
  const options = { fileName: 'events.out.tfevents.x', wallTime: 1 };
  const a = new EventFileWriter(freshDir(), options);
  const b = new EventFileWriter(freshDir(), options);
  a.writeScalars(1, 2, [['loss', 0.5]]);
  b.writeScalars(1, 2, [['loss', 0.25]]);
  a.close();
  b.close();
  assert.ok(!readFileSync(a.path).equals(readFileSync(b.path)));
});

test('EventFileWriter buffering and lifecycle: events are buffered until flush, which writes them all', () => {
  const writer = new EventFileWriter(freshDir(), { hostname: 'buf', wallTime: 5 });
  const headerSize = statSync(writer.path).size;
  assert.ok(headerSize > 0, 'the header is written at creation so TensorBoard can find the run');
  for (let step = 1; step <= 100; step++) writer.writeScalars(step, 5 + step, [['loss', step], ['acc', step / 100]]);
  assert.equal(statSync(writer.path).size, headerSize, 'no scalar reached the file before flush');
  writer.flush();
  assert.equal(readEventFile(writer.path).length, 101);
  writer.close();
});

test('EventFileWriter buffering and lifecycle: buffered bytes are written out before they exceed the buffer size', () => {
  const writer = new EventFileWriter(freshDir(), { hostname: 'drain', wallTime: 5 });
  for (let step = 1; step <= 5000; step++) writer.writeScalars(step, 5, [['a/long/tag/name', step]]);
  const size = statSync(writer.path).size;
  assert.ok(size > 64 * 1024, `file has ${size} bytes before flush`);
  writer.close();
});

test('EventFileWriter buffering and lifecycle: using a closed writer throws EventFileClosedError and closing twice is harmless', () => {
  const writer = new EventFileWriter(freshDir(), { hostname: 'closed', wallTime: 5 });
  writer.close();
  writer.close();
  assert.throws(() => writer.writeScalars(1, 1, [['loss', 1]]), (e: unknown) => e instanceof EventFileClosedError && e.code === 'ERR_TFEVENTS_WRITER_CLOSED');
  assert.throws(() => writer.writeSessionStart(1, 1), EventFileClosedError);
  assert.throws(() => writer.flush(), EventFileClosedError);
});

test('EventFileWriter buffering and lifecycle: an existing file is neither truncated nor reused', () => {
  const dir = freshDir();
  const first = new EventFileWriter(dir, { fileName: 'events.out.tfevents.same', wallTime: 1 });
  first.writeScalars(1, 1, [['loss', 1]]);
  first.close();
  const before = readFileSync(first.path);
  assert.throws(
    () => new EventFileWriter(dir, { fileName: 'events.out.tfevents.same', wallTime: 2 }),
    (e: unknown) => e instanceof EventFileExistsError && e.code === 'ERR_TFEVENTS_FILE_EXISTS' && e.path === first.path,
  );
  assert.ok(readFileSync(first.path).equals(before));
});

test('EventFileWriter buffering and lifecycle: bad arguments throw InvalidArgumentError and write nothing', () => {
  const dir = freshDir();
  for (const options of [{ fileName: '../escape' }, { fileName: '' }, { hostname: 'a/b' }, { wallTime: NaN }, { wallTime: -1 }]) {
    assert.throws(() => new EventFileWriter(dir, { wallTime: 1, ...options }), InvalidArgumentError, JSON.stringify(options));
  }
  const writer = new EventFileWriter(dir, { hostname: 'args', wallTime: 1 });
  const calls: Array<() => void> = [
    () => writer.writeScalars(1.5, 1, [['loss', 1]]),
    () => writer.writeScalars(2 ** 53, 1, [['loss', 1]]),
    () => writer.writeScalars(1, NaN, [['loss', 1]]),
    () => writer.writeScalars(1, Infinity, [['loss', 1]]),
    () => writer.writeScalars(1, 1, [['', 1]]),
    () => writer.writeScalars(1, 1, [['lone\udc00surrogate', 1]]),
    () => writer.writeScalars(1, 1, [['loss', '1' as unknown as number]]),
    () => writer.writeSessionStart(0.5, 1),
  ];
  for (const call of calls) assert.throws(call, InvalidArgumentError);
  writer.close();
  assert.equal(readEventFile(writer.path).length, 1);
});
