import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { TensorBoardWriter } from '../../src/writers/tensorboard-writer.js';
import { replayWriters } from '../../src/projections/replay-writers.js';
import { LogFile } from '../../src/log/log-file.js';
import { decodeBatch } from '../../src/log/batch-codec.js';
import { readEventFile } from '../../src/writers/tensorboard/event-file-reader.js';
import type { TfSummaryValue } from '../../src/writers/tensorboard/tf-event.js';
import { cli } from '../cli/cli-harness.js';
import { tempDir } from '../helpers.js';
import { mediaRun } from './media-run.js';

function summaries(path: string): Array<{ step: number; values: readonly TfSummaryValue[] }> {
  return readEventFile(path).flatMap((e) => (e.kind === 'summary' ? [{ step: e.step, values: e.values }] : []));
}

for (const thread of ['log', 'main'] as const) {
  test(`images and histograms (thread '${thread}'): the live TensorBoard file equals replayWriters' and 'trainledger replay --tensorboard', byte for byte`, async () => {
    const dir = tempDir();
    const { file } = await mediaRun(dir, thread);
    const log = LogFile.open(join(dir, 'log.sqlite'), { readonly: true });
    replayWriters(log, 1, [new TensorBoardWriter(join(dir, 'replayed'), { id: `tensorboard:${join(dir, 'live')}`, fileName: 'events' })]);
    log.close();
    const live = readFileSync(file);
    assert.deepEqual(readFileSync(join(dir, 'replayed', 'events')), live);
    const r = await cli('replay', join(dir, 'log.sqlite'), '--tensorboard', join(dir, 'cli'));
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(readFileSync(join(dir, 'cli', 'media', 'events.out.tfevents.trainledger')), live);
  });
}

test('both threads write the same TensorBoard events (wall times aside, the hparams start time too: they are two runs)', async () => {
  const a = await mediaRun(tempDir(), 'log');
  const b = await mediaRun(tempDir(), 'main');
  const timeless = (file: string) =>
    readEventFile(file).map((e) => (e.kind === 'summary' ? { ...e, wallTime: 0, values: e.values.map((v) => (v.metadata ? { tag: v.tag } : v)) } : { ...e, wallTime: 0 }));
  assert.deepEqual(timeless(a.file), timeless(b.file));
});

test('each image and histogram is written once, at the iteration it was put, the image as a PNG of its pixels', async () => {
  const { file } = await mediaRun(tempDir(), 'log');
  const s = summaries(file);
  const images = s.flatMap(({ step, values }) => values.filter((v) => v.image !== undefined).map((v) => [step, v.tag] as const));
  assert.deepEqual(images, [0, 3, 6, 9, 12, 15, 18, 21, 24].map((i) => [i, 'sample']));
  const histos = s.flatMap(({ step, values }) => values.filter((v) => v.histogram !== undefined).map((v) => [step, v.histogram!.buckets] as const));
  // Values i, i+1, i+1, i+3 and -Infinity in [i, i+1.5), [i+1.5, i+3]: -Infinity counts in the first bucket.
  assert.deepEqual(histos, [0, 4, 8, 12, 16, 20, 24].map((i) => [i, [4, 1]]));
  const at3 = s.find((x) => x.step === 3)!.values.find((v) => v.image)!.image!;
  assert.deepEqual([at3.height, at3.width, at3.colorspace], [2, 3, 3]);
  const png = Buffer.from(at3.encoded);
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
  const idat = png.indexOf('IDAT');
  const raw = inflateSync(png.subarray(idat + 4, idat + 4 + png.readUInt32BE(idat - 4)));
  const expected = Uint8Array.from({ length: 18 }, (_, k) => (k * 13 + 3) % 256);
  // Two scanlines of filter byte 0 then 9 bytes.
  assert.deepEqual([...raw], [0, ...expected.subarray(0, 9), 0, ...expected.subarray(9)]);
});

test("the run's config is written once as hparams session start info at the start iteration", async () => {
  const { file } = await mediaRun(tempDir(), 'log');
  const hp = summaries(file).flatMap(({ step, values }) => values.filter((v) => v.metadata?.pluginName === 'hparams').map((v) => [step, v.tag] as const));
  assert.deepEqual(hp, [[0, '_hparams_/session_start_info']]);
});

test('written images and histograms leave the storage after each write point (logged as media-cleared), on both threads', async () => {
  for (const thread of ['log', 'main'] as const) {
    const dir = tempDir();
    const { held } = await mediaRun(dir, thread);
    // Held after each step 0..24: they pile up until the write at 9 and 19 (the last write, 24, clears too).
    assert.deepEqual(held, [2, 2, 2, 3, 4, 4, 5, 5, 6, 0, 0, 0, 2, 2, 2, 3, 4, 4, 5, 0, 1, 2, 2, 2, 0], thread);
    const log = LogFile.open(join(dir, 'log.sqlite'), { readonly: true });
    const cleared = [...log.batches(1)].flatMap((b) => decodeBatch(b.body, log.names(1))).filter((e) => e.type === 'media-cleared');
    log.close();
    assert.deepEqual(cleared.map((e) => e.data), [9, 19, 24].flatMap(() => [{ images: true, histograms: false }, { images: false, histograms: true }]), thread);
  }
});

test("a TensorBoard export of a run recorded with only a JSON writer (nothing cleared its media) writes each image and histogram once", async () => {
  const { MediaTrainer } = await import('./media-run.js');
  const { PeriodicWriter } = await import('../../src/hooks/periodic-writer.js');
  const { JSONWriter } = await import('../../src/writers/json-writer.js');
  const dir = tempDir();
  const t = new MediaTrainer({ log: join(dir, 'log.sqlite'), runName: 'media' });
  t.register(new PeriodicWriter([new JSONWriter(join(dir, 'metrics.json'))], 10));
  await t.train(0, 25);
  const r = await cli('replay', join(dir, 'log.sqlite'), '--tensorboard', join(dir, 'tb'));
  assert.equal(r.code, 0, r.err);
  const s = summaries(join(dir, 'tb', 'media', 'events.out.tfevents.trainledger'));
  assert.deepEqual(s.flatMap(({ step, values }) => values.filter((v) => v.image).map(() => step)), [0, 3, 6, 9, 12, 15, 18, 21, 24]);
  assert.deepEqual(s.flatMap(({ step, values }) => values.filter((v) => v.histogram).map(() => step)), [0, 4, 8, 12, 16, 20, 24]);
});
