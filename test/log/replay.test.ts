import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import Database from 'better-sqlite3';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { LogFile } from '../../src/log/log-file.js';
import { replayRun } from '../../src/log/replay.js';
import { SnapshotCache } from '../../src/log/snapshot-cache.js';
import { EventStorage } from '../../src/storage/event-storage.js';
import { evolve, evolveAll } from '../../src/storage/evolve.js';
import { initialState } from '../../src/storage/storage-state.js';
import { event, type TrainEvent } from '../../src/events/train-event.js';
import { must, tempDir } from '../helpers.js';
import { observe } from '../state-view.js';
import { ReferenceRun, referenceState } from '../oracle/reference-storage.js';
import type { ObservedState } from '../oracle/observed-state.js';
import { METRIC_NAMES, RunStats, SEED, hintOf, op, rareEvent, runStarted, value } from '../oracle/random-run.js';

test('replaying the log rebuilds the reference state at every step and at the end, for random runs with rewinds', async () => {
  const dir = tempDir();
  const stats = new RunStats();
  let n = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 40, maxLength: 200, size: 'max' }), fc.integer({ min: 2, max: 40 }), async (ops, maxLength) => {
      const path = join(dir, `p${n++}.sqlite`);
      const log = LogFile.open(path);
      let writer = log.createRun({ name: 'prop' });
      const runId = writer.runId;
      const run = new ReferenceRun({ maxLength });
      let storage = new EventStorage({ sink: writer, maxLength });
      const append = (e: TrainEvent): void => {
        run.append(e);
        storage.append(e);
      };
      append(runStarted(0, maxLength));
      // The reference state right after each step on the live timeline.
      const afterStep = new Map<number, ObservedState>();
      for (const o of ops) {
        const iter = run.state.iter;
        if (o.kind === 'put') {
          stats.put(o.value);
          const name = must(METRIC_NAMES[o.name], `metric ${o.name}`);
          const at = o.back === null ? undefined : Math.max(0, iter - o.back);
          run.append(event('scalar', { name, value: o.value, smoothingHint: hintOf(o.name), iter: at ?? iter }));
          storage.putScalar(name, o.value, hintOf(o.name), at);
        } else if (o.kind === 'step') {
          run.append(event('step', { iter, wallTime: o.wallTime }));
          storage.step(o.wallTime);
          const expected = run.state.observe();
          assert.deepStrictEqual(observe(storage.state), expected, `live state after step ${iter}`);
          afterStep.set(iter, expected);
        } else if (o.kind === 'event') {
          append(rareEvent(o.which, iter, o.value));
        } else if (run.rewinds < 2) {
          const done = [...afterStep.keys()];
          const k = done[Math.max(0, done.length - 1 - o.back)];
          if (k === undefined) continue;
          await writer.close();
          const reader = LogFile.open(path, { readonly: true });
          const { state, lastSeq, reached } = replayRun(reader, runId, { untilIter: k });
          reader.close();
          assert.ok(reached);
          // Time travel: the state rebuilt at k is the state the run had after step k.
          assert.deepStrictEqual(observe(state), afterStep.get(k), `replayed until step ${k}`);
          for (const it of done) if (it > k) afterStep.delete(it);
          writer = log.appendToRun(runId);
          storage = new EventStorage({ sink: writer, state });
          const resumed = event('resumed', { iter: k, toSeq: lastSeq, wallTime: 1 });
          run.resume(resumed);
          storage.append(resumed);
        }
      }
      append(event('run-completed', { iter: run.state.iter, wallTime: 2 }));
      await writer.close();
      const expected = run.state.observe();
      assert.deepStrictEqual(observe(storage.state), expected, 'live state at the end');
      const reader = LogFile.open(path, { readonly: true });
      assert.deepStrictEqual(observe(replayRun(reader, runId).state), expected, 'replayed state at the end');
      // What plot folds: the chosen metrics only, each exactly as a full replay has it.
      const chosen: readonly string[] = [must(METRIC_NAMES[0], 'metric 0'), must(METRIC_NAMES[2], 'metric 2')];
      const only = { ...expected, metrics: expected.metrics.filter((m) => chosen.includes(m.name)) };
      assert.deepStrictEqual(observe(replayRun(reader, runId, { metrics: chosen }).state), only, 'replayed state of two metrics');
      for (const [k, after] of afterStep) {
        assert.deepStrictEqual(observe(replayRun(reader, runId, { untilIter: k }).state), after, `replayed until step ${k}`);
      }
      reader.close();
      log.close();
      stats.finished(run);
    }),
    // Each run opens a log and its commit thread (about a second): report a failure unshrunk.
    { numRuns: 12, seed: SEED, endOnFailure: true },
  );
  assert.equal(stats.below(5, ['resumedInPlace']), null, 'the generated runs put scalars (NaN, ±Inf, -0), evicted, smoothed and resumed');
});

