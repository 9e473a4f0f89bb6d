import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { EventStorage } from '../../src/storage/event-storage.js';
import { StorageClosedError } from '../../src/storage/errors.js';
import { InvalidArgumentError } from '../../src/errors/trainledger-error.js';
import { TrainerBase } from '../../src/engine/trainer-base.js';
import { LogFile } from '../../src/log/log-file.js';
import { replayRun } from '../../src/log/replay.js';
import type { EventSink } from '../../src/storage/event-sink.js';
import { event } from '../../src/events/train-event.js';
import { tempDir } from '../helpers.js';

class Counting extends TrainerBase {
  runStep(): void {
    this.storage.putScalar('x', this.iter);
  }
}

function recordingSink(): { sink: EventSink; sunk: string[] } {
  const sunk: string[] = [];
  return {
    sunk,
    sink: { scalar: (n) => sunk.push(`scalar:${n}`), step: (it) => sunk.push(`step:${it}`), event: (e) => sunk.push(e.type) },
  };
}

test('a metric name that is not well-formed Unicode is refused by every put, naming it escaped, before anything is recorded', () => {
  const { sink, sunk } = recordingSink();
  const s = new EventStorage({ sink });
  const image = { height: 1, width: 1, channels: 1, data: new Uint8Array(1) };
  const puts: Array<[string, () => void]> = [
    ['putScalar', () => s.putScalar('\ud800', 1)],
    ['putScalar', () => s.putScalar('loss\udc00', 1)],
    ['putScalar', () => s.putScalars({ ok: 1, ['a\ud83d']: 2 })],
    ['putHistogram', () => s.putHistogram('w\ud800', [1, 2, 3], 2)],
    ['putImage', () => s.putImage('\udfff', image)],
    ['putScalar', () => s.nameScope('\ud83d', () => s.putScalar('\ude00', 1))],
  ];
  for (const [method, put] of puts) {
    assert.throws(put, (e: unknown) => {
      assert.ok(e instanceof InvalidArgumentError, String(e));
      assert.match(e.message, new RegExp(`^${method}: metric name ".*\\\\u[0-9a-f]{4}.*" is not well-formed Unicode`));
      assert.match(e.message, /expected/);
      return true;
    });
  }
  assert.deepEqual(sunk, ['scalar:ok'], 'only the well-formed name reached the sink');
  assert.deepEqual(Object.keys(s.latest()), ['ok']);
  assert.deepEqual(s.smoothingHints(), { ok: true });
});

test('well-formed names with astral characters are accepted and replay exactly as they were put', async () => {
  const path = join(tempDir(), 'u.sqlite');
  const t = new (class extends TrainerBase {
    runStep(): void {
      this.storage.putScalar('😀/loss', this.iter);
      this.storage.putScalar('\ud83d\ude00', 1);
    }
  })({ log: path, runName: 'u' });
  await t.train(0, 2);
  const log = LogFile.open(path, { readonly: true });
  assert.deepEqual(replayRun(log, log.run('u').id).state.metrics.names, t.storage.state.metrics.names);
  log.close();
});

test('a run name that is not well-formed Unicode is refused when the trainer is made, naming it escaped', () => {
  assert.throws(() => new Counting({ runName: 'run\ud800' }), (e: unknown) => e instanceof InvalidArgumentError && e.message.includes('runName must be a well-formed Unicode string') && e.message.includes('"run\\ud800"'));
});

test('a name is checked for well-formedness once, when it is first put, not on every put', () => {
  const s = new EventStorage();
  const proto = String.prototype as unknown as { isWellFormed(this: string): boolean };
  const original = proto.isWellFormed;
  let calls = 0;
  proto.isWellFormed = function (this: string) {
    calls++;
    return original.call(this);
  };
  try {
    for (let i = 0; i < 100; i++) {
      s.putScalar('loss', i);
      s.putScalar('lr', 0.1, false);
      s.step(i);
    }
  } finally {
    proto.isWellFormed = original;
  }
  assert.equal(calls, 2);
});

test('putScalar after train() returned throws a typed error naming the metric and where the run ended, and records nothing', async () => {
  const path = join(tempDir(), 'c.sqlite');
  const t = new Counting({ log: path, runName: 'c' });
  await t.train(0, 3);
  const storage = t.storage;
  assert.throws(() => storage.putScalar('late', 1), (e: unknown) => {
    assert.ok(e instanceof StorageClosedError, String(e));
    assert.equal(e.code, 'ERR_STORAGE_CLOSED');
    assert.match(e.message, /^putScalar\("late"\): .*run ended \(completed\) at iteration 3/);
    return true;
  });
  assert.throws(() => storage.putScalar('x', 1), StorageClosedError, 'a known name too');
  assert.throws(() => storage.putScalars({ late: 1 }), /putScalar\("late"\)/);
  assert.throws(() => storage.putHistogram('h', [1, 2], 2), /^StorageClosedError|putHistogram\("h"\)/);
  assert.throws(() => storage.putImage('i', { height: 1, width: 1, channels: 1, data: new Uint8Array(1) }), /putImage\("i"\)/);
  assert.throws(() => storage.step(), /step\(\)/);
  assert.throws(() => storage.append(event('writer-cursor', { writer: 'w', iter: 0 })), /append\("writer-cursor"\)/);
  // Reads still work, and nothing changed.
  assert.deepEqual(storage.latest(), { x: [2, 2] });
  assert.equal(storage.iter, 3);
  const log = LogFile.open(path, { readonly: true });
  const { state } = replayRun(log, log.run('c').id);
  assert.deepEqual(state.metrics.names, ['x']);
  assert.equal(state.info.status, 'completed');
  log.close();
});

test('putScalar after a failed train() names the iteration the run failed at', async () => {
  const t = new (class extends TrainerBase {
    runStep(): void {
      if (this.iter === 2) throw new Error('boom');
    }
  })();
  await assert.rejects(t.train(0, 5), /boom/);
  assert.throws(() => t.storage.putScalar('late', 1), (e: unknown) => e instanceof StorageClosedError && /run ended \(failed\) at iteration 2/.test(e.message));
});

test('a closed storage does not close the state it folded: a storage resumed from it (as replay and resume build) takes puts', async () => {
  const t = new Counting();
  await t.train(0, 2);
  const resumed = new EventStorage({ state: t.storage.state });
  resumed.putScalar('x', 10);
  resumed.step();
  assert.deepEqual(resumed.latest().x, [10, 2]);
  assert.equal(t.storage.closed, true);
  assert.equal(resumed.closed, false);
});
