import { InvalidArgumentError } from '../errors/trainledger-error.js';
import { buildVegaLiteSpec, type PlotSize } from './build-vega-lite-spec.js';
import { ChartRenderError } from './errors.js';
import { fitSvgSize, svgSize, type PixelSize } from './fit-svg-size.js';
import type { MetricChartFormat, MetricChartSpec } from './metric-chart-spec.js';
import { svgToPng } from './svg-to-png.js';
import { loadChartLibraries, type ChartLibraries, type ChartModuleLoader, type VegaView } from './chart-libraries.js';

/** Options of `renderMetricChart`. */
export interface RenderMetricChartOptions {
  /** How vega, vega-lite, resvg and the font are found (default: this package's own resolution). */
  readonly loader?: ChartModuleLoader;
}
import { validateMetricChartSpec } from './validate-metric-chart-spec.js';

/** Width of a chart whose spec gives none, in pixels. */
export const DEFAULT_WIDTH = 640;
const DEFAULT_PANEL_HEIGHT = 260;
const TITLE_HEIGHT = 30;
/** Smallest plotting area still worth drawing; a smaller image size is refused. */
const MIN_PLOT_SIZE = 20;

/**
 * Draws training metrics as a chart of one or more vertically stacked panels with iteration on
 * the x axis: each series' raw points as a thin faded line, its smoothed points (if any) as a
 * solid line on top, and a legend of series names per panel. The chart is built as a Vega-Lite
 * spec, laid out and drawn to SVG by vega (headless), and for `'png'` rasterised by resvg with
 * a bundled font. The image is exactly `spec.width` × `spec.height` pixels.
 *
 * Points whose iteration or value is NaN or ±Infinity (a diverged loss, say) are left out of
 * the lines, which join the finite points around them; raw NaN/±Infinity values are marked at
 * their iteration on the plot's top (NaN, +Infinity) or bottom (-Infinity) edge and counted in a
 * "not finite" legend. They never make the call fail. Every point given is drawn: a long series
 * is best cut down first with `downsampleM4`.
 *
 * @throws InvalidArgumentError when the spec is malformed (no panels, a panel without series,
 *   repeated series names, a non-integer size, a size too small for the panels) or the format
 *   is neither `'svg'` nor `'png'`.
 * @throws ChartRenderError when vega or resvg fail on a valid spec.
 * @throws ChartLibraryMissingError when vega or vega-lite (or, for PNG, resvg or the font) is not
 *   installed: they are optional peers, loaded only here.
 * @example
 * ```ts
 * const png = await renderMetricChart({
 *   title: 'run 7',
 *   panels: [
 *     { title: 'loss', series: [{ name: 'loss', points: [[0, 2.3], [1, 1.9]], smoothed: [[0, 2.3], [1, 2.1]] }] },
 *     { title: 'accuracy', series: [{ name: 'val_acc', points: [[0, 0.4], [1, 0.55]] }] },
 *   ],
 * }, 'png');
 * await writeFile('metrics.png', png);
 * ```
 */
export async function renderMetricChart(spec: MetricChartSpec, format: MetricChartFormat, options: RenderMetricChartOptions = {}): Promise<Buffer> {
  validateMetricChartSpec(spec, format);
  const libs = await loadChartLibraries(format, options.loader);
  const target: PixelSize = {
    width: spec.width ?? DEFAULT_WIDTH,
    height: spec.height ?? DEFAULT_PANEL_HEIGHT * spec.panels.length + (spec.title !== undefined ? TITLE_HEIGHT : 0),
  };
  const svg = fitSvgSize(await renderSizedSvg(libs, spec, target), target);
  return libs.png === null ? Buffer.from(svg, 'utf8') : svgToPng(libs.png, svg);
}

/**
 * Vega cannot fit a concatenated chart to a given outer size, so the chart is drawn once with a
 * guessed plot size to measure what axes, titles and legends add, then again with plot sizes
 * that leave room for them.
 */
async function renderSizedSvg(libs: ChartLibraries, spec: MetricChartSpec, target: PixelSize): Promise<string> {
  const panels = spec.panels.length;
  const guess: PlotSize = {
    width: Math.max(MIN_PLOT_SIZE, target.width - 150),
    height: Math.max(MIN_PLOT_SIZE, Math.floor(target.height / panels) - 60),
  };
  const measured = svgSize(await renderSvg(libs, spec, guess));
  const extraWidth = measured.width - guess.width;
  const extraHeight = measured.height - guess.height * panels;
  const plot: PlotSize = {
    width: target.width - extraWidth,
    height: Math.floor((target.height - extraHeight) / panels),
  };
  if (plot.width < MIN_PLOT_SIZE) {
    throw new InvalidArgumentError(
      `spec.width ${target.width} leaves ${plot.width}px for the plot beside axes and legends; ` +
        `expected a width of at least ${Math.ceil(extraWidth + MIN_PLOT_SIZE)}`,
    );
  }
  if (plot.height < MIN_PLOT_SIZE) {
    throw new InvalidArgumentError(
      `spec.height ${target.height} leaves ${plot.height}px per plot for ${panels} panel(s); ` +
        `expected a height of at least ${Math.ceil(extraHeight + MIN_PLOT_SIZE * panels)}`,
    );
  }
  return renderSvg(libs, spec, plot);
}

async function renderSvg(libs: ChartLibraries, spec: MetricChartSpec, plot: PlotSize): Promise<string> {
  let view: VegaView | undefined;
  try {
    const { spec: vegaSpec } = libs.vegaLite.compile(buildVegaLiteSpec(spec, plot) as never);
    // 'none' renders nothing on screen: the scenegraph is only laid out for toSVG.
    view = new libs.vega.View(libs.vega.parse(vegaSpec), { renderer: 'none' });
    return await view.toSVG();
  } catch (cause) {
    throw new ChartRenderError(
      `vega could not draw the chart of ${spec.panels.length} panel(s) (${plot.width}x${plot.height}px plots)`,
      { cause },
    );
  } finally {
    view?.finalize();
  }
}