test('evolveAll over a batch and evolving one event at a time both give the reference state', () => {
  let scalars = 0;
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(4), value, fc.boolean()), { maxLength: 200, size: 'max' }), (puts) => {
      const events: TrainEvent[] = [];
      let iter = 0;
      for (const [name, v, step] of puts) {
        events.push(event('scalar', { name: `m${name}`, value: v, smoothingHint: name % 2 === 0, iter }));
        if (step) events.push(event('step', { iter: iter++, wallTime: iter }));
      }
      scalars += puts.length;
      const expected = referenceState(events).observe();
      assert.deepStrictEqual(observe(events.reduce(evolve, initialState())), expected);
      assert.deepStrictEqual(observe(evolveAll(initialState(), events)), expected);
    }),
    { seed: SEED },
  );
  assert.ok(scalars >= 1000, `${scalars} scalars folded`);
});

test('a snapshot cache gives the same state at any iteration as a full replay, and is disposable', async () => {
  const dir = tempDir();
  const path = join(dir, 'long.sqlite');
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'long' });
  const s = new EventStorage({ sink: w, maxLength: 300 });
  // No run-started event says maxLength 300: a replay keeps every sample (the default).
  const run = new ReferenceRun();
  for (let i = 0; i < 2000; i++) {
    s.putScalar('loss', Math.sin(i));
    run.append(event('scalar', { name: 'loss', value: Math.sin(i), smoothingHint: true, iter: i }));
    if (i % 7 === 0) {
      s.putScalar('lr', i, false);
      run.append(event('scalar', { name: 'lr', value: i, smoothingHint: false, iter: i }));
    }
    if (i === 1000) {
      s.putScalar('late', 1);
      run.append(event('scalar', { name: 'late', value: 1, smoothingHint: true, iter: i }));
    }
    s.step(i);
    run.append(event('step', { iter: i, wallTime: i }));
  }
  await w.close();
  const reader = LogFile.open(path, { readonly: true });
  const cache = SnapshotCache.open(reader, { interval: 128 })!;
  const full = replayRun(reader, 1);
  assert.deepStrictEqual(observe(full.state), run.state.observe());
  const cached1 = replayRun(reader, 1, { cache });
  assert.deepStrictEqual(observe(cached1.state), run.state.observe());
  for (const k of [0, 127, 128, 129, 999, 1000, 1500, 1999]) {
    const expected = run.stateAfterStep(k).observe();
    assert.deepStrictEqual(observe(replayRun(reader, 1, { untilIter: k }).state), expected, `iteration ${k}`);
    assert.deepStrictEqual(observe(replayRun(reader, 1, { untilIter: k, cache }).state), expected, `iteration ${k}`);
  }
  const rows = (new (await import('better-sqlite3')).default(cache.path).prepare('SELECT count(*) n FROM snapshots').get() as { n: number }).n;
  assert.ok(rows >= 10, `snapshots stored: ${rows}`);
  cache.close();
  reader.close();
  log.close();
});

test('a resumed run leaves the abandoned iterations in the log but off the timeline', async () => {
  const path = join(tempDir(), 'r.sqlite');
  const log = LogFile.open(path);
  let w = log.createRun({ name: 'r' });
  let s = new EventStorage({ sink: w });
  for (let i = 0; i < 10; i++) {
    s.putScalar('loss', i);
    s.step(i);
  }
  await w.close();
  const { state, lastSeq } = replayRun(log, 1, { untilIter: 4 });
  w = log.appendToRun(1);
  s = new EventStorage({ sink: w, state });
  s.append({ type: 'resumed', v: 1, data: { iter: 4, toSeq: lastSeq, wallTime: 0 } });
  for (let i = 5; i < 8; i++) {
    s.putScalar('loss', 100 + i);
    s.step(i);
  }
  await w.close();
  assert.equal([...log.batches(1)].length, 10 + 1 + 3);
  const values = replayRun(log, 1).state.metrics.histories[0]!.values().map((v) => v[0]);
  assert.deepEqual(values, [0, 1, 2, 3, 4, 105, 106, 107]);
  log.close();
});

