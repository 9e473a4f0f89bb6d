import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildVegaLiteSpec } from '../../src/plot/build-vega-lite-spec.js';
import type { MetricChartSpec } from '../../src/plot/index.js';

interface Row {
  readonly series: string;
  readonly iteration: number;
  readonly value: number;
  readonly style: string;
  readonly lone: boolean;
  readonly kind?: string;
  readonly edge?: string;
}

interface Layer {
  readonly transform?: ReadonlyArray<{ readonly filter: { readonly field: string; readonly equal: unknown } }>;
  readonly encoding?: {
    readonly opacity?: { readonly scale: { readonly domain: readonly string[]; readonly range: readonly number[] }; readonly legend: { readonly labelExpr: string } };
    readonly strokeWidth?: { readonly scale: { readonly domain: readonly string[]; readonly range: readonly number[] } };
    readonly y?: { readonly value: number };
    readonly shape?: { readonly scale: { readonly domain: readonly string[]; readonly range: readonly string[] }; readonly legend: { readonly title: string } };
  };
}

interface Panel {
  readonly title: string;
  readonly data: { readonly values: readonly Row[] };
  readonly encoding: { readonly x: { readonly axis: { readonly tickCount: number } } };
  readonly layer: readonly Layer[];
}

/** The parts of the generated spec these tests look at, without vega-lite's full union types. */
interface Built {
  readonly vconcat: readonly Panel[];
  readonly resolve: unknown;
}

/** Panel `i` of a built spec; the test fails when there is none. */
function panelOf(built: Built, i: number): Panel {
  const panel = built.vconcat[i];
  assert.ok(panel, `the spec has no panel ${i}`);
  return panel;
}

function build(spec: MetricChartSpec, width = 400): Built {
  return buildVegaLiteSpec(spec, { width, height: 200 }) as unknown as Built;
}

test('buildVegaLiteSpec makes one vconcat entry per panel, in order, with its title', () => {
  const built = build({
    panels: [
      { title: 'loss', series: [{ name: 'loss', points: [[0, 1]] }] },
      { title: 'accuracy', series: [{ name: 'acc', points: [[0, 0.5]] }] },
    ],
  });
  assert.deepEqual(built.vconcat.map((p) => p.title), ['loss', 'accuracy']);
});

test('buildVegaLiteSpec marks raw points faded when the series has smoothed points and solid otherwise', () => {
  const built = build({
    panels: [
      {
        title: 'loss',
        series: [
          { name: 'a', points: [[0, 1], [1, 2]], smoothed: [[0, 1], [1, 1.5]] },
          { name: 'b', points: [[0, 3], [1, 4]], smoothed: [] },
        ],
      },
    ],
  });
  const styles = panelOf(built, 0).data.values.map((r) => `${r.series}:${r.style}`);
  assert.deepEqual(styles, ['a:faded', 'a:faded', 'a:solid', 'a:solid', 'b:solid', 'b:solid']);
});

test('buildVegaLiteSpec leaves out of the lines rows whose iteration or value is not finite', () => {
  const built = build({
    panels: [
      {
        title: 'loss',
        series: [{ name: 'a', points: [[0, 1], [1, Number.NaN], [2, Number.POSITIVE_INFINITY], [Number.NaN, 3], [4, 0.5]] }],
      },
    ],
  });
  const lines = panelOf(built, 0).data.values.filter((r) => r.style !== 'mark');
  assert.deepEqual(lines.map((r) => [r.iteration, r.value]), [[0, 1], [4, 0.5]]);
});

test('buildVegaLiteSpec marks raw NaN and +Inf on the top edge and -Inf on the bottom edge, at their iteration, with a legend that counts them', () => {
  const built = build({
    panels: [
      {
        title: 'loss',
        series: [
          { name: 'a', points: [[0, 1], [1, Number.NaN], [2, Number.POSITIVE_INFINITY], [3, Number.NaN], [Number.NaN, Number.NaN], [4, 0.5]], smoothed: [[0, 1], [1, Number.NaN], [4, 0.7]] },
          { name: 'b', points: [[0, 2], [5, Number.NEGATIVE_INFINITY]] },
        ],
      },
    ],
  });
  const panel = panelOf(built, 0);
  const marks = panel.data.values.filter((r) => r.style === 'mark');
  // Only raw values with a finite iteration: a smoothed NaN echoes raw ones, a NaN iteration has no place.
  assert.deepEqual(marks.map((r) => [r.series, r.iteration, r.kind, r.edge]), [
    ['a', 1, '2 NaN', 'top'],
    ['a', 2, '1 +Inf', 'top'],
    ['a', 3, '2 NaN', 'top'],
    ['b', 5, '1 -Inf', 'bottom'],
  ]);
  const edges = panel.layer.filter((l) => l.transform?.[0]?.filter.field === 'edge');
  assert.deepEqual(edges.map((l) => [l.transform?.[0]?.filter.equal, l.encoding?.y?.value]), [['top', 0], ['bottom', 200]]);
  assert.deepEqual(edges[0]?.encoding?.shape?.scale, { domain: ['2 NaN', '1 +Inf', '1 -Inf'], range: ['cross', 'triangle-up', 'triangle-down'] });
  assert.equal(edges[0]?.encoding?.shape?.legend.title, 'not finite');
});

