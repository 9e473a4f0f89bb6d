import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChartRenderError } from '../../src/plot/index.js';
import { fitSvgSize, svgSize } from '../../src/plot/fit-svg-size.js';

test('svgSize and fitSvgSize reads the width and height of the root element only', () => {
  const svg = '<svg class="marks" width="643.5" height="298" viewBox="0 0 643.5 298"><rect width="10" height="20"/></svg>';
  assert.deepEqual(svgSize(svg), { width: 643.5, height: 298 });
});

test('svgSize and fitSvgSize sets the outer size and stretches the existing viewBox over it, leaving inner elements alone', () => {
  const svg = '<svg class="marks" width="643" height="298" viewBox="0 0 643 298"><rect width="643" height="298"/></svg>';
  const fitted = fitSvgSize(svg, { width: 640, height: 300 });
  assert.equal(
    fitted,
    '<svg preserveAspectRatio="none" class="marks" width="640" height="300" viewBox="0 0 643 298"><rect width="643" height="298"/></svg>',
  );
});

test('svgSize and fitSvgSize adds a viewBox of the natural size when the root has none', () => {
  const fitted = fitSvgSize('<svg width="20" height="10"></svg>', { width: 40, height: 20 });
  assert.match(fitted, /viewBox="0 0 20 10"/);
  assert.deepEqual(svgSize(fitted), { width: 40, height: 20 });
});

test('svgSize and fitSvgSize reports an SVG without a usable size as a ChartRenderError', () => {
  assert.throws(() => svgSize('<svg viewBox="0 0 1 1"></svg>'), (error: unknown) => {
    assert.ok(error instanceof ChartRenderError);
    assert.equal(error.code, 'ERR_CHART_RENDER');
    return true;
  });
});
