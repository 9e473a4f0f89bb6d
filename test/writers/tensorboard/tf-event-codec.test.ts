import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { InvalidArgumentError } from '../../../src/errors/trainledger-error.js';
import { TfSessionStatus, type TfEvent } from '../../../src/writers/tensorboard/tf-event.js';
import { ProtoWriter } from '../../../src/writers/tensorboard/proto-writer.js';
import { decodeTfEvent, encodeTfEvent, writeTfEvent } from '../../../src/writers/tensorboard/tf-event-codec.js';
import { TfEventsFormatError } from '../../../src/writers/tensorboard/errors.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const fromHex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
const invalidEvent = (error: unknown) => error instanceof TfEventsFormatError && error.reason === 'invalid-event';

const safeStep = fc.oneof(fc.nat(10_000), fc.maxSafeInteger(), fc.constantFrom(0, 2 ** 53 - 1, -(2 ** 53 - 1)));
const wallTime = fc.double({ noNaN: true });
const tag = fc.string({ unit: 'grapheme', maxLength: 12 });
const arbitraryEvent: fc.Arbitrary<TfEvent> = fc.oneof(
  fc.record({ kind: fc.constant('fileVersion' as const), wallTime, step: safeStep, fileVersion: fc.string({ unit: 'grapheme' }) }),
  fc.record({
    kind: fc.constant('summary' as const),
    wallTime,
    step: safeStep,
    values: fc.array(
      fc.oneof(fc.record({ tag, simpleValue: fc.double() }), fc.record({ tag })),
      { maxLength: 6 },
    ),
  }),
  fc.record({ kind: fc.constant('sessionLog' as const), wallTime, step: safeStep, status: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) }),
  fc.record({ kind: fc.constant('other' as const), wallTime, step: safeStep }),
);

/**
 * What decoding should give back: simple values narrowed to float32, the rest unchanged, as plain
 * objects (fast-check's records have a null prototype, which deepStrictEqual would flag).
 */
function asStored(event: TfEvent): TfEvent {
  if (event.kind !== 'summary') return { ...event };
  return {
    ...event,
    values: event.values.map((v) => (v.simpleValue === undefined ? { tag: v.tag } : { tag: v.tag, simpleValue: Math.fround(v.simpleValue) })),
  };
}

test('tensorflow.Event encoding: the example scalar event encodes to the bytes derived from summary.proto by hand', () => {
  // 09 <1.5 as LE double>                 wall_time (field 1, wire type 1)
  // 10 07                                 step = 7 (field 2, varint)
  // 2a 0d                                 summary (field 5, length 13)
  //   0a 0b                               Summary.value (field 1, length 11)
  //     0a 04 6c 6f 73 73                 Value.tag = "loss" (field 1, length 4)
  //     15 00 00 80 3e                    Value.simple_value = 0.25f = 0x3e800000 (field 2, fixed32)
  const event: TfEvent = { kind: 'summary', wallTime: 1.5, step: 7, values: [{ tag: 'loss', simpleValue: 0.25 }] };
  assert.equal(hex(encodeTfEvent(event)), '09000000000000f83f' + '1007' + '2a0d' + '0a0b' + '0a046c6f7373' + '150000803e');
});

test('tensorflow.Event encoding: a session start encodes as session_log (field 7) with status START', () => {
  // 10 05 step; 3a 02 session_log (field 7, length 2); 08 01 status = START.
  assert.equal(hex(encodeTfEvent({ kind: 'sessionLog', wallTime: 0, step: 5, status: TfSessionStatus.start })), '10053a020801');
});

test('tensorflow.Event encoding: the file-version header encodes as field 3', () => {
  assert.equal(
    hex(encodeTfEvent({ kind: 'fileVersion', wallTime: 0, step: 0, fileVersion: 'brain.Event:2' })),
    '1a0d' + Buffer.from('brain.Event:2').toString('hex'),
  );
});

test('tensorflow.Event encoding: proto3 default values are omitted but the oneof member is always present', () => {
  assert.equal(hex(encodeTfEvent({ kind: 'other', wallTime: 0, step: 0 })), '');
  assert.equal(hex(encodeTfEvent({ kind: 'summary', wallTime: 0, step: 0, values: [] })), '2a00');
  assert.equal(hex(encodeTfEvent({ kind: 'summary', wallTime: 0, step: 0, values: [{ tag: '', simpleValue: 0 }] })), '2a070a05' + '1500000000');
  assert.equal(hex(encodeTfEvent({ kind: 'sessionLog', wallTime: 0, step: 0, status: 0 })), '3a00');
});

test('tensorflow.Event encoding: a negative zero wall time is kept because its bits differ from the default', () => {
  assert.equal(hex(encodeTfEvent({ kind: 'other', wallTime: -0, step: 0 })), '090000000000000080');
});

