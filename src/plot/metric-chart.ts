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
  /** A log y axis (values ≤ 0 are left out and counted in the axis title). */
  readonly logScale?: boolean;
}

/** One run to draw in an overlay: its state and the name its lines get in the legend. */
export interface ChartSource {
  readonly label: string;
  readonly state: StorageState;
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
  const budget = Math.max(4, POINTS_PER_PIXEL * (options.width ?? DEFAULT_WIDTH));
  return {
    title: state.info.run?.name ?? undefined,
    ...(options.width !== undefined ? { width: options.width } : {}),
    panels: panels.map((names) => panel(names, window, options, names.map((name) => seriesOf(state, name, name, window, budget, options)))),
  };
}

/**
 * Several runs overlaid: one panel per metric, one line per run (named by its `label`), each
 * raw and smoothed as in `metricChart`. Every source must have recorded every metric.
 *
 * @example
 * ```ts
 * overlayChart([{ label: 'lr 0.1', state: a }, { label: 'lr 0.01', state: b }], ['total_loss'], 20);
 * ```
 */
export function overlayChart(sources: readonly ChartSource[], metrics: readonly string[], window = 20, options: PlotMetricsOptions = {}): MetricChartSpec {
  const budget = Math.max(4, POINTS_PER_PIXEL * (options.width ?? DEFAULT_WIDTH));
  return {
    ...(sources.length === 1 ? { title: sources[0]!.label } : {}),
    ...(options.width !== undefined ? { width: options.width } : {}),
    panels: metrics.map((name) => panel([name], window, options, sources.map((s) => seriesOf(s.state, name, s.label, window, budget, options)))),
  };
}

function panel(names: readonly string[], window: number, options: PlotMetricsOptions, series: MetricSeries[]): MetricPanel {
  return {
    title: names.join(', '),
    yTitle: names.join(', '),
    smoothedLabel: `median of ${window} iterations`,
    ...(options.logScale === true ? { yScale: 'log' as const } : {}),
    series,
  };
}

function seriesOf(state: StorageState, metric: string, label: string, window: number, budget: number, options: PlotMetricsOptions): MetricSeries {
  const { values, iters } = historyOf(state, metric).columns();
  let nonPositive = 0;
  if (options.logScale === true) for (const v of values) if (v <= 0 && v !== -Infinity) nonPositive++;
  return {
    ...(options.logScale === true ? { nonPositive } : {}),
    name: label,
    points: downsampleM4(iters, values, budget),
    // The median of the whole series, then downsampled: the median of downsampled points would be another curve.
    smoothed: values.length > 1 ? downsampleM4(iters, trailingMedian(iters, values, window), budget) : undefined,
    nonFinite: countNonFinite(values),
  };
}
