import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { EventStorage } from '../../src/storage/event-storage.js';
import type { StorageState } from '../../src/storage/storage-state.js';
import { CSVWriter, CSV_HEADER, inLockstep } from '../../src/writers/csv-writer.js';
import { pythonFloat } from '../../src/writers/python-json.js';
import { tempDir } from '../helpers.js';

const NAMES = ['loss', 'b,comma', 'a"quote', 'lr', 'Z'];

/** The CSV rows of a write, by definition: every new sample, sorted by iteration then name (stably). */
function expectedRows(state: StorageState, written: Map<string, number>): string {
  const rows: Array<[number, string, number]> = [];
  const m = state.metrics;
  m.names.forEach((name, i) => {
    const all = m.histories[i]!.values();
    for (const [v, it] of all.slice(written.get(name) ?? 0)) rows.push([it, name, v]);
    written.set(name, all.length);
  });
  rows.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  const steps = state.stepTimes.values();
  const wall = (it: number) => steps.filter(([, s]) => s <= it).at(-1)?.[0] ?? state.info.run?.wallTime ?? 0;
  const field = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return rows.map(([it, name, v]) => `${it},${field(name)},${pythonFloat(v)},${wall(it).toFixed(6)}\n`).join('');
}

test('CSV rows come in iteration then name order, samples of one metric and iteration in the order put, whatever iterations the samples were put for', () => {
  const dir = tempDir();
  let n = 0;
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.record({ kind: fc.constant('put' as const), name: fc.nat(NAMES.length - 1), value: fc.double(), back: fc.option(fc.nat(30), { freq: 3 }) }),
          fc.record({ kind: fc.constant('step' as const) }),
          fc.record({ kind: fc.constant('write' as const) }),
        ),
        { maxLength: 300 },
      ),
      (ops) => {
        const path = join(dir, `m${n++}.csv`);
        const storage = new EventStorage();
        const writer = new CSVWriter(path);
        const written = new Map<string, number>();
        let expected = CSV_HEADER;
        for (const o of ops) {
          if (o.kind === 'put') storage.putScalar(NAMES[o.name]!, o.value, true, o.back === null ? undefined : Math.max(0, storage.iter - o.back));
          else if (o.kind === 'step') storage.step(1000 + storage.iter * 1.5);
          else {
            expected += expectedRows(storage.state, written);
            writer.write(storage.state);
          }
        }
        writer.close();
        assert.equal(readFileSync(path, { encoding: 'utf8', flag: 'a+' }) || CSV_HEADER, expected);
      },
    ),
    { numRuns: 200 },
  );
});

test('a write of metrics put at the same iterations, once each, goes iteration by iteration without the merge, and writes the same rows', () => {
  const path = join(tempDir(), 'm.csv');
  const storage = new EventStorage();
  const writer = new CSVWriter(path);
  const written = new Map<string, number>();
  let expected = CSV_HEADER;
  for (let i = 0; i < 50; i++) {
    NAMES.forEach((name, k) => storage.putScalar(name, i / (k + 1)));
    storage.step(1000 + i * 1.5);
    if (i % 7 === 6) {
      expected += expectedRows(storage.state, written);
      writer.write(storage.state);
    }
  }
  writer.close();
  assert.equal(readFileSync(path, 'utf8'), expected);
});

test('only parts with one sample at each of the same, increasing iterations are in lockstep', () => {
  const parts = (...its: number[][]) => its.map((i) => ({ iters: Uint32Array.from(i) }));
  assert.deepEqual(
    [
      inLockstep(parts([1, 2, 3], [1, 2, 3], [1, 2, 3])),
      inLockstep(parts([4])),
      inLockstep(parts([1, 2, 3], [1, 2])),
      inLockstep(parts([1, 2, 3], [1, 2, 4])),
      inLockstep(parts([1, 1], [1, 1])),
      inLockstep(parts([2, 1], [2, 1])),
    ],
    [true, true, false, false, false, false],
  );
});
