import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventStorage } from '../../src/storage/event-storage.js';
import { evolveAll } from '../../src/storage/evolve.js';
import { initialState } from '../../src/storage/storage-state.js';
import { InvalidArgumentError } from '../../src/errors/trainledger-error.js';
import type { EventSink } from '../../src/storage/event-sink.js';
import type { TrainEvent } from '../../src/events/train-event.js';

function recording(): { sink: EventSink; events: TrainEvent[] } {
  const events: TrainEvent[] = [];
  return { events, sink: { scalar: () => {}, step: () => {}, event: (e) => events.push(e) } };
}

const PIXEL = { height: 1, width: 1, channels: 1, data: new Uint8Array([7]) };

test('clearImages and clearHistograms drop only their kind, are logged, and a replay of the log drops them too', () => {
  const { sink, events } = recording();
  const s = new EventStorage({ sink });
  s.putImage('img', PIXEL);
  s.putHistogram('w', [1, 2], 2);
  s.clearImages();
  assert.deepEqual([s.state.info.images.length, s.state.info.histograms.length], [0, 1]);
  s.putImage('img', PIXEL);
  s.clearHistograms();
  assert.deepEqual(s.state.info.images.map((i) => i.name), ['img']);
  assert.deepEqual(s.state.info.histograms, []);
  assert.deepEqual(
    events.map((e) => (e.type === 'media-cleared' ? `${e.type}:${String(e.data.images)},${String(e.data.histograms)}` : e.type)),
    ['image', 'histogram', 'media-cleared:true,false', 'image', 'media-cleared:false,true'],
  );
  assert.deepEqual(evolveAll(initialState(), events).info, s.state.info);
});

test('clearing with nothing to clear records nothing', () => {
  const { sink, events } = recording();
  const s = new EventStorage({ sink });
  s.clearImages();
  s.clearHistograms();
  s.putImage('img', PIXEL);
  s.clearHistograms();
  assert.deepEqual(events.map((e) => e.type), ['image']);
});

test('setting storage.iter forward is logged and folds on replay; the next puts and step use it', () => {
  const { sink, events } = recording();
  const s = new EventStorage({ sink });
  s.iter = 0; // the current value: nothing recorded
  s.iter = 5;
  assert.equal(s.iter, 5);
  s.putImage('img', PIXEL);
  assert.equal(s.state.info.images[0]!.iter, 5);
  assert.deepEqual(events.map((e) => e.type), ['iter-set', 'image']);
  assert.equal(evolveAll(initialState(), events).iter, 5);
});

test('setting storage.iter back or to a non-iteration is a typed error naming the value', () => {
  const s = new EventStorage({ startIter: 4 });
  assert.throws(() => (s.iter = 3), (e: unknown) => e instanceof InvalidArgumentError && /storage\.iter = 3: expected an iteration >= the current 4/.test(e.message));
  assert.throws(() => (s.iter = 1.5), (e: unknown) => e instanceof InvalidArgumentError && /storage\.iter .*got 1\.5/.test(e.message));
  assert.equal(s.iter, 4);
});

test('iter-set and media-cleared survive a log: replaying it gives the live state', async () => {
  const { LogFile } = await import('../../src/log/log-file.js');
  const { replayRun } = await import('../../src/log/replay.js');
  const { join } = await import('node:path');
  const { tempDir } = await import('../helpers.js');
  const path = join(tempDir(), 'log.sqlite');
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'r' });
  const s = new EventStorage({ sink: w });
  s.putImage('img', PIXEL);
  s.step(1);
  s.iter = 5;
  s.putScalar('loss', 0.5);
  s.putHistogram('h', [1, 2], 2);
  s.clearImages();
  s.step(2);
  await w.close();
  log.close();
  const ro = LogFile.open(path, { readonly: true });
  const replayed = replayRun(ro, 1).state;
  ro.close();
  assert.equal(replayed.iter, 6);
  assert.deepEqual(replayed.info.images, []);
  assert.deepEqual(replayed.info.histograms.map((h) => [h.name, h.iter]), [['h', 5]]);
  assert.deepEqual(replayed.metrics.histories[0]!.values(), [[0.5, 5]]);
  assert.equal(s.iter, 6);
});
