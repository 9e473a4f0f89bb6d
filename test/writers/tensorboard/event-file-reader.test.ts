import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { decodeEventFile, readEventFile } from '../../../src/writers/tensorboard/event-file-reader.js';
import { EventFileWriter } from '../../../src/writers/tensorboard/event-file-writer.js';
import { TfEventsFormatError } from '../../../src/writers/tensorboard/errors.js';
import { frameTfRecord } from '../../../src/writers/tensorboard/tf-record.js';

const root = mkdtempSync(join(tmpdir(), 'trainledger-tfevents-reader-'));
after(() => rmSync(root, { recursive: true, force: true }));
let fileCounter = 0;

/** A small event file: header, a session start and three scalar events. */
function writeSample(): string {
  const writer = new EventFileWriter(root, { fileName: `events.out.tfevents.sample-${fileCounter++}`, wallTime: 100 });
  writer.writeSessionStart(0, 100);
  for (let step = 1; step <= 3; step++) writer.writeScalars(step, 100 + step, [['loss', 1 / step], ['accuracy', step / 3]]);
  writer.close();
  return writer.path;
}

const formatError = (reason: string, path: string) => (error: unknown) =>
  error instanceof TfEventsFormatError &&
  error.code === 'ERR_TFEVENTS_FORMAT' &&
  error.reason === reason &&
  error.message.includes(path);

test('readEventFile decodes everything the writer wrote', () => {
  const events = readEventFile(writeSample());
  assert.deepEqual(
    events.map((e) => e.kind),
    ['fileVersion', 'sessionLog', 'summary', 'summary', 'summary'],
  );
  assert.deepStrictEqual(events[4], {
    kind: 'summary',
    wallTime: 103,
    step: 3,
    values: [
      { tag: 'loss', simpleValue: Math.fround(1 / 3) },
      { tag: 'accuracy', simpleValue: 1 },
    ],
  });
});

test('readEventFile: flipping any single byte of the file gives a corrupt-record error naming the file', () => {
  const path = writeSample();
  const original = readFileSync(path);
  for (let i = 0; i < original.length; i++) {
    const damaged = Buffer.from(original);
    damaged.writeUInt8(damaged.readUInt8(i) ^ 0x5a, i);
    writeFileSync(path, damaged);
    assert.throws(() => readEventFile(path), formatError('corrupt', path), `byte ${i}`);
  }
});

test('readEventFile: truncating the file inside a record gives a truncated-record error naming the file', () => {
  const path = writeSample();
  const size = readFileSync(path).length;
  for (const cut of [1, 4, 13]) {
    truncateSync(path, size - cut);
    assert.throws(() => readEventFile(path), formatError('truncated', path), `cut ${cut}`);
  }
});

test('readEventFile: a truncation error reports the offset of the record that was cut', () => {
  const path = writeSample();
  const bytes = readFileSync(path);
  const starts = recordStarts(bytes);
  const lastRecordStart = starts[starts.length - 1];
  assert.throws(
    () => decodeEventFile(bytes.subarray(0, bytes.length - 2)),
    (error: unknown) => error instanceof TfEventsFormatError && error.offset === lastRecordStart,
  );
});

test('readEventFile: an intact record whose payload is not an Event gives an invalid-event error', () => {
  const path = join(root, 'events.out.tfevents.garbage');
  writeFileSync(path, frameTfRecord(Uint8Array.of(0xff, 0xff)));
  assert.throws(() => readEventFile(path), formatError('invalid-event', path));
});

test('readEventFile: an empty file holds no events', () => {
  assert.deepEqual(decodeEventFile(new Uint8Array(0)), []);
});

/** Offsets of the records of an intact file, found by walking its length fields. */
function recordStarts(bytes: Buffer): number[] {
  const starts: number[] = [];
  for (let pos = 0; pos < bytes.length; pos += 16 + bytes.readUInt32LE(pos)) starts.push(pos);
  return starts;
}
