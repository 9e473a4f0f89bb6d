import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { LogFile } from '../../src/log/log-file.js';
import { replayRun } from '../../src/log/replay.js';
import { EventStorage } from '../../src/storage/event-storage.js';
import { diffRuns, diffStates, type DiffProbe } from '../../src/cli/diff-runs.js';
import { tempDir } from '../helpers.js';
import { cli } from './cli-harness.js';
import { bigRun } from './big-log.js';

const NAMES = ['loss', 'lr', 'eval/acc', 'time', 'memory/x', 'only'];
const value = fc.oneof(fc.constantFrom(0, 1, 2, 0.5, NaN, -0, Infinity), fc.double());
const op = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('put' as const), name: fc.nat(NAMES.length - 2), value }) },
  // A put for an iteration before ones the metric already has (what the streamed merge cannot take).
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('back' as const), name: fc.nat(NAMES.length - 2), value, back: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('step' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('resume' as const), back: fc.nat(6) }) },
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

/** Records `ops` as a run (resumes included) in a fresh log; returns its path and run id. */
async function record(path: string, ops: readonly Op[], extra: string | null): Promise<number> {
  const log = LogFile.open(path);
  let writer = log.createRun({ name: 'r' });
  const runId = writer.runId;
  let storage = new EventStorage({ sink: writer });
  storage.append({ type: 'run-started', v: 1, data: { name: 'r', config: {}, startIter: 0, wallTime: 0, host: { hostname: 'h', platform: 'p', node: 'n', pid: 1 } } });
  const steps: number[] = [];
  let resumes = 0;
  for (const o of ops) {
    if (o.kind === 'put' || o.kind === 'back') {
      const name = NAMES[o.name]!;
      // The eval metric is put late, for two iterations back, as an eval hook does.
      const back = o.kind === 'back' ? o.back : name === 'eval/acc' ? 2 : 0;
      storage.putScalar(name, o.value, o.name % 2 === 0, Math.max(0, storage.iter - back));
      if (extra !== null && o.name === 0) storage.putScalar(extra, o.value);
    } else if (o.kind === 'step') {
      steps.push(storage.iter);
      storage.step(storage.iter);
    } else if (resumes < 1 && steps.length > 0) {
      const k = steps[Math.max(0, steps.length - 1 - o.back)]!;
      await writer.close();
      resumes++;
      const reader = LogFile.open(path, { readonly: true });
      const { state, lastSeq } = replayRun(reader, runId, { untilIter: k });
      reader.close();
      steps.splice(steps.indexOf(k) + 1);
      writer = log.appendToRun(runId);
      storage = new EventStorage({ sink: writer, state });
      storage.append({ type: 'resumed', v: 1, data: { iter: k, toSeq: lastSeq, wallTime: 1 } });
    }
  }
  storage.append({ type: 'run-completed', v: 1, data: { iter: storage.iter, wallTime: 2 } });
  await writer.close();
  log.close();
  return runId;
}

test('diff walking both logs reports what comparing both replayed states reports, for random runs with late puts and resumes', async () => {
  const dir = tempDir();
  let n = 0;
  let streamedCases = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(op, { maxLength: 80 }),
      fc.boolean(),
      fc.array(fc.tuple(fc.nat(79), value), { maxLength: 4 }),
      fc.constantFrom(0, 0.5),
      fc.boolean(),
      fc.option(fc.subarray(NAMES, { minLength: 1 }), { freq: 4 }),
      async (all, backPuts, changes, tolerance, includeTiming, only) => {
        const ops = backPuts ? all : all.filter((o) => o.kind !== 'back');
        // Run B: run A with a few values changed and a metric run A does not have.
        const other = ops.map((o) => ({ ...o }));
        for (const [at, v] of changes) {
          const o = other[at];
          if (o?.kind === 'put') o.value = v;
        }
        const pathA = join(dir, `a${n}.sqlite`);
        const pathB = join(dir, `b${n++}.sqlite`);
        const runA = await record(pathA, ops, null);
        const runB = await record(pathB, other, 'only');
        const a = LogFile.open(pathA, { readonly: true });
        const b = LogFile.open(pathB, { readonly: true });
        try {
          const probe: DiffProbe = { peakWaiting: 0, batchesA: 0, batchesB: 0, replayed: false };
          const streamed = diffRuns(a, runA, b, runB, { tolerance, includeTiming, only: only ?? undefined, probe });
          if (!probe.replayed) streamedCases++;
          const replayed = diffStates(replayRun(a, runA).state, replayRun(b, runB).state, tolerance, includeTiming, only ?? undefined);
          assert.deepStrictEqual(streamed, replayed);
        } finally {
          a.close();
          b.close();
        }
      },
    ),
    { numRuns: 16 },
  );
  // Runs whose metrics go back in iteration are compared through replay: most must not.
  assert.ok(streamedCases >= 5, `${streamedCases} of 16 cases streamed`);
});

test('diff holds the samples of an iteration or two of each metric, never a run', async () => {
  const dir = tempDir();
  await bigRun(join(dir, 'a.sqlite'), 2000, (it, k) => it * 10 + k);
  await bigRun(join(dir, 'b.sqlite'), 2000, (it, k) => (it === 1500 && k === 3 ? -1 : it * 10 + k));
  const a = LogFile.open(join(dir, 'a.sqlite'), { readonly: true });
  const b = LogFile.open(join(dir, 'b.sqlite'), { readonly: true });
  const probe: DiffProbe = { peakWaiting: 0, batchesA: 0, batchesB: 0, replayed: false };
  const r = diffRuns(a, 1, b, 1, { probe });
  a.close();
  b.close();
  assert.deepEqual(r.first, { iter: 1500, name: 'm3', a: 15003, b: -1 });
  assert.equal(probe.replayed, false);
  // Every batch read once; at most two iterations of each of the 10 metrics of each run waiting.
  assert.ok(probe.batchesA >= 2000 && probe.batchesA <= 2002 && probe.batchesB === probe.batchesA, `${probe.batchesA} / ${probe.batchesB} batches`);
  assert.ok(probe.peakWaiting <= 2 * 2 * 10, `${probe.peakWaiting} samples waiting at once (20,000 per run)`);
});

test('diff finds a divergence at iterations older than a run keeps in its histories', async () => {
  const dir = tempDir();
  // historyMaxLength 50: a replayed state holds only each metric's last 50 samples.
  await bigRun(join(dir, 'a.sqlite'), 200, (it, k) => it + k, 50);
  await bigRun(join(dir, 'b.sqlite'), 200, (it, k) => (it === 7 && k === 0 ? 0.5 : it + k), 50);
  const r = await cli('diff', join(dir, 'a.sqlite'), join(dir, 'b.sqlite'));
  assert.equal(r.code, 1, r.err);
  assert.match(r.out, /^first divergence at iteration 7: m0 7 vs 0\.5 /);
  const same = await cli('diff', join(dir, 'a.sqlite'), join(dir, 'a.sqlite'));
  assert.equal(same.out, 'no divergence: 10 metrics agree at 200 iterations (tolerance 0)');
});
