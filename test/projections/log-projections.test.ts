import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TrainerBase } from '../../src/engine/trainer-base.js';
import { HookError } from '../../src/engine/errors.js';
import { PeriodicWriter } from '../../src/hooks/periodic-writer.js';
import { CallbackHook } from '../../src/hooks/callback-hook.js';
import { JSONWriter } from '../../src/writers/json-writer.js';
import { CSVWriter } from '../../src/writers/csv-writer.js';
import { TensorBoardWriter } from '../../src/writers/tensorboard-writer.js';
import { CommonMetricPrinter } from '../../src/writers/common-metric-printer.js';
import { replayWriters } from '../../src/projections/replay-writers.js';
import { LogFile } from '../../src/log/log-file.js';
import { LogWriteError, ProjectionWriteError } from '../../src/log/errors.js';
import { decodeBatch } from '../../src/log/batch-codec.js';
import { replayRun } from '../../src/log/replay.js';
import { memoryLogger } from '../../src/util/logger.js';
import type { TrainEvent } from '../../src/events/train-event.js';
import { tempDir } from '../helpers.js';
import { ProbeWriter } from './probe-writer.js';
import { readEventFile } from '../../src/writers/tensorboard/event-file-reader.js';

/** Deterministic metrics: two runs of it put the same values at the same iterations. */
class Curve extends TrainerBase {
  runStep(): void {
    this.storage.putScalar('loss', 1 / (1 + this.iter) + (this.iter % 3) * 0.01);
    this.storage.putScalar('lr', 0.1 * (1 - this.iter / 1000), false);
  }
}

function events(path: string): TrainEvent[] {
  const log = LogFile.open(path, { readonly: true });
  try {
    const names = log.names(1);
    return [...log.batches(1)].flatMap((b) => decodeBatch(b.body, names));
  } finally {
    log.close();
  }
}

function writers(dir: string) {
  return [new JSONWriter(join(dir, 'metrics.json')), new CSVWriter(join(dir, 'metrics.csv')), new TensorBoardWriter(join(dir, 'tb'), { fileName: 'events' })];
}

test("writers with a spec run on the log's commit thread and write what a replay of the log writes, byte for byte", async () => {
  const dir = tempDir();
  const t = new Curve({ log: join(dir, 'log.sqlite') });
  const ws = writers(join(dir, 'live'));
  const onThread: boolean[] = [];
  t.register(new PeriodicWriter(ws, 20), new CallbackHook({ beforeTrain: (tr) => ws.forEach((w) => onThread.push(tr.runsOnCommitThread(w.id))) }));
  await t.train(0, 130);
  assert.deepEqual(onThread, [true, true, true]);

  const log = LogFile.open(join(dir, 'log.sqlite'), { readonly: true });
  replayWriters(log, 1, writers(join(dir, 'replayed')));
  log.close();
  for (const f of ['metrics.json', 'metrics.csv', 'tb/events']) {
    const live = readFileSync(join(dir, 'live', f));
    assert.ok(live.length > 100, `${f} was written`);
    assert.deepEqual(live, readFileSync(join(dir, 'replayed', f)), f);
  }
  // Write points at 19, 39, ..., 119, the last step (129) and after training; one line each, but
  // the one after training has nothing new.
  const lines = readFileSync(join(dir, 'live', 'metrics.json'), 'utf8').trim().split('\n');
  assert.deepEqual(lines.map((l) => (JSON.parse(l) as { iteration: number }).iteration), [19, 39, 59, 79, 99, 119, 129]);
  // The log holds the writers' cursors, as if they had run on the training thread, and never a write point.
  const es = events(join(dir, 'log.sqlite'));
  assert.equal(es.filter((e) => e.type === 'write-point').length, 0);
  const cursors = es.filter((e) => e.type === 'writer-cursor');
  assert.deepEqual([...new Set(cursors.map((e) => e.data.writer))].sort(), ws.map((w) => w.id).sort());
  assert.deepEqual(cursors.filter((e) => e.data.writer === ws[0]!.id).map((e) => e.data.iter), [19, 39, 59, 79, 99, 119, 129]);
});