test('buildVegaLiteSpec counts the NaN and infinite values a series says it had, when its points are a downsampled view', () => {
  const built = build({ panels: [{ title: 'p', series: [{ name: 'a', points: [[0, 1], [9, Number.NaN]], nonFinite: { nan: 5000, posInf: 0, negInf: 0 } }] }] });
  assert.deepEqual(panelOf(built, 0).data.values.filter((r) => r.style === 'mark').map((r) => r.kind), ['5000 NaN']);
});

test('buildVegaLiteSpec adds no marks and no "not finite" legend when every value is finite', () => {
  const built = build({ panels: [{ title: 'p', series: [{ name: 'a', points: [[0, 1], [1, 2]], smoothed: [[0, 1], [1, Number.NaN]] }] }] });
  assert.equal(panelOf(built, 0).layer.length, 3);
  assert.ok(panelOf(built, 0).data.values.every((r) => r.style !== 'mark'));
});

test('buildVegaLiteSpec flags the single finite point of a line so that it is drawn as a dot', () => {
  const built = build({ panels: [{ title: 'p', series: [{ name: 'a', points: [[3, 1], [4, Number.NaN]] }, { name: 'b', points: [[0, 1], [1, 2]] }] }] });
  const lines = panelOf(built, 0).data.values.filter((r) => r.style !== 'mark');
  assert.deepEqual(lines.map((r) => `${r.series}:${r.lone}`), ['a:true', 'b:false', 'b:false']);
});

test('buildVegaLiteSpec names the faded lines raw and the solid ones by smoothedLabel in a legend when every series has both', () => {
  const built = build({
    panels: [
      { title: 'p', smoothedLabel: 'median of 20 iterations', series: [{ name: 'a', points: [[0, 1], [1, 2]], smoothed: [[0, 1], [1, 1.5]] }] },
      { title: 'q', series: [{ name: 'a', points: [[0, 1], [1, 2]], smoothed: [[0, 1], [1, 1.5]] }, { name: 'b', points: [[0, 1], [1, 2]] }] },
    ],
  });
  const [faded, solid] = panelOf(built, 0).layer;
  for (const layer of [faded, solid]) {
    assert.deepEqual(layer?.encoding?.opacity?.scale, { domain: ['faded', 'solid'], range: [0.35, 1] });
    assert.deepEqual(layer?.encoding?.strokeWidth?.scale, { domain: ['faded', 'solid'], range: [1, 2] });
  }
  const label = new Function('datum', `return ${faded?.encoding?.opacity?.legend.labelExpr}`) as (d: { value: string }) => string;
  assert.deepEqual([label({ value: 'faded' }), label({ value: 'solid' })], ['raw', 'median of 20 iterations']);
  // b has no smoothed line and is drawn solid: a legend would call it smoothed.
  assert.ok(panelOf(built, 1).layer.every((l) => l.encoding?.opacity === undefined));
});

test('buildVegaLiteSpec never asks for more x ticks than whole iterations in the span', () => {
  const short = build({ panels: [{ title: 'p', series: [{ name: 'a', points: [[0, 1], [3, 2]] }] }] });
  assert.equal(panelOf(short, 0).encoding.x.axis.tickCount, 3);
  const long = build({ panels: [{ title: 'p', series: [{ name: 'a', points: [[0, 1], [10_000, 2]] }] }] }, 400);
  assert.equal(panelOf(long, 0).encoding.x.axis.tickCount, 10);
});

test('buildVegaLiteSpec shares the iteration scale across panels but keeps colours and legends per panel', () => {
  const built = build({ panels: [{ title: 'p', series: [{ name: 'a', points: [] }] }] });
  assert.deepEqual(built.resolve, {
    scale: { color: 'independent', shape: 'independent', opacity: 'independent', strokeWidth: 'independent', x: 'shared' },
    legend: { color: 'independent', shape: 'independent', opacity: 'independent', strokeWidth: 'independent' },
  });
});