test('tensorflow.Event encoding: unusable steps, wall times and tags are rejected with InvalidArgumentError', () => {
  const base = { kind: 'other' as const, wallTime: 1 };
  assert.throws(() => encodeTfEvent({ ...base, step: 2 ** 53 }), InvalidArgumentError);
  assert.throws(() => encodeTfEvent({ ...base, step: 0.5 }), InvalidArgumentError);
  assert.throws(() => encodeTfEvent({ kind: 'other', wallTime: '1' as unknown as number, step: 0 }), InvalidArgumentError);
  assert.throws(
    () => encodeTfEvent({ kind: 'summary', wallTime: 1, step: 0, values: [{ tag: 'bad\ud800', simpleValue: 1 }] }),
    InvalidArgumentError,
  );
  assert.throws(() => encodeTfEvent({ kind: 'sessionLog', wallTime: 1, step: 0, status: 2 ** 31 }), InvalidArgumentError);
});

test('tensorflow.Event encoding into a reused writer: a reset writer encodes each event exactly as a fresh encoding would', () => {
  const scratch = new ProtoWriter(1);
  fc.assert(
    fc.property(arbitraryEvent, (event) => {
      assert.deepEqual(writeTfEvent(scratch.reset(), event).finish(), encodeTfEvent(event));
    }),
  );
});

test('tensorflow.Event encoding into a reused writer: a rejected event leaves the writer as it was', () => {
  const writer = writeTfEvent(new ProtoWriter(), { kind: 'other', wallTime: 0, step: 3 });
  const before = Uint8Array.from(writer.finish());
  assert.throws(
    () => writeTfEvent(writer, { kind: 'summary', wallTime: 1, step: 1, values: [{ tag: 'ok', simpleValue: 1 }, { tag: '\ud800', simpleValue: 2 }] }),
    InvalidArgumentError,
  );
  assert.deepEqual(writer.finish(), before);
});

test('tensorflow.Event decoding: any event survives encoding and decoding, with scalars narrowed to float32', () => {
  fc.assert(
    fc.property(arbitraryEvent, (event) => {
      assert.deepStrictEqual(decodeTfEvent(encodeTfEvent(event)), asStored(event));
    }),
    { numRuns: 1000 },
  );
});

test('tensorflow.Event decoding: encoding is canonical: re-encoding a decoded event reproduces its bytes', () => {
  fc.assert(
    fc.property(arbitraryEvent, (event) => {
      const bytes = encodeTfEvent(event);
      assert.deepEqual(encodeTfEvent(decodeTfEvent(bytes)), bytes);
    }),
    { numRuns: 500 },
  );
});

test('tensorflow.Event decoding: fields and oneof members it does not model are skipped, as TensorFlow writes them', () => {
  // file_version event followed by source_metadata (field 10) { writer (1) = "tf" }.
  assert.deepStrictEqual(decodeTfEvent(fromHex('1a0d' + Buffer.from('brain.Event:2').toString('hex') + '5204' + '0a027466')), {
    kind: 'fileVersion',
    wallTime: 0,
    step: 0,
    fileVersion: 'brain.Event:2',
  });
  // graph_def (field 4) is another member of `what`.
  assert.deepStrictEqual(decodeTfEvent(fromHex('1003' + '2202abcd')), { kind: 'other', wallTime: 0, step: 3 });
  // A Value carrying metadata (9) and a tensor (8) instead of simple_value: TF2-style scalar. The
  // tensor is kept as its bytes, the metadata as its (here empty) plugin data.
  assert.deepStrictEqual(decodeTfEvent(fromHex('2a0c' + '0a0a' + '0a0161' + '4a00' + '4203' + '080132')), {
    kind: 'summary',
    wallTime: 0,
    step: 0,
    values: [{ tag: 'a', tensor: fromHex('080132'), metadata: { pluginName: '', content: new Uint8Array(0) } }],
  });
  // Audio (6) is a member of the `value` oneof it does not model: it displaces simple_value.
  assert.deepStrictEqual(decodeTfEvent(fromHex('2a0c' + '0a0a' + '0a0161' + '150000803f' + '3200')), {
    kind: 'summary',
    wallTime: 0,
    step: 0,
    values: [{ tag: 'a' }],
  });
});

test('tensorflow.Event decoding: a summary split over two fields merges its values, as protobuf requires', () => {
  const a = encodeTfEvent({ kind: 'summary', wallTime: 0, step: 0, values: [{ tag: 'a', simpleValue: 1 }] });
  const b = encodeTfEvent({ kind: 'summary', wallTime: 0, step: 0, values: [{ tag: 'b', simpleValue: 2 }] });
  const joined = new Uint8Array([...a, ...b]);
  assert.deepStrictEqual(decodeTfEvent(joined), {
    kind: 'summary',
    wallTime: 0,
    step: 0,
    values: [
      { tag: 'a', simpleValue: 1 },
      { tag: 'b', simpleValue: 2 },
    ],
  });
});

test('tensorflow.Event decoding: a known field with the wrong wire type is a format error naming the field', () => {
  // step (field 2) sent as fixed64 (wire type 1).
  assert.throws(
    () => decodeTfEvent(fromHex('110700000000000000'), 12),
    (error: unknown) => invalidEvent(error) && /step/.test((error as Error).message) && (error as TfEventsFormatError).offset === 12,
  );
});

test('tensorflow.Event decoding: a nested length running past its parent is a format error', () => {
  assert.throws(() => decodeTfEvent(fromHex('2a05' + '0a09' + '0a016115')), invalidEvent);
});
