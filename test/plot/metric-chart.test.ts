import assert from 'node:assert/strict';
import { test, before } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LogFile } from '../../src/log/log-file.js';
import { replayRun } from '../../src/log/replay.js';
import { runCli } from '../../src/cli/main.js';
import { metricChart, POINTS_PER_PIXEL } from '../../src/plot/metric-chart.js';
import { tempDir } from '../helpers.js';
import { medianOracle } from './median-oracle.js';

const dir = tempDir();
const STEPS = 200_000;
const SPIKE_AT = 123_457;
const longLog = join(dir, 'long.sqlite');
const shortLog = join(dir, 'short.sqlite');

/** The loss of the long run: a decaying wiggle, one spike of 1e6, one NaN and one +Inf. */
function longLoss(i: number): number {
  if (i === SPIKE_AT) return 1e6;
  if (i === 150_000) return NaN;
  if (i === 150_001) return Infinity;
  return 1 / (1 + i * 1e-4) + 0.05 * Math.sin(i * 0.37);
}

async function writeLog(path: string, steps: number, put: (w: { scalar(name: string, hint: boolean, iter: number, value: number): void }, i: number) => void): Promise<void> {
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'r' });
  for (let i = 0; i < steps; i++) {
    put(w, i);
    w.step(i, 1_700_000_000 + i);
  }
  await w.close();
  log.close();
}

function stateOf(path: string) {
  const log = LogFile.open(path, { readonly: true });
  try {
    return replayRun(log, 1).state;
  } finally {
    log.close();
  }
}

/** Vertices of every line vega drew: one M or L command each. */
function lineVertices(svg: string): number {
  const groups = svg.match(/<g class="mark-line[^>]*>.*?<\/g>/g) ?? [];
  return groups.flatMap((g) => [...g.matchAll(/\sd="([^"]*)"/g)].map((m) => m[1]!.match(/[ML]/g)?.length ?? 0)).reduce((a, b) => a + b, 0);
}

before(async () => {
  await writeLog(longLog, STEPS, (w, i) => w.scalar('loss', true, i, longLoss(i)));
  // Gaps of 1 to 3 iterations, two samples at some iterations, and a NaN: what the window must handle.
  await writeLog(shortLog, 120, (w, i) => {
    if (i % 3 === 0) return;
    w.scalar('loss', true, i, i === 50 ? NaN : ((i * 7919) % 13) - 6);
    if (i % 5 === 0) w.scalar('loss', true, i, (i % 4) - 2);
  });
});

test('plot of a long run hands the renderer at most two points per pixel of width per line for a 200,000-step series', async () => {
  const out = join(dir, 'long.svg');
  const err: string[] = [];
  assert.equal(await runCli(['plot', longLog, '--metric', 'loss', '--out', out], { out: () => {}, err: (s) => err.push(s) }), 0, err.join('\n'));
  const vertices = lineVertices(readFileSync(out, 'utf8'));
  // A raw and a smoothed line, 640 pixels wide.
  assert.ok(vertices > 0 && vertices <= 2 * POINTS_PER_PIXEL * 640, `${vertices} vertices drawn`);
});

test('plot of a long run keeps the spike, and counts the NaN and +Inf of all 200,000 samples', () => {
  const [series] = metricChart(stateOf(longLog), [['loss']], 20).panels[0]!.series;
  assert.ok(series!.points.length <= POINTS_PER_PIXEL * 640 && (series!.smoothed?.length ?? 0) <= POINTS_PER_PIXEL * 640);
  assert.ok(series!.points.some(([x, v]) => x === SPIKE_AT && v === 1e6));
  assert.ok(series!.points.some(([x, v]) => x === 150_000 && Number.isNaN(v)));
  assert.deepEqual(series!.nonFinite, { nan: 1, posInf: 1, negInf: 0 });
});

test('plot of a long run scales the point budget with the image width', () => {
  const [series] = metricChart(stateOf(longLog), [['loss']], 20, { width: 300 }).panels[0]!.series;
  assert.ok(series!.points.length <= POINTS_PER_PIXEL * 300 + 3 * Math.floor((POINTS_PER_PIXEL * 300) / 4));
});

test('plot smoothing draws the trailing median of every window of iterations, as the definition computes it', () => {
  const state = stateOf(shortLog);
  for (const window of [1, 2, 5, 20]) {
    const [series] = metricChart(state, [['loss']], window).panels[0]!.series;
    const iters = series!.points.map(([x]) => x);
    const values = series!.points.map(([, v]) => v);
    assert.ok(iters.length > 80 && iters.some((x, i) => i > 0 && x === iters[i - 1]), 'expected gaps and repeated iterations');
    const expected = medianOracle(iters, values, window).map((v, i) => [iters[i], v === 0 ? 0 : v]);
    assert.deepEqual(series!.smoothed?.map(([x, v]) => [x, v === 0 ? 0 : v]), expected, `window ${window}`);
  }
});

test('plot smoothing titles the y axis with the metric and names the smoothed line by its window', () => {
  const [panel] = metricChart(stateOf(shortLog), [['loss']], 7).panels;
  assert.equal(panel!.yTitle, 'loss');
  assert.equal(panel!.smoothedLabel, 'median of 7 iterations');
});