test("on the log's commit thread a writer sees the state of its write point, as on the training thread", async () => {
  const out: Record<string, string> = {};
  for (const thread of ['main', 'log'] as const) {
    const dir = tempDir();
    const t = new Curve({ log: join(dir, 'log.sqlite') });
    t.register(
      new PeriodicWriter([new JSONWriter(join(dir, 'metrics.json'))], 10, { thread }),
      // After the writer: the line of iteration k is written before this value exists (and, the
      // writer being past k by the next write point, it is never written: as in detectron2).
      new CallbackHook({ afterStep: (tr) => { if (tr.iter % 10 === 9) tr.storage.putScalar('late', tr.iter); } }),
    );
    await t.train(0, 45);
    out[thread] = readFileSync(join(dir, 'metrics.json'), 'utf8');
  }
  assert.equal(out.log, out.main);
  const first = JSON.parse(out.log!.split('\n')[0]!) as Record<string, number>;
  assert.equal(first.iteration, 9);
  assert.equal(first.late, undefined);
  assert.doesNotMatch(out.log!, /late/);
  assert.equal(out.log!.trim().split('\n').length, 5);
});

test('a writer without a spec, and every writer of a trainer without a log, runs on the training thread', async () => {
  const dir = tempDir();
  const logger = memoryLogger();
  const seen: number[] = [];
  const t = new Curve({ log: join(dir, 'log.sqlite') });
  const printer = new CommonMetricPrinter(40, { logger });
  t.register(
    new PeriodicWriter([printer, new JSONWriter(join(dir, 'a.json'))], 10),
    new CallbackHook({ afterStep: (tr) => { if (tr.iter === 9) seen.push(logger.lines.length, Number(tr.runsOnCommitThread(printer.id))); } }),
  );
  await t.train(0, 40);
  assert.deepEqual(seen, [1, 0], 'the printer printed at iteration 9, synchronously');

  const bare = new Curve();
  const lines: number[] = [];
  bare.register(
    new PeriodicWriter([new JSONWriter(join(dir, 'b.json'))], 10),
    new CallbackHook({ afterStep: (tr) => { if (tr.iter === 19) lines.push(readFileSync(join(dir, 'b.json'), 'utf8').trim().split('\n').length); } }),
  );
  await bare.train(0, 30);
  assert.deepEqual(lines, [2], 'without a log, the file has its lines at once');
});

test("flush() returns once the writers on the log's thread have written everything handed over", async () => {
  const dir = tempDir();
  const t = new Curve({ log: join(dir, 'log.sqlite') });
  const last: number[] = [];
  t.register(
    new PeriodicWriter([new JSONWriter(join(dir, 'metrics.json'))], 10),
    new CallbackHook({
      // Step 29's batch, with its write point, was handed over when step 29 ended.
      beforeStep: async (tr) => {
        if (tr.iter !== 30) return;
        await tr.appender!.flush();
        const lines = readFileSync(join(dir, 'metrics.json'), 'utf8').trim().split('\n');
        last.push((JSON.parse(lines.at(-1)!) as { iteration: number }).iteration);
      },
    }),
  );
  await t.train(0, 50);
  assert.deepEqual(last, [29]);
});