test('snapshots of long histories, evicting and starting at different times, load to the state a full replay gives', async () => {
  const path = join(tempDir(), 'blocks.sqlite');
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'blocks' });
  const s = new EventStorage({ sink: w, maxLength: 5000 });
  for (let i = 0; i < 20_000; i++) {
    s.putScalar('loss', Math.cos(i));
    if (i % 3 === 0) s.putScalar('every3', i, false);
    if (i >= 7000) s.putScalar('late', -i);
    s.step(i);
  }
  await w.close();
  const cache = SnapshotCache.open(log, { interval: 1000 })!;
  replayRun(log, 1, { untilIter: 19_999, cache });
  for (const k of [999, 4095, 4096, 8191, 9000, 12_345, 19_999]) {
    const expected = observe(replayRun(log, 1, { untilIter: k }).state);
    assert.deepStrictEqual(observe(replayRun(log, 1, { untilIter: k, cache }).state), expected, `iteration ${k}`);
  }
  // Served by the nearest snapshot, not by a fallback to an older one (metrics added midway).
  for (const k of [8500, 12_345, 19_999]) assert.ok(cache.nearest(1, log.timeline(1), k)!.state.iter > k - 1000, `nearest to ${k}`);
  // A state loaded from the cache keeps folding like any other.
  assert.deepStrictEqual(observe(replayRun(log, 1, { cache }).state), observe(replayRun(log, 1).state));
  cache.close();
  log.close();
});

test('a cache that lost blocks falls back to older snapshots or a full replay, with the same result', async () => {
  const path = join(tempDir(), 'broken.sqlite');
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'b' });
  const s = new EventStorage({ sink: w });
  for (let i = 0; i < 6000; i++) {
    s.putScalar('loss', i);
    s.step(i);
  }
  await w.close();
  const cache = SnapshotCache.open(log, { interval: 500 })!;
  replayRun(log, 1, { cache });
  const db = new Database(cache.path);
  db.prepare('DELETE FROM blocks WHERE seq = (SELECT max(seq) FROM blocks) OR block = 0').run();
  db.close();
  for (const k of [5999, 3000, 200]) {
    assert.deepStrictEqual(observe(replayRun(log, 1, { untilIter: k, cache }).state), observe(replayRun(log, 1, { untilIter: k }).state), `iteration ${k}`);
  }
  cache.close();
  log.close();
});

test('a cache file of another format is rebuilt, not misread', async () => {
  const path = join(tempDir(), 'old.sqlite');
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'o' });
  for (let i = 0; i < 100; i++) {
    w.scalar('loss', true, i, i);
    w.step(i, i);
  }
  await w.close();
  const old = new Database(`${path}.snapshots`);
  old.exec('CREATE TABLE snapshots (log_id TEXT, run_id INTEGER, seq INTEGER, iter INTEGER, parent_seq INTEGER, format INTEGER, body BLOB)');
  old.prepare('INSERT INTO snapshots VALUES (?, 1, 50, 51, NULL, 1, ?)').run('x', Buffer.from('junk'));
  old.close();
  const cache = SnapshotCache.open(log, { interval: 10 })!;
  assert.deepStrictEqual(observe(replayRun(log, 1, { untilIter: 77, cache }).state), observe(replayRun(log, 1, { untilIter: 77 }).state));
  assert.deepStrictEqual(observe(replayRun(log, 1, { untilIter: 77, cache }).state), observe(replayRun(log, 1, { untilIter: 77 }).state));
  cache.close();
  const db = new Database(`${path}.snapshots`, { readonly: true });
  assert.equal(db.pragma('user_version', { simple: true }), 4);
  assert.ok((db.prepare('SELECT count(*) AS n FROM snapshots').get() as { n: number }).n >= 7);
  db.close();
  log.close();
});

