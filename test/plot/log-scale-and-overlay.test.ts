import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evolveAll } from '../../src/storage/evolve.js';
import { initialState, type StorageState } from '../../src/storage/storage-state.js';
import { event, type TrainEvent } from '../../src/events/train-event.js';
import { buildVegaLiteSpec } from '../../src/plot/build-vega-lite-spec.js';
import { metricChart, overlayChart, renderMetricChart } from '../../src/plot/index.js';

function run(name: string, losses: readonly number[]): StorageState {
  const events: TrainEvent[] = [event('run-started', { name, config: null, startIter: 0, wallTime: 0, host: { hostname: 'h', platform: 'p', node: 'n', pid: 1 } })];
  losses.forEach((value, iter) => {
    events.push(event('scalar', { name: 'total_loss', value, smoothingHint: true, iter }), event('step', { iter, wallTime: iter }));
  });
  return evolveAll(initialState(), events);
}

const svgTexts = (svg: string): string[] => [...svg.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)].map((m) => m[1] ?? '');

test('on a log scale values ≤ 0 are left out of the lines and counted in the y axis title', async () => {
  const state = run('a', [1, 0.5, 0, -0.1, 0.25, 0.1, NaN]);
  const chart = metricChart(state, [['total_loss']], 2, { logScale: true });
  assert.equal(chart.panels[0]!.yScale, 'log');
  assert.equal(chart.panels[0]!.series[0]!.nonPositive, 2);
  const vl = buildVegaLiteSpec(chart, { width: 300, height: 200 }) as unknown as { vconcat: Array<{ encoding: { y: { title: string; scale: unknown } }; data: { values: Array<{ value: number; style: string }> } }> };
  const panel = vl.vconcat[0]!;
  assert.equal(panel.encoding.y.title, 'total_loss (log scale; 2 values ≤ 0 not drawn)');
  assert.deepEqual(panel.encoding.y.scale, { type: 'log' });
  assert.deepEqual(panel.data.values.filter((r) => r.style === 'faded').map((r) => r.value), [1, 0.5, 0.25, 0.1]);
  const texts = svgTexts((await renderMetricChart(chart, 'svg')).toString('utf8'));
  assert.ok(texts.includes('total_loss (log scale; 2 values ≤ 0 not drawn)'), texts.join('|'));
});

test('a log scale without values ≤ 0 only says it is one; a linear panel keeps its plain title', () => {
  const state = run('a', [1, 0.5, 0.25]);
  const log = buildVegaLiteSpec(metricChart(state, [['total_loss']], 2, { logScale: true }), { width: 300, height: 200 }) as unknown as { vconcat: Array<{ encoding: { y: { title: string } } }> };
  assert.equal(log.vconcat[0]!.encoding.y.title, 'total_loss (log scale)');
  const lin = buildVegaLiteSpec(metricChart(state, [['total_loss']], 2), { width: 300, height: 200 }) as unknown as { vconcat: Array<{ encoding: { y: { title: string; scale: unknown } } }> };
  assert.equal(lin.vconcat[0]!.encoding.y.title, 'total_loss');
  assert.deepEqual(lin.vconcat[0]!.encoding.y.scale, { zero: false });
});

test('an overlay draws one panel per metric with one raw and one smoothed line per run, named by its label', async () => {
  const chart = overlayChart([{ label: 'lr 0.1', state: run('a', [3, 2, 1]) }, { label: 'lr 0.01', state: run('b', [3, 2.5, 2.2, 2]) }], ['total_loss'], 2);
  assert.equal(chart.title, undefined);
  assert.deepEqual(chart.panels.map((p) => [p.title, p.yTitle, p.series.map((s) => [s.name, s.points.length, s.smoothed?.length])]), [['total_loss', 'total_loss', [['lr 0.1', 3, 3], ['lr 0.01', 4, 4]]]]);
  const texts = svgTexts((await renderMetricChart(chart, 'svg')).toString('utf8'));
  for (const t of ['lr 0.1', 'lr 0.01', 'raw', 'median of 2 iterations', 'total_loss']) assert.ok(texts.includes(t), `${t} in ${texts.join('|')}`);
});

test('an overlay of one source is titled by it, as a single-run chart is by its run', () => {
  assert.equal(overlayChart([{ label: 'only', state: run('a', [1, 2]) }], ['total_loss']).title, 'only');
});
