import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from '../../src/errors/trainledger-error.js';
import type { MetricChartSpec } from '../../src/plot/index.js';
import { validateMetricChartSpec } from '../../src/plot/validate-metric-chart-spec.js';

const valid: MetricChartSpec = {
  panels: [{ title: 'loss', series: [{ name: 'loss', points: [[0, 1], [1, Number.NaN]], smoothed: [[0, 1]] }] }],
};

function rejects(spec: unknown, format: unknown, message: RegExp): void {
  assert.throws(
    () => validateMetricChartSpec(spec as MetricChartSpec, format as 'svg'),
    (error: unknown) => {
      assert.ok(error instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(error)}`);
      assert.equal(error.code, 'ERR_INVALID_ARGUMENT');
      assert.match(error.message, message);
      return true;
    },
  );
}

test('validateMetricChartSpec accepts a well-formed spec whose values include NaN', () => {
  assert.doesNotThrow(() => validateMetricChartSpec(valid, 'png'));
  assert.doesNotThrow(() => validateMetricChartSpec({ ...valid, width: 300, height: 200, title: 't' }, 'svg'));
});

test('validateMetricChartSpec rejects a format other than svg or png, naming it', () => {
  rejects(valid, 'jpeg', /format "jpeg" is not supported; expected 'svg' or 'png'/);
});

test('validateMetricChartSpec rejects a spec without panels', () => {
  rejects({ panels: [] }, 'svg', /spec\.panels is empty; expected at least one panel/);
  rejects({}, 'svg', /spec\.panels is undefined; expected an array of panels/);
});

test('validateMetricChartSpec rejects a panel without series, naming the panel', () => {
  rejects({ panels: [{ title: 'acc', series: [] }] }, 'svg', /spec\.panels\[0\]\.series \(panel "acc"\) is \[\]; expected at least one series/);
});

test('validateMetricChartSpec rejects two series of the same name in one panel', () => {
  const series = { name: 'loss', points: [] };
  rejects({ panels: [{ title: 'p', series: [series, series] }] }, 'svg', /spec\.panels\[0\]\.series\[1\]\.name "loss" repeats in panel "p"; expected unique/);
});

test('validateMetricChartSpec rejects an empty series name and a missing panel title', () => {
  rejects({ panels: [{ title: 'p', series: [{ name: '', points: [] }] }] }, 'svg', /series\[0\]\.name is ""; expected a non-empty string/);
  rejects({ panels: [{ series: [] }] }, 'svg', /spec\.panels\[0\]\.title is undefined; expected a string/);
});

test('validateMetricChartSpec rejects points that are not pairs of numbers, naming the index', () => {
  const bad = { panels: [{ title: 'p', series: [{ name: 'a', points: [[0, 1], [1, '2']] }] }] };
  rejects(bad, 'svg', /spec\.panels\[0\]\.series\[0\]\.points\[1\] is \[1,"2"\]; expected an \[iteration, value\] pair of numbers/);
  const noSmoothedArray = { panels: [{ title: 'p', series: [{ name: 'a', points: [], smoothed: 3 }] }] };
  rejects(noSmoothedArray, 'svg', /series\[0\]\.smoothed is 3; expected an array/);
});

test('validateMetricChartSpec rejects counts of non-finite values that are not non-negative whole numbers', () => {
  const withCounts = (nonFinite: unknown) => ({ panels: [{ title: 'p', series: [{ name: 'a', points: [], nonFinite }] }] });
  assert.doesNotThrow(() => validateMetricChartSpec(withCounts({ nan: 3, posInf: 0, negInf: 1 }) as MetricChartSpec, 'svg'));
  rejects(withCounts({ nan: -1, posInf: 0, negInf: 0 }), 'svg', /series\[0\]\.nonFinite is \{"nan":-1,"posInf":0,"negInf":0\}; expected \{ nan, posInf, negInf \} counts/);
  rejects(withCounts({ nan: 1 }), 'svg', /series\[0\]\.nonFinite is \{"nan":1\}; expected/);
});

test('validateMetricChartSpec rejects a width or height that is not a positive whole number of pixels', () => {
  rejects({ ...valid, width: 0 }, 'png', /spec\.width is 0; expected a positive integer number of pixels/);
  rejects({ ...valid, height: 10.5 }, 'png', /spec\.height is 10\.5; expected a positive integer/);
  rejects({ ...valid, width: Number.NaN }, 'png', /spec\.width is NaN; expected/);
});

test('validateMetricChartSpec shortens long bad values in messages', () => {
  const long = 'x'.repeat(500);
  assert.throws(
    () => validateMetricChartSpec({ panels: [{ title: 'p', series: [{ name: 'a', points: [long as never] }] }] }, 'svg'),
    (error: unknown) => error instanceof InvalidArgumentError && error.message.length < 200 && error.message.includes('...'),
  );
});
