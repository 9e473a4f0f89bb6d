import type { TopLevelSpec } from 'vega-lite';
import { CHART_FONT_FAMILY } from './chart-fonts.js';
import { countNonFinite } from './downsample.js';
import type { MetricChartSpec, MetricPanel, MetricPoint, NonFiniteCounts } from './metric-chart-spec.js';

/** Size of each panel's plotting area, in pixels (axes, titles and legends come on top). */
export interface PlotSize {
  readonly width: number;
  readonly height: number;
}

/** One entry of a top-level `vconcat`, as vega-lite types it. */
type ConcatEntry = Extract<TopLevelSpec, { readonly vconcat: unknown }>['vconcat'][number];

/** One entry of a panel's `layer`. */
type LayerEntry = Extract<ConcatEntry, { readonly layer: unknown }>['layer'][number];

/**
 * One drawn sample; `style` decides whether it belongs to a faded raw line, a solid line or the
 * marks of values no line can show, and `lone` marks the only finite point of its line, which a
 * line mark alone would not show. Marks carry their legend entry (`kind`) and plot edge.
 */
interface ChartRow {
  readonly series: string;
  readonly iteration: number;
  readonly value: number;
  readonly style: 'faded' | 'solid' | 'mark';
  readonly lone: boolean;
  readonly kind?: string;
  readonly edge?: 'top' | 'bottom';
}

/** Where and how a raw NaN or ±Infinity is marked: +Infinity and NaN above the plot, -Infinity below. */
const NON_FINITE_MARKS = [
  { key: 'nan', label: 'NaN', shape: 'cross', edge: 'top' },
  { key: 'posInf', label: '+Inf', shape: 'triangle-up', edge: 'top' },
  { key: 'negInf', label: '-Inf', shape: 'triangle-down', edge: 'bottom' },
] as const;

/** Vega-Lite's own default spacing of x-axis ticks, in pixels. */
const PIXELS_PER_TICK = 40;

/**
 * Translates a metric chart spec into a Vega-Lite spec: one panel per `vconcat` entry, each a
 * layer of faded raw lines under solid smoothed lines, coloured by series with its own legend.
 * Points whose iteration or value is NaN or ±Infinity are left out of the lines (a line joins its
 * finite neighbours), since one of them would otherwise stretch or break the axis scale. Raw
 * NaN/±Infinity values at a finite iteration are marked instead, in the series' colour at their
 * iteration: ✕ NaN and ▲ +Infinity on the top edge of the plot, ▼ -Infinity on the bottom edge,
 * with a "not finite" legend that counts them (`series.nonFinite`, or counted from the points).
 *
 * @example
 * ```ts
 * const vl = buildVegaLiteSpec({ panels: [{ title: 'loss', series: [{ name: 'loss', points: [[0, 2], [1, 1]] }] }] },
 *   { width: 500, height: 200 });
 * ```
 */
export function buildVegaLiteSpec(spec: MetricChartSpec, plot: PlotSize): TopLevelSpec {
  const panels = spec.panels.map((panel) => ({ panel, rows: panelRows(panel) }));
  const xTickCount = iterationTickCount(panels.flatMap((p) => p.rows), plot.width);
  return {
    ...(spec.title !== undefined ? { title: spec.title } : {}),
    background: 'white',
    padding: 8,
    vconcat: panels.map(({ panel, rows }) => buildPanel(panel, rows, plot, xTickCount)),
    // Panels show different metrics, so each keeps its own colours and legend, but they share
    // the iteration axis so that one x position is one moment of training in every panel.
    // Each panel lists its own NaN/±Infinity counts and raw/smoothed legend beside its series.
    resolve: {
      scale: { color: 'independent', shape: 'independent', opacity: 'independent', strokeWidth: 'independent', x: 'shared' },
      legend: { color: 'independent', shape: 'independent', opacity: 'independent', strokeWidth: 'independent' },
    },
    config: { font: `${CHART_FONT_FAMILY}, sans-serif`, title: { anchor: 'start' } },
  };
}

function buildPanel(
  panel: MetricPanel,
  rows: readonly ChartRow[],
  plot: PlotSize,
  xTickCount: number,
): ConcatEntry {
  // Faded means raw and solid smoothed only when every series has both lines; then a legend says so.
  const explained = panel.series.every((s) => s.smoothed !== undefined && s.smoothed.length > 0);
  const lineLegend = explained ? { encoding: lineStyleEncoding(panel.smoothedLabel ?? 'smoothed') } : {};
  const counts = panelNonFinite(panel);
  const marked = NON_FINITE_MARKS.filter((m) => counts[m.key] > 0);
  const edgeLayers = (['top', 'bottom'] as const)
    .filter((edge) => marked.some((m) => m.edge === edge))
    .map(
      (edge): LayerEntry => ({
        transform: [{ filter: { field: 'edge', equal: edge } }],
        mark: { type: 'point', filled: true, size: 40, opacity: 1, clip: false },
        encoding: {
          y: { value: edge === 'top' ? 0 : plot.height },
          shape: {
            field: 'kind',
            type: 'nominal',
            scale: { domain: marked.map((m) => markLabel(m, counts)), range: marked.map((m) => m.shape) },
            legend: { title: 'not finite' },
          },
        },
      }),
    );
  return {
    title: panel.title,
    width: plot.width,
    height: plot.height,
    data: { values: [...rows] },
    encoding: {
      x: { field: 'iteration', type: 'quantitative', title: 'iteration', axis: { tickCount: xTickCount } },
      y: { field: 'value', type: 'quantitative', title: yTitle(panel), scale: panel.yScale === 'log' ? { type: 'log' } : { zero: false } },
      color: {
        field: 'series',
        type: 'nominal',
        // An explicit domain keeps colours in spec order and lists series even when all their values were dropped.
        scale: { domain: panel.series.map((s) => s.name) },
        legend: { title: null, symbolType: 'stroke', symbolStrokeWidth: 2, symbolOpacity: 1 },
      },
    },
    layer: [
      {
        transform: [{ filter: { field: 'style', equal: 'faded' } }],
        mark: { type: 'line', strokeWidth: 1, opacity: 0.35 },
        ...lineLegend,
      },
      {
        transform: [{ filter: { field: 'style', equal: 'solid' } }],
        mark: { type: 'line', strokeWidth: 2 },
        ...lineLegend,
      },
      {
        transform: [{ filter: { field: 'lone', equal: true } }],
        mark: { type: 'point', filled: true, size: 30, opacity: 1 },
      },
      ...edgeLayers,
    ],
  };
}

