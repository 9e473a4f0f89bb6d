import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTfEvent, encodeTfEvent } from '../../../src/writers/tensorboard/tf-event-codec.js';
import type { TfEvent } from '../../../src/writers/tensorboard/tf-event.js';
import { InvalidArgumentError } from '../../../src/errors/trainledger-error.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('an image, a histogram and a tensor with plugin metadata round-trip through the Event encoding', () => {
  const event: TfEvent = {
    kind: 'summary',
    wallTime: 2,
    step: 9,
    values: [
      { tag: 'img', image: { height: 2, width: 3, colorspace: 4, encoded: new Uint8Array([1, 2, 3]) } },
      { tag: 'h', histogram: { min: -1, max: 2, num: 5, sum: 1.5, sumSquares: 7, bucketLimits: [0, 2], buckets: [3, 2] } },
      { tag: '_hparams_/session_start_info', tensor: new Uint8Array([8, 1]), metadata: { pluginName: 'hparams', content: new Uint8Array([0x1a, 0]) } },
    ],
  };
  assert.deepStrictEqual(decodeTfEvent(encodeTfEvent(event)), event);
});

test('an image value is encoded canonically: Value{tag, image{height, width, colorspace, encoded}}', () => {
  const bytes = encodeTfEvent({ kind: 'summary', wallTime: 0, step: 0, values: [{ tag: 'a', image: { height: 1, width: 2, colorspace: 1, encoded: new Uint8Array([0xff]) } }] });
  // summary(5) { value(1) { tag(1) "a", image(4) { height(1)=1, width(2)=2, colorspace(3)=1, encoded(4)=ff } } }
  assert.equal(hex(bytes), '2a10' + '0a0e' + '0a0161' + '2209' + '0801' + '1002' + '1801' + '2201ff');
});

test('histogram counts and limits are packed doubles; zero fields are omitted', () => {
  const bytes = encodeTfEvent({ kind: 'summary', wallTime: 0, step: 0, values: [{ tag: '', histogram: { min: 0, max: 1, num: 1, sum: 1, sumSquares: 1, bucketLimits: [1], buckets: [1] } }] });
  const one = '000000000000f03f';
  assert.equal(hex(bytes), '2a3c' + '0a3a' + '2a38' + `11${one}19${one}21${one}29${one}3208${one}3a08${one}`);
});

test('a value setting two members of the value oneof, or limits and buckets of different lengths, is refused', () => {
  assert.throws(
    () => encodeTfEvent({ kind: 'summary', wallTime: 0, step: 0, values: [{ tag: 'x', simpleValue: 1, image: { height: 1, width: 1, colorspace: 1, encoded: new Uint8Array(1) } }] }),
    (e: unknown) => e instanceof InvalidArgumentError && /"x" sets 2 of simpleValue, image, histogram and tensor/.test(e.message),
  );
  assert.throws(
    () => encodeTfEvent({ kind: 'summary', wallTime: 0, step: 0, values: [{ tag: 'h', histogram: { min: 0, max: 1, num: 1, sum: 1, sumSquares: 1, bucketLimits: [1, 2], buckets: [1] } }] }),
    (e: unknown) => e instanceof InvalidArgumentError && /histogram "h" has 2 bucket limits and 1 buckets/.test(e.message),
  );
});
