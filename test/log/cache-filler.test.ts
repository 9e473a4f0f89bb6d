import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { LogFile } from '../../src/log/log-file.js';
import { replayRun } from '../../src/log/replay.js';
import { SnapshotCache } from '../../src/log/snapshot-cache.js';
import { BLOCK } from '../../src/log/snapshot-blocks.js';
import { EventStorage } from '../../src/storage/event-storage.js';
import { TrainerBase } from '../../src/engine/trainer-base.js';
import { tempDir } from '../helpers.js';
import { observe } from '../state-view.js';

function snapshotIters(path: string): number[] {
  const db = new Database(`${path}.snapshots`, { readonly: true });
  const iters = db.prepare('SELECT iter FROM snapshots ORDER BY seq').pluck().all() as number[];
  db.close();
  return iters;
}

class Losses extends TrainerBase {
  override runStep(): void {
    this.storage.putScalar('loss', Math.fround(Math.cos(this.iter)));
    if (this.iter % 3 === 0) this.storage.putScalar('every3', this.iter, false);
  }
}

test('a replay given an earlier replay goes on from it while its last batch is on the timeline, and ignores it once a resume abandoned that batch', async () => {
  const path = join(tempDir(), 'from.sqlite');
  const log = LogFile.open(path);
  let w = log.createRun({ name: 'r' });
  let s = new EventStorage({ sink: w });
  for (let i = 0; i < 10; i++) {
    s.putScalar('loss', i);
    s.step(i);
  }
  await w.close();
  const early = replayRun(log, 1, { untilIter: 6 });
  // Going on from it: the same state as a replay from the start.
  assert.deepStrictEqual(observe(replayRun(log, 1, { from: early }).state), observe(replayRun(log, 1).state));
  // A resume at 4 abandons the batches of steps 5..9, the one `early` ended with among them.
  const atFour = replayRun(log, 1, { untilIter: 4 });
  w = log.appendToRun(1);
  s = new EventStorage({ sink: w, state: atFour.state });
  s.append({ type: 'resumed', v: 1, data: { iter: 4, toSeq: atFour.lastSeq, wallTime: 0 } });
  for (let i = 5; i < 8; i++) {
    s.putScalar('loss', 100 + i);
    s.step(i);
  }
  await w.close();
  const full = replayRun(log, 1).state;
  assert.deepEqual(full.metrics.histories[0]?.values().map((v) => v[0]), [0, 1, 2, 3, 4, 105, 106, 107]);
  const expected = observe(full);
  assert.deepStrictEqual(observe(replayRun(log, 1, { from: early }).state), expected);
  // `atFour` ended at the resume point itself: still on the timeline, a valid start.
  assert.deepStrictEqual(observe(replayRun(log, 1, { from: atFour }).state), expected);
  log.close();
});

test('a trainer with snapshotCache fills the cache as it goes, with the states a reader’s replay gives; without it, or in a run shorter than an interval, no cache file is made', async () => {
  const dir = tempDir();
  const steps = 3 * BLOCK + 100;
  const plain = join(dir, 'plain.sqlite');
  await new Losses({ log: plain, runName: 'p' }).train(0, 50);
  assert.equal(existsSync(`${plain}.snapshots`), false);

  // Shorter than one interval: nothing to snapshot, and no cache file either.
  const short = join(dir, 'short.sqlite');
  await new Losses({ log: short, runName: 's', snapshotCache: true }).train(0, 50);
  assert.equal(existsSync(`${short}.snapshots`), false);

  const path = join(dir, 'filled.sqlite');
  await new Losses({ log: path, runName: 'f', snapshotCache: true }).train(0, steps);
  // A snapshot after each step that ends a block: the state then has iter = k·BLOCK.
  assert.deepEqual(snapshotIters(path), [BLOCK, 2 * BLOCK, 3 * BLOCK]);
  const log = LogFile.open(path, { readonly: true });
  const cache = SnapshotCache.open(log)!;
  for (const k of [BLOCK - 1, 2 * BLOCK - 1, 3 * BLOCK - 1, steps - 1]) {
    assert.deepStrictEqual(observe(replayRun(log, 1, { untilIter: k, cache }).state), observe(replayRun(log, 1, { untilIter: k }).state), `iteration ${k}`);
  }
  cache.close();
  log.close();
});

test('a resumed trainer with snapshotCache goes on filling the cache from the resume point', async () => {
  const path = join(tempDir(), 'resumed.sqlite');
  await new Losses({ log: path, runName: 'r', snapshotCache: true }).train(0, BLOCK + 10);
  const log = LogFile.open(path);
  const atResume = replayRun(log, 1, { untilIter: BLOCK + 5 });
  const w = log.appendToRun(1, { fillSnapshotCache: true });
  const s = new EventStorage({ sink: w, state: atResume.state });
  s.append({ type: 'resumed', v: 1, data: { iter: BLOCK + 5, toSeq: atResume.lastSeq, wallTime: 0 } });
  for (let i = BLOCK + 6; i < 2 * BLOCK + 50; i++) {
    s.putScalar('loss', -i);
    s.step(i);
  }
  await w.close();
  assert.deepEqual(snapshotIters(path), [BLOCK, 2 * BLOCK]);
  const cache = SnapshotCache.open(log)!;
  assert.deepStrictEqual(observe(replayRun(log, 1, { untilIter: 2 * BLOCK - 1, cache }).state), observe(replayRun(log, 1, { untilIter: 2 * BLOCK - 1 }).state));
  cache.close();
  log.close();
});
