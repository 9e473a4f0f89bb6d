import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ChartLibraryMissingError, defaultChartLoader, renderMetricChart, type ChartModuleLoader, type MetricChartSpec } from '../../src/plot/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WITHOUT = fileURLToPath(new URL('./fixtures/without-chart-packages.mjs', import.meta.url));

const chart: MetricChartSpec = { panels: [{ title: 'loss', series: [{ name: 'loss', points: [[0, 1], [1, 0.5]] }] }] };

/** The real loader, except that `absent` packages are not found, as when they are not installed. */
function without(...absent: string[]): ChartModuleLoader & { asked: string[] } {
  const asked: string[] = [];
  const notFound = (s: string): Error => Object.assign(new Error(`Cannot find package '${s}'`), { code: s.includes('/') && !s.startsWith('@resvg') ? 'MODULE_NOT_FOUND' : 'ERR_MODULE_NOT_FOUND' });
  return {
    asked,
    import: async (s) => {
      asked.push(s);
      if (absent.includes(s)) throw notFound(s);
      return defaultChartLoader.import(s);
    },
    resolve: (s) => {
      asked.push(s);
      if (absent.some((a) => s.startsWith(`${a}/`))) throw notFound(s);
      return defaultChartLoader.resolve(s);
    },
  };
}

test('without vega the chart fails with ChartLibraryMissingError: one line naming what is missing and the npm install command', async () => {
  await assert.rejects(renderMetricChart(chart, 'svg', { loader: without('vega') }), (e: unknown) => {
    assert.ok(e instanceof ChartLibraryMissingError);
    assert.equal(e.code, 'ERR_CHART_LIBRARY_MISSING');
    assert.deepEqual(e.missing, ['vega']);
    assert.equal(e.message.includes('\n'), false);
    assert.match(e.message, /vega is not installed: npm install vega vega-lite @resvg\/resvg-js @expo-google-fonts\/inter$/);
    return true;
  });
});

test('a PNG also needs resvg and the font; every missing one is named', async () => {
  await assert.rejects(renderMetricChart(chart, 'png', { loader: without('@resvg/resvg-js', '@expo-google-fonts/inter') }), (e: unknown) => {
    assert.ok(e instanceof ChartLibraryMissingError);
    assert.deepEqual(e.missing, ['@resvg/resvg-js', '@expo-google-fonts/inter']);
    assert.match(e.message, /@resvg\/resvg-js, @expo-google-fonts\/inter are not installed/);
    return true;
  });
});

test('an SVG does not load resvg or the font, so it draws without them', async () => {
  const loader = without('@resvg/resvg-js', '@expo-google-fonts/inter');
  const svg = (await renderMetricChart(chart, 'svg', { loader })).toString('utf8');
  assert.match(svg, /^<svg/);
  assert.deepEqual(loader.asked, ['vega', 'vega-lite']);
});

test('trainledger, trainledger/plot and the CLI load without the charting packages installed', () => {
  const probe = "await import('./src/index.ts'); await import('./src/plot/index.ts'); await import('./src/cli/main.ts'); await import('./src/cli/plot-metrics.ts'); console.log('loaded');";
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', WITHOUT, '--input-type=module', '-e', probe], { encoding: 'utf8', cwd: ROOT });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'loaded');
});
