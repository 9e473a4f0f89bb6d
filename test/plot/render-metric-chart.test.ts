import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from '../../src/errors/trainledger-error.js';
import { renderMetricChart, type MetricChartSpec, type MetricPanel, type MetricPoint } from '../../src/plot/index.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function curve(length: number, at: (i: number) => number): MetricPoint[] {
  return Array.from({ length }, (_, i) => [i, at(i)] as const);
}

const lossPanel: MetricPanel = {
  title: 'loss panel',
  series: [
    { name: 'train_loss', points: curve(50, (i) => 2 / (i + 1) + 0.05 * Math.sin(i)), smoothed: curve(50, (i) => 2 / (i + 1)) },
    { name: 'val_loss', points: curve(50, (i) => 2.2 / (i + 1)) },
  ],
};
const accuracyPanel: MetricPanel = {
  title: 'accuracy panel',
  yTitle: 'fraction correct',
  series: [{ name: 'val_acc', points: curve(50, (i) => 1 - 1 / (i + 2)), smoothed: curve(50, (i) => 1 - 1.1 / (i + 2)) }],
};
const twoPanels: MetricChartSpec = { title: 'run 7', width: 700, height: 500, panels: [lossPanel, accuracyPanel] };

/** The `<path>` elements vega draws for line marks, one per drawn line. */
function linePaths(svg: string): string[] {
  const groups = svg.match(/<g class="mark-line[^>]*>.*?<\/g>/g) ?? [];
  return groups.flatMap((group) => group.match(/<path\b[^>]*>/g) ?? []);
}

function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)].map((m) => m[1] ?? '');
}

function pngSize(png: Buffer): { width: number; height: number } {
  assert.equal(png.toString('latin1', 12, 16), 'IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

test('renderMetricChart draws one SVG path per raw line and per smoothed line', async () => {
  const svg = (await renderMetricChart(twoPanels, 'svg')).toString('utf8');
  // train_loss raw + smoothed, val_loss raw only, val_acc raw + smoothed.
  assert.equal(linePaths(svg).length, 5);
});

test('renderMetricChart fades raw lines that have a smoothed line and draws the others solid', async () => {
  const svg = (await renderMetricChart(twoPanels, 'svg')).toString('utf8');
  const paths = linePaths(svg);
  const faded = paths.filter((p) => /\sopacity="0\.35"/.test(p));
  assert.equal(faded.length, 2);
  assert.ok(faded.every((p) => /\sstroke-width="1"/.test(p)));
  assert.ok(paths.filter((p) => !faded.includes(p)).every((p) => /\sstroke-width="2"/.test(p)));
});

test('renderMetricChart writes the chart title, panel titles, axis titles and legend names into the SVG', async () => {
  const texts = svgTexts((await renderMetricChart(twoPanels, 'svg')).toString('utf8'));
  for (const expected of ['run 7', 'loss panel', 'accuracy panel', 'iteration', 'fraction correct', 'train_loss', 'val_loss', 'val_acc']) {
    assert.ok(texts.includes(expected), `missing text ${expected} in ${texts.join('|')}`);
  }
});

test('renderMetricChart writes a legend naming the faded line raw and the solid one as the spec says, when every series has both', async () => {
  const smoothedOnly: MetricChartSpec = { panels: [{ ...twoPanels.panels[1]!, smoothedLabel: 'median of 20 iterations' }] };
  const texts = svgTexts((await renderMetricChart(smoothedOnly, 'svg')).toString('utf8'));
  assert.ok(texts.includes('raw') && texts.includes('median of 20 iterations'), texts.join('|'));
  // val_loss of the loss panel has no smoothed line, so that panel has no such legend.
  const loss: MetricChartSpec = { panels: [twoPanels.panels[0]!] };
  assert.ok(!svgTexts((await renderMetricChart(loss, 'svg')).toString('utf8')).includes('raw'));
});

test('renderMetricChart makes the SVG exactly the requested width and height', async () => {
  const svg = (await renderMetricChart(twoPanels, 'svg')).toString('utf8');
  assert.match(svg, /^<svg\b[^>]*\swidth="700"[^>]*\sheight="500"/);
});

test('renderMetricChart produces a PNG with a valid signature and the requested width and height', async () => {
  const png = await renderMetricChart(twoPanels, 'png');
  assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE);
  assert.deepEqual(pngSize(png), { width: 700, height: 500 });
});

test('renderMetricChart sizes the image 640 wide and 260 per panel plus a title row when no size is given', async () => {
  const { width: _w, height: _h, ...unsized } = twoPanels;
  assert.deepEqual(pngSize(await renderMetricChart(unsized, 'png')), { width: 640, height: 2 * 260 + 30 });
  const single: MetricChartSpec = { panels: [accuracyPanel] };
  assert.deepEqual(pngSize(await renderMetricChart(single, 'png')), { width: 640, height: 260 });
});

test('renderMetricChart draws something into the PNG: different charts give different pixels', async () => {
  const other: MetricChartSpec = {
    ...twoPanels,
    panels: [{ title: 'other', series: [{ name: 'lr', points: curve(50, (i) => 0.1 * 0.95 ** i) }] }],
  };
  const [a, b] = await Promise.all([renderMetricChart(twoPanels, 'png'), renderMetricChart(other, 'png')]);
  assert.notDeepEqual(a, b);
  // A blank 700x500 image compresses to well under a kilobyte; lines and text do not.
  assert.ok(a.length > 5000 && b.length > 5000, `PNG sizes ${a.length} and ${b.length} look blank`);
});

test('renderMetricChart renders the same spec to the same PNG bytes every time', async () => {
  const [a, b] = await Promise.all([renderMetricChart(twoPanels, 'png'), renderMetricChart(twoPanels, 'png')]);
  assert.deepEqual(a, b);
});

test('renderMetricChart drops NaN and infinite values from the lines instead of throwing', async () => {
  const points: MetricPoint[] = [[0, 1], [1, Number.NaN], [2, Number.POSITIVE_INFINITY], [3, 0.5], [Number.NaN, 0.7], [4, Number.NEGATIVE_INFINITY], [5, 0.25]];
  const spec: MetricChartSpec = {
    panels: [{ title: 'diverging', series: [{ name: 'loss', points, smoothed: [[0, 1], [3, Number.NaN], [5, 0.4]] }] }],
  };
  const svg = (await renderMetricChart(spec, 'svg')).toString('utf8');
  const paths = linePaths(svg);
  assert.equal(paths.length, 2);
  for (const path of paths) assert.doesNotMatch(path, /\sd="[^"]*(NaN|Infinity)/);
  // Only the three finite raw points remain, so the raw line has three vertices.
  const raw = paths.find((p) => /\sopacity="0\.35"/.test(p)) ?? '';
  assert.equal(/\sd="([^"]*)"/.exec(raw)?.[1]?.match(/[ML]/g)?.length, 3);
  const png = await renderMetricChart(spec, 'png');
  assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE);
});