test("a writer that fails on the log's commit thread fails the run with ProjectionWriteError at the next write point, and the log keeps every step", async () => {
  const dir = tempDir();
  const blocked = join(dir, 'metrics.json');
  mkdirSync(blocked); // a directory where the file should go: opening it fails
  const t = new Curve({ log: join(dir, 'log.sqlite') });
  t.register(
    new PeriodicWriter([new JSONWriter(blocked)], 10),
    // Once the write point of step 9 is processed, its failure is known.
    new CallbackHook({ beforeStep: async (tr) => { if (tr.iter === 10) await tr.appender!.flush(); } }),
  );
  const err = await t.train(0, 2000).then(
    () => assert.fail('train() should reject'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof HookError, `got ${String(err)}`);
  const cause = err.cause;
  assert.ok(cause instanceof ProjectionWriteError, `got ${String(cause)}`);
  assert.equal(cause.code, 'ERR_PROJECTION_WRITE');
  assert.match(cause.message, /metrics\.json/);
  assert.equal(t.iter, 19, 'the next write point failed the step');
  const log = LogFile.open(join(dir, 'log.sqlite'), { readonly: true });
  const { state } = replayRun(log, 1);
  log.close();
  assert.equal(state.info.status, 'failed');
  assert.equal(state.info.endIter, 19);
  // Every step before the failing one is in the log, and no write point reached it.
  assert.equal(state.stepTimes.length, 19);
  assert.equal(events(join(dir, 'log.sqlite')).filter((e) => e.type === 'write-point').length, 0);
});

test("a writer that fails at the last write, on the log's commit thread, fails train() and the run is recorded as failed", async () => {
  const dir = tempDir();
  const blocked = join(dir, 'metrics.json');
  mkdirSync(blocked);
  const t = new Curve({ log: join(dir, 'log.sqlite') });
  t.register(new PeriodicWriter([new JSONWriter(blocked)], 10));
  await assert.rejects(t.train(0, 5), (e: unknown) => e instanceof ProjectionWriteError && /metrics\.json/.test(e.message));
  // The write points after the failure (the last step's, and after training) never reach the log either.
  const es = events(join(dir, 'log.sqlite'));
  assert.equal(es.filter((e) => e.type === 'write-point').length, 0);
  assert.equal(es.filter((e) => e.type === 'step').length, 5);
  const log = LogFile.open(join(dir, 'log.sqlite'), { readonly: true });
  const { state } = replayRun(log, 1);
  log.close();
  assert.equal(state.info.status, 'failed');
  assert.match(String(state.info.statusDetail), /metrics\.json/);
});

test("a writer of your own with a spec runs on the log's commit thread, and a resumed run continues it from its cursor in the rebuilt state", async () => {
  const dir = tempDir();
  const path = join(dir, 'probe.jsonl');
  const logPath = join(dir, 'log.sqlite');
  const first = new Curve({ log: logPath });
  first.register(
    new PeriodicWriter([new ProbeWriter(path)], 10),
    new CallbackHook({ afterStep: (tr) => { if (tr.iter === 25) throw new Error('simulated crash'); } }),
  );
  await assert.rejects(first.train(0, 40), /simulated crash/);
  const log = LogFile.open(logPath, { readonly: true });
  const { state, lastSeq } = replayRun(log, 1, { untilIter: 19 });
  log.close();
  const second = new Curve({ log: logPath });
  second.register(new PeriodicWriter([new ProbeWriter(path)], 10));
  second.setResumePoint({ runId: 1, state, iter: 19, toSeq: lastSeq });
  await second.train(20, 40);
  const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(lines, [
    { at: 9, latest: 9, resumes: 0, thread: 'log' },
    { at: 19, latest: 19, resumes: 0, thread: 'log' },
    // The failed step's values, written after training (afterTrain).
    { at: 25, latest: 25, resumes: 0, thread: 'log' },
    // Resumed after step 19: the cursor recorded at that point, and the resume in the state.
    { restored: 19, from: 19 },
    { at: 29, latest: 29, resumes: 1, thread: 'log' },
    { at: 39, latest: 39, resumes: 1, thread: 'log' },
  ]);
});

test("a writer the log's commit thread cannot build fails the run's first step with LogWriteError naming it", async () => {
  const dir = tempDir();
  const probe = new ProbeWriter(join(dir, 'probe.jsonl'));
  // A spec that points at a class the module does not export.
  const broken = Object.assign(Object.create(probe) as ProbeWriter, { spec: () => ({ ...probe.spec(), exportName: 'NoSuchWriter' }) });
  const t = new Curve({ log: join(dir, 'log.sqlite') });
  t.register(new PeriodicWriter([broken], 10), new CallbackHook({ beforeTrain: (tr) => tr.appender!.ready() }));
  await assert.rejects(t.train(0, 20), (e: unknown) => {
    const cause = e instanceof HookError ? e.cause : e;
    return cause instanceof LogWriteError && /exports no writer class named NoSuchWriter/.test(cause.message);
  });
});

test("PeriodicWriter refuses an unknown thread, naming it", () => {
  assert.throws(() => new PeriodicWriter([], 10, { thread: 'gpu' as 'log' }), /thread must be 'log' or 'main', got "gpu"/);
});

for (const thread of ['log', 'main'] as const) {
  test(`a run started afresh after its process died before the first checkpoint writes each iteration once (writers on the ${thread} thread)`, async () => {
    const dir = tempDir();
    const logPath = join(dir, 'log.sqlite');
    const files = (d: string) => [new JSONWriter(join(d, 'metrics.json')), new CSVWriter(join(d, 'metrics.csv'))];
    const killed = new Curve({ log: logPath });
    killed.register(
      new PeriodicWriter(files(join(dir, 'live')), 10, { thread }),
      new CallbackHook({ afterStep: (tr) => { if (tr.iter === 15) throw new Error('simulated crash'); } }),
    );
    await assert.rejects(killed.train(0, 40), /simulated crash/);
    assert.deepEqual(jsonIterations(join(dir, 'live', 'metrics.json')), [9, 15], 'the dead process wrote lines');

    // No checkpoint to resume from: the job starts again from 0, as a new run of the log.
    const again = new Curve({ log: logPath });
    again.register(new PeriodicWriter(files(join(dir, 'live')), 10, { thread }));
    await again.train(0, 40);
    assert.deepEqual(jsonIterations(join(dir, 'live', 'metrics.json')), [9, 19, 29, 39]);

    const log = LogFile.open(logPath, { readonly: true });
    replayWriters(log, 2, files(join(dir, 'replayed')), { period: 10 });
    log.close();
    for (const f of ['metrics.json', 'metrics.csv']) {
      assert.equal(readFileSync(join(dir, 'live', f), 'utf8'), readFileSync(join(dir, 'replayed', f), 'utf8'), f);
    }
  });
}

test('a fresh run keeps the lines and rows an earlier run wrote before its start iteration', async () => {
  const dir = tempDir();
  const files = () => [new JSONWriter(join(dir, 'metrics.json')), new CSVWriter(join(dir, 'metrics.csv'))];
  const first = new Curve({ log: join(dir, 'a.sqlite') });
  first.register(new PeriodicWriter(files(), 10), new CallbackHook({ afterStep: (tr) => { if (tr.iter === 25) throw new Error('stop'); } }));
  await assert.rejects(first.train(0, 40), /stop/);
  // A new run that starts at 20 owns iterations 20 and later: the first run's 25 goes.
  const second = new Curve({ log: join(dir, 'b.sqlite') });
  second.register(new PeriodicWriter(files(), 10));
  await second.train(20, 40);
  assert.deepEqual(jsonIterations(join(dir, 'metrics.json')), [9, 19, 29, 39]);
  const rows = readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n');
  assert.equal(rows[0], 'iteration,name,value,wall_time');
  const lossIters = rows.slice(1).filter((r) => r.split(',')[1] === 'loss').map((r) => Number(r.split(',')[0]));
  assert.deepEqual(lossIters, Array.from({ length: 40 }, (_, i) => i));
});

test('a fresh run writes a TensorBoard session start at its start iteration, so points a dead process left there are dropped', async () => {
  const dir = tempDir();
  const t = new Curve({ log: join(dir, 'log.sqlite') });
  t.register(new PeriodicWriter([new TensorBoardWriter(join(dir, 'tb'), { fileName: 'events' })], 10));
  await t.train(5, 30);
  const kinds = readEventFile(join(dir, 'tb', 'events')).map((e) => (e.kind === 'sessionLog' ? `start@${e.step}` : e.kind === 'summary' ? `summary@${e.step}` : e.kind));
  assert.deepEqual(kinds.slice(0, 3), ['fileVersion', 'start@5', 'summary@9']);
});

function jsonIterations(path: string): number[] {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { iteration: number }).iteration);
}
