import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchEncoder, visitBatch } from '../../src/log/batch-codec.js';
import fc from 'fast-check';
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

type Rec = { kind: 'scalar'; id: number; hint: boolean; iter: number; value: number } | { kind: 'step'; iter: number; wallTime: number };

function decodeAll(body: Uint8Array): Rec[] {
  const out: Rec[] = [];
  visitBatch(body, {
    scalar: (id, hint, iter, value) => out.push({ kind: 'scalar', id, hint, iter, value }),
    step: (iter, wallTime) => out.push({ kind: 'step', iter, wallTime }),
    json: () => assert.fail('no JSON record was written'),
  });
  return out;
}

test('any sequence of scalar and step records decodes to exactly what was encoded: ids, hints, iterations in any order, every double', () => {
  const u32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
  const value = fc.oneof(fc.double(), fc.float().map((f) => f), fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, 5e-324, 2 ** -149));
  const rec: fc.Arbitrary<Rec> = fc.oneof(
    fc.record({ kind: fc.constant('scalar' as const), id: u32, hint: fc.boolean(), iter: u32, value }),
    fc.record({ kind: fc.constant('step' as const), iter: u32, wallTime: value }),
  );
  fc.assert(
    fc.property(fc.array(rec, { minLength: 1, maxLength: 40 }), (recs) => {
      const enc = new BatchEncoder();
      for (const r of recs) r.kind === 'scalar' ? enc.scalar(r.id, r.hint, r.iter, r.value) : enc.step(r.iter, r.wallTime);
      // Object.is through deepEqual: NaN equals NaN and -0 differs from 0.
      assert.deepEqual(decodeAll(enc.take()), recs.map((r) => ({ ...r })));
    }),
    { numRuns: 2000 },
  );
});

test('a scalar takes 7 bytes when its value is a float32 and its iteration is the previous record’s, 11 when it needs a double', () => {
  const enc = new BatchEncoder();
  for (let k = 0; k < 10; k++) enc.scalar(k, true, 5, Math.fround(0.1 * k));
  assert.equal(enc.length, 1 + 1 + 1 + 4 + 9 * 7); // the first record's iteration is 5 − 0: one byte too
  enc.reset();
  enc.scalar(3, false, 1_000_000, 0.1);
  enc.scalar(3, false, 1_000_000, 0.1);
  enc.step(1_000_000, 1.7e9);
  assert.equal(enc.length, 1 + 1 + 3 + 8 + (1 + 1 + 1 + 8) + (1 + 1 + 8));
});

test('batches in the records of schema 4 logs (fixed 17-byte scalars, 13-byte steps) still decode', () => {
  const v = new DataView(new ArrayBuffer(17 + 17 + 13));
  v.setUint8(0, 1);
  v.setUint32(1, 7, true);
  v.setUint32(5, 300, true);
  v.setFloat64(9, 0.1, true);
  v.setUint8(17, 2);
  v.setUint32(18, 8, true);
  v.setUint32(22, 300, true);
  v.setFloat64(26, NaN, true);
  v.setUint8(34, 4);
  v.setUint32(35, 300, true);
  v.setFloat64(39, 1.5, true);
  assert.deepEqual(decodeAll(new Uint8Array(v.buffer)), [
    { kind: 'scalar', id: 7, hint: true, iter: 300, value: 0.1 },
    { kind: 'scalar', id: 8, hint: false, iter: 300, value: NaN },
    { kind: 'step', iter: 300, wallTime: 1.5 },
  ]);
});

test('a batch cut anywhere inside a record is LogCorruptError, never a misread record', () => {
  const enc = new BatchEncoder();
  enc.scalar(300, true, 70_000, 0.1);
  enc.scalar(1, false, 70_001, Math.fround(2.5));
  enc.step(70_001, 1.7e9);
  const body = enc.take();
  const ends = new Set<number>();
  let at = 0;
  for (const r of decodeAll(body)) at += r.kind === 'step' ? 10 : r.id === 300 ? 1 + 2 + 3 + 8 : 1 + 1 + 1 + 4;
  assert.equal(at, body.length);
  ends.add(1 + 2 + 3 + 8).add(1 + 2 + 3 + 8 + 7).add(body.length);
  const refused: number[] = [];
  for (let cut = 1; cut < body.length; cut++) {
    if (ends.has(cut)) continue;
    assert.throws(() => decodeAll(body.subarray(0, cut)), (e: unknown) => (e as { code?: string }).code === 'ERR_LOG_CORRUPT', `cut at ${cut}`);
    refused.push(cut);
  }
  assert.equal(refused.length, body.length - 1 - 2);
});

test('a varint longer than 5 bytes is LogCorruptError naming the record', () => {
  const body = new Uint8Array([6, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0, 0, 0, 0, 0]);
  assert.throws(() => decodeAll(body), (e: unknown) => (e as { code?: string }).code === 'ERR_LOG_CORRUPT' && /longer than 5 bytes/.test((e as Error).message));
});
