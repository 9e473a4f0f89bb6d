export { renderMetricChart, type RenderMetricChartOptions } from './render-metric-chart.js';
export { loadChartLibraries, defaultChartLoader, type ChartModuleLoader } from './chart-libraries.js';
export type { MetricChartFormat, MetricChartSpec, MetricPanel, MetricPoint, MetricSeries, NonFiniteCounts } from './metric-chart-spec.js';
export { countNonFinite, downsampleM4 } from './downsample.js';
export { trailingMedian } from './trailing-median.js';
export { ChartLibraryMissingError, ChartRenderError } from './errors.js';
export { CHART_FONT_FAMILY, CHART_FONT_PACKAGE, chartFontOptions, type ChartFontOptions } from './chart-fonts.js';
export { metricChart, overlayChart, POINTS_PER_PIXEL, type ChartSource, type PlotMetricsOptions } from './metric-chart.js';