test('a format-3 cache (blocks of raw doubles, from the build before compressed blocks) is rebuilt, not misread', async () => {
  const path = join(tempDir(), 'f3.sqlite');
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'o' });
  for (let i = 0; i < 100; i++) {
    w.scalar('loss', true, i, i / 7);
    w.step(i, i);
  }
  await w.close();
  let cache = SnapshotCache.open(log, { interval: 10 })!;
  replayRun(log, 1, { cache });
  cache.close();
  // What a format-3 cache held: the same tables, blocks as raw little-endian arrays.
  const old = new Database(`${path}.snapshots`);
  const raw = Buffer.from(new Float64Array(10).fill(123).buffer);
  old.prepare('UPDATE blocks SET vals = ?, iters = ?').run(raw, Buffer.from(new Uint32Array(10).buffer));
  old.pragma('user_version = 3');
  old.close();
  cache = SnapshotCache.open(log, { interval: 10 })!;
  const cached = observe(replayRun(log, 1, { untilIter: 77, cache }).state);
  cache.close();
  assert.deepStrictEqual(cached, observe(replayRun(log, 1, { untilIter: 77 }).state));
  const db = new Database(`${path}.snapshots`, { readonly: true });
  assert.equal(db.pragma('user_version', { simple: true }), 4);
  db.close();
  log.close();
});

test('onEvent sees, before each rare event and with withSteps before each step, the state of the events before it', async () => {
  const path = join(tempDir(), 'cb.sqlite');
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'cb' });
  const events: TrainEvent[] = [];
  const s = new EventStorage({ sink: w, onEvent: (e) => events.push(e) });
  for (let i = 0; i < 300; i++) {
    s.putScalar('loss', i);
    if (i % 50 === 0) s.append({ type: 'writer-cursor', v: 1, data: { writer: 'w', iter: i } });
    s.step(i);
  }
  await w.close();
  for (const withSteps of [false, true]) {
    const seen: Array<[string, unknown]> = [];
    replayRun(log, 1, { withSteps, onEvent: (before, e) => seen.push([e.type, observe(before)]) });
    const expected: Array<[string, unknown]> = [];
    events.forEach((e, i) => {
      if (e.type === 'writer-cursor' || (withSteps && e.type === 'step')) expected.push([e.type, referenceState(events.slice(0, i)).observe()]);
    });
    assert.deepStrictEqual(seen, expected, `withSteps ${withSteps}`);
  }
  log.close();
});

test('a replay of a run still being written reads the metric names committed while it runs', async () => {
  const path = join(tempDir(), 'live.sqlite');
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'live' });
  for (let i = 0; i < 50_000; i++) {
    w.scalar('loss', true, i, i);
    w.step(i, i);
  }
  await w.close();
  // Another thread keeps appending steps that each name a new metric (a few hundred a
  // second), the way a live writer commits a batch with its names, while this one replays:
  // the replay's later pages hold names committed after it read the names.
  const appender = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     const Database = require(workerData.sqlite);
     const db = new Database(workerData.path);
     db.pragma('busy_timeout = 10000');
     const name = db.prepare('INSERT INTO metric_names (run_id, id, name) VALUES (1, ?, ?)');
     const batch = db.prepare('INSERT INTO batches (run_id, seq, step_iter, body) VALUES (1, ?, ?, ?)');
     let stop = false;
     parentPort.on('message', () => { stop = true; });
     let i = 50000, id = 1;
     const tick = () => {
       for (let k = 0; k < 2 && !stop; k++, i++, id++) {
         const body = Buffer.alloc(30);
         body.writeUInt8(1, 0); body.writeUInt32LE(id, 1); body.writeUInt32LE(i, 5); body.writeDoubleLE(i, 9);
         body.writeUInt8(4, 17); body.writeUInt32LE(i, 18); body.writeDoubleLE(i, 22);
         db.transaction(() => { name.run(id, 'm' + id); batch.run(i, i, body); })();
       }
       if (stop) { db.close(); parentPort.postMessage('done'); } else setTimeout(tick, 2);
     };
     tick();`,
    { eval: true, workerData: { path, sqlite: createRequire(import.meta.url).resolve('better-sqlite3') } },
  );
  const reader = LogFile.open(path, { readonly: true });
  try {
    for (let r = 0; r < 5; r++) {
      const { state } = replayRun(reader, 1);
      const last = state.metrics.names.at(-1)!;
      assert.ok(state.iter === 50_000 ? last === 'loss' : last === `m${state.iter - 50_000}`, `${last} at ${state.iter}`);
    }
  } finally {
    const done = new Promise((r) => appender.once('message', r));
    appender.postMessage('stop');
    await done;
    await appender.terminate();
    reader.close();
    log.close();
  }
});