/** Opacity and width by line style, with a legend naming the two styles "raw" and `smoothedLabel`. */
function lineStyleEncoding(smoothedLabel: string) {
  const legend = { title: null, symbolType: 'stroke', symbolStrokeColor: 'gray', labelLimit: 400, labelExpr: `datum.value === 'faded' ? 'raw' : ${JSON.stringify(smoothedLabel)}` } as const;
  return {
    opacity: { field: 'style', type: 'ordinal', scale: { domain: ['faded', 'solid'], range: [0.35, 1] }, legend },
    strokeWidth: { field: 'style', type: 'ordinal', scale: { domain: ['faded', 'solid'], range: [1, 2] }, legend },
  } as const;
}

function markLabel(mark: (typeof NON_FINITE_MARKS)[number], counts: NonFiniteCounts): string {
  return `${counts[mark.key]} ${mark.label}`;
}

function panelNonFinite(panel: MetricPanel): NonFiniteCounts {
  let nan = 0;
  let posInf = 0;
  let negInf = 0;
  for (const series of panel.series) {
    const c = series.nonFinite ?? countNonFinite(series.points.filter(([iteration]) => Number.isFinite(iteration)).map(([, value]) => value));
    nan += c.nan;
    posInf += c.posInf;
    negInf += c.negInf;
  }
  return { nan, posInf, negInf };
}

/** The y axis title; on a log scale it says so, and how many raw values ≤ 0 it cannot show. */
function yTitle(panel: MetricPanel): string | null {
  if (panel.yScale !== 'log') return panel.yTitle ?? null;
  let hidden = 0;
  for (const s of panel.series) hidden += s.nonPositive ?? s.points.filter(([iteration, value]) => Number.isFinite(iteration) && value <= 0 && value !== -Infinity).length;
  const note = hidden > 0 ? `log scale; ${hidden} value${hidden === 1 ? '' : 's'} ≤ 0 not drawn` : 'log scale';
  return panel.yTitle !== undefined ? `${panel.yTitle} (${note})` : note;
}

function panelRows(panel: MetricPanel): ChartRow[] {
  const rows: ChartRow[] = [];
  const counts = panelNonFinite(panel);
  // A log axis has no place for values ≤ 0 (the title counts them).
  const drawable = panel.yScale === 'log' ? (v: number) => v > 0 : () => true;
  for (const series of panel.series) {
    const hasSmoothed = series.smoothed !== undefined && series.smoothed.length > 0;
    // Without a smoothed line the raw line is the only one, so it is drawn solid.
    pushFinite(rows, series.name, series.points, hasSmoothed ? 'faded' : 'solid', drawable);
    if (hasSmoothed) pushFinite(rows, series.name, series.smoothed ?? [], 'solid', drawable);
    // A smoothed NaN only echoes raw ones, so only raw values are marked.
    for (const [iteration, value] of series.points) {
      if (!Number.isFinite(iteration) || Number.isFinite(value)) continue;
      const mark = NON_FINITE_MARKS[Number.isNaN(value) ? 0 : value > 0 ? 1 : 2];
      rows.push({ series: series.name, iteration, value: 0, style: 'mark', lone: false, kind: markLabel(mark, counts), edge: mark.edge });
    }
  }
  return rows;
}

function pushFinite(
  rows: ChartRow[],
  series: string,
  points: ReadonlyArray<MetricPoint>,
  style: ChartRow['style'],
  drawable: (value: number) => boolean,
): void {
  const finite = points.filter(([iteration, value]) => Number.isFinite(iteration) && Number.isFinite(value) && drawable(value));
  const lone = finite.length === 1;
  for (const [iteration, value] of finite) rows.push({ series, iteration, value, style, lone });
}

/**
 * Iterations are whole numbers, so the axis should never tick at 0.5. Vega picks a tick step of
 * at least 1 when asked for no more ticks than the iteration span holds.
 */
function iterationTickCount(rows: readonly ChartRow[], plotWidth: number): number {
  let min = Infinity;
  let max = -Infinity;
  for (const row of rows) {
    if (row.iteration < min) min = row.iteration;
    if (row.iteration > max) max = row.iteration;
  }
  const span = max > min ? Math.floor(max - min) : 1;
  return Math.max(1, Math.min(Math.ceil(plotWidth / PIXELS_PER_TICK), span));
}
