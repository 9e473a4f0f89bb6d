import { DEFAULT_WIDTH } from './render-metric-chart.js';
import type { MetricChartSpec, MetricPanel, MetricSeries } from './metric-chart-spec.js';
import { countNonFinite, downsampleM4 } from './downsample.js';
import { trailingMedian } from './trailing-median.js';
import { historyOf } from '../storage/state-queries.js';
import type { StorageState } from '../storage/storage-state.js';

/** Options of `plotMetrics` beyond the smoothing window. */
export interface PlotMetricsOptions {
  /** Width of the image in pixels (default 640, as `renderMetricChart`). */
  readonly width?: number;
}

/** Points kept per drawn line, per pixel of image width (the plot area is narrower, so a few more per plot pixel). */
export const POINTS_PER_PIXEL = 2;

/**
 * The chart `plotMetrics` draws, before rendering: per metric its raw samples and their
 * trailing median over `window` iterations (see `trailingMedian`), each downsampled with
 * `downsampleM4` to at most `POINTS_PER_PIXEL` × the image width, so the renderer gets a
 * bounded number of points however long the run; counts of NaN/±Infinity values are those of
 * all samples. The y axis is titled with the panel's metric names, and the legend names the
 * faded line "raw" and the solid one "median of <window> iterations".
 *
 * @example
 * ```ts
 * const chart = metricChart(state, [['total_loss']], 20);
 * chart.panels[0].series[0].points.length; // ≤ 1280
 * ```
 */
export function metricChart(state: StorageState, panels: ReadonlyArray<readonly string[]>, window = 20, options: PlotMetricsOptions = {}): MetricChartSpec {
  const width = options.width ?? DEFAULT_WIDTH;
  const budget = Math.max(4, POINTS_PER_PIXEL * width);
  return {
    title: state.info.run?.name ?? undefined,
    ...(options.width !== undefined ? { width } : {}),
    panels: panels.map(
      (names): MetricPanel => ({
        title: names.join(', '),
        yTitle: names.join(', '),
        smoothedLabel: `median of ${window} iterations`,
        series: names.map((name): MetricSeries => {
          const { values, iters } = historyOf(state, name).columns();
          return {
            name,
            points: downsampleM4(iters, values, budget),
            // The median of the whole series, then downsampled: the median of downsampled points would be another curve.
            smoothed: values.length > 1 ? downsampleM4(iters, trailingMedian(iters, values, window), budget) : undefined,
            nonFinite: countNonFinite(values),
          };
        }),
      }),
    ),
  };
}
