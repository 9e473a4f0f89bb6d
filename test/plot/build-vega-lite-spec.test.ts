import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildVegaLiteSpec } from '../../src/plot/build-vega-lite-spec.js';
import type { MetricChartSpec } from '../../src/plot/index.js';

interface Row {
  readonly series: string;
  readonly iteration: number;
  readonly value: number;
  readonly style: string;
  readonly lone: boolean;
}

/** The parts of the generated spec these tests look at, without vega-lite's full union types. */
interface Built {
  readonly vconcat: ReadonlyArray<{
    readonly title: string;
    readonly data: { readonly values: readonly Row[] };
    readonly encoding: { readonly x: { readonly axis: { readonly tickCount: number } } };
  }>;
  readonly resolve: unknown;
}

function build(spec: MetricChartSpec, width = 400): Built {
  return buildVegaLiteSpec(spec, { width, height: 200 }) as unknown as Built;
}

describe('buildVegaLiteSpec', () => {
  it('makes one vconcat entry per panel, in order, with its title', () => {
    const built = build({
      panels: [
        { title: 'loss', series: [{ name: 'loss', points: [[0, 1]] }] },
        { title: 'accuracy', series: [{ name: 'acc', points: [[0, 0.5]] }] },
      ],
    });
    assert.deepEqual(built.vconcat.map((p) => p.title), ['loss', 'accuracy']);
  });

  it('marks raw points faded when the series has smoothed points and solid otherwise', () => {
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
    const styles = built.vconcat[0].data.values.map((r) => `${r.series}:${r.style}`);
    assert.deepEqual(styles, ['a:faded', 'a:faded', 'a:solid', 'a:solid', 'b:solid', 'b:solid']);
  });

  it('leaves out rows whose iteration or value is not finite', () => {
    const built = build({
      panels: [
        {
          title: 'loss',
          series: [{ name: 'a', points: [[0, 1], [1, Number.NaN], [2, Number.POSITIVE_INFINITY], [Number.NaN, 3], [4, 0.5]] }],
        },
      ],
    });
    assert.deepEqual(built.vconcat[0].data.values.map((r) => [r.iteration, r.value]), [[0, 1], [4, 0.5]]);
  });

  it('flags the single finite point of a line so that it is drawn as a dot', () => {
    const built = build({ panels: [{ title: 'p', series: [{ name: 'a', points: [[3, 1], [4, Number.NaN]] }, { name: 'b', points: [[0, 1], [1, 2]] }] }] });
    assert.deepEqual(built.vconcat[0].data.values.map((r) => `${r.series}:${r.lone}`), ['a:true', 'b:false', 'b:false']);
  });

  it('never asks for more x ticks than whole iterations in the span', () => {
    const short = build({ panels: [{ title: 'p', series: [{ name: 'a', points: [[0, 1], [3, 2]] }] }] });
    assert.equal(short.vconcat[0].encoding.x.axis.tickCount, 3);
    const long = build({ panels: [{ title: 'p', series: [{ name: 'a', points: [[0, 1], [10_000, 2]] }] }] }, 400);
    assert.equal(long.vconcat[0].encoding.x.axis.tickCount, 10);
  });

  it('shares the iteration scale across panels but keeps colours and legends per panel', () => {
    const built = build({ panels: [{ title: 'p', series: [{ name: 'a', points: [] }] }] });
    assert.deepEqual(built.resolve, { scale: { color: 'independent', x: 'shared' }, legend: { color: 'independent' } });
  });
});
