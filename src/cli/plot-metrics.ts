import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { markPlot } from './export-targets.js';
import { writingTo } from './errors.js';
import { metricChart, type PlotMetricsOptions } from '../plot/metric-chart.js';
import { renderMetricChart } from '../plot/render-metric-chart.js';
import type { StorageState } from '../storage/storage-state.js';
import { startReplacement } from '../writers/keep-lines.js';

/**
 * Renders curves of the given metrics (raw and smoothed) from a state to SVG or PNG: the chart
 * of `metricChart`.
 *
 * @example
 * ```ts
 * await plotMetrics(state, [['total_loss'], ['test/accuracy']], 'out/curves.png');
 * ```
 */
export async function plotMetrics(state: StorageState, panels: ReadonlyArray<readonly string[]>, out: string, window = 20, options: PlotMetricsOptions = {}): Promise<string> {
  const format = out.endsWith('.svg') ? 'svg' : 'png';
  const bytes = markPlot(await renderMetricChart(metricChart(state, panels, window, options), format), format);
  writingTo(out, () => {
    mkdirSync(dirname(out), { recursive: true });
    const r = startReplacement(out);
    try {
      writeFileSync(r.tmp, bytes);
      r.commit();
    } catch (e) {
      r.abandon();
      throw e;
    }
  });
  return out;
}