test('renderMetricChart marks NaN and infinite values with symbols on the plot edges and counts them in one "not finite" legend', async () => {
  const points: MetricPoint[] = [[0, 1], [1, Number.NaN], [2, Number.POSITIVE_INFINITY], [3, 0.5], [4, Number.NEGATIVE_INFINITY], [5, 0.25], [6, Number.NaN]];
  const spec: MetricChartSpec = { panels: [{ title: 'diverging', series: [{ name: 'loss', points }] }] };
  const svg = (await renderMetricChart(spec, 'svg')).toString('utf8');
  const marks = [...svg.matchAll(/<path aria-label="iteration: (\d+); series: loss; kind: ([^"]*)"[^>]*transform="translate\([\d.]+,([\d.]+)\)"/g)].map((m) => [Number(m[1]), m[2], Number(m[3])] as const);
  const bottom = marks.find(([iteration]) => iteration === 4)?.[2] ?? 0;
  assert.ok(bottom > 100, `-Inf drawn at y=${bottom}, not on the bottom edge`);
  assert.deepEqual(marks.sort((a, b) => a[0] - b[0]), [[1, '2 NaN', 0], [2, '1 +Inf', 0], [4, '1 -Inf', bottom], [6, '2 NaN', 0]]);
  const texts = svgTexts(svg);
  assert.equal(texts.filter((t) => t === 'not finite').length, 1);
  for (const label of ['2 NaN', '1 +Inf', '1 -Inf']) assert.equal(texts.filter((t) => t === label).length, 1, label);
});

test('renderMetricChart keeps a series whose values are all NaN in the legend without drawing a line for it', async () => {
  const spec: MetricChartSpec = {
    panels: [
      {
        title: 'loss',
        series: [
          { name: 'loss', points: [[0, 1], [1, 0.5]] },
          { name: 'exploded', points: [[0, Number.NaN], [1, Number.NaN]] },
        ],
      },
    ],
  };
  const svg = (await renderMetricChart(spec, 'svg')).toString('utf8');
  assert.equal(linePaths(svg).length, 1);
  assert.ok(svgTexts(svg).includes('exploded'));
});

test('renderMetricChart draws a line with a single finite point as a dot, since a one-point line shows nothing', async () => {
  const spec: MetricChartSpec = { panels: [{ title: 'early', series: [{ name: 'loss', points: [[0, 2.3]] }] }] };
  const svg = (await renderMetricChart(spec, 'svg')).toString('utf8');
  const dots = svg.match(/<g class="mark-symbol role-mark[^>]*>.*?<\/g>/g) ?? [];
  assert.equal(dots.join('').match(/<path\b/g)?.length, 1);
});

test('renderMetricChart does not throw when every value of a panel is NaN', async () => {
  const spec: MetricChartSpec = { panels: [{ title: 'empty', series: [{ name: 'loss', points: [[0, Number.NaN]] }] }] };
  const png = await renderMetricChart(spec, 'png');
  assert.deepEqual(pngSize(png), { width: 640, height: 260 });
});

test('renderMetricChart escapes markup characters in series names and titles', async () => {
  const spec: MetricChartSpec = { panels: [{ title: 'a<b & c', series: [{ name: '<loss>', points: [[0, 1], [1, 2]] }] }] };
  const svg = (await renderMetricChart(spec, 'svg')).toString('utf8');
  assert.ok(svgTexts(svg).includes('a&lt;b &amp; c'));
  assert.ok(svgTexts(svg).includes('&lt;loss&gt;'));
});

test('renderMetricChart refuses an image too small for its panels, naming the height and the minimum', async () => {
  const spec: MetricChartSpec = { ...twoPanels, height: 90 };
  await assert.rejects(renderMetricChart(spec, 'png'), (error: unknown) => {
    assert.ok(error instanceof InvalidArgumentError);
    assert.equal(error.code, 'ERR_INVALID_ARGUMENT');
    assert.match(error.message, /spec\.height 90 .*expected a height of at least \d+/);
    return true;
  });
});

test('renderMetricChart refuses an image too narrow for axes and legend, naming the width and the minimum', async () => {
  await assert.rejects(renderMetricChart({ ...twoPanels, width: 120 }, 'svg'), /spec\.width 120 .*expected a width of at least \d+/);
});

test('renderMetricChart refuses an empty spec before drawing anything', async () => {
  await assert.rejects(renderMetricChart({ panels: [] }, 'svg'), /spec\.panels is empty; expected at least one panel/);
});
