import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchEncoder, visitBatch } from '../../src/log/batch-codec.js';
import { event, type TrainEvent } from '../../src/events/train-event.js';

test("the batch visitor gives each JSON record's byte range: cutting it out leaves the other records whole", () => {
  const enc = new BatchEncoder();
  const point = event('write-point', { writers: ['json:out/m.json'] });
  enc.scalar(0, true, 4, 0.5);
  enc.json(point);
  enc.step(4, 100.25);
  enc.json(event('checkpoint-saved', { iter: 4, name: 'model_4', path: '/x' }));
  const body = enc.take();
  const ranges: Array<[TrainEvent, number, number]> = [];
  visitBatch(body, { scalar() {}, step() {}, json: (e, at, end) => ranges.push([e, at, end]) });
  assert.deepEqual(
    ranges.map(([e]) => e.type),
    ['write-point', 'checkpoint-saved'],
  );
  const [, at, end] = ranges[0] ?? assert.fail('no JSON record visited');
  const cut = Buffer.concat([body.subarray(0, at), body.subarray(end)]);
  const seen: string[] = [];
  visitBatch(cut, {
    scalar: (id, hint, iter, value) => seen.push(`scalar ${id} ${hint} ${iter} ${value}`),
    step: (iter, wallTime) => seen.push(`step ${iter} ${wallTime}`),
    json: (e) => seen.push(e.type),
  });
  assert.deepEqual(seen, ['scalar 0 true 4 0.5', 'step 4 100.25', 'checkpoint-saved']);
});
