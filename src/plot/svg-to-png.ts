import { ChartRenderError } from './errors.js';
import { CHART_FONT_FAMILY } from './chart-fonts.js';
import type { ChartLibraries } from './chart-libraries.js';

/**
 * Rasterises an SVG document at its own width and height with resvg (loaded by
 * `loadChartLibraries`), using only the bundled font files so that text is drawn the same on
 * every machine, even one without system fonts. Rendering runs off the main thread, so a large
 * chart does not stall the training loop.
 *
 * @example
 * ```ts
 * const { png } = await loadChartLibraries('png');
 * const bytes = await svgToPng(png!, '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
 * ```
 */
export async function svgToPng(png: NonNullable<ChartLibraries['png']>, svg: string): Promise<Buffer> {
  try {
    const image = await png.resvg.renderAsync(svg, {
      font: { loadSystemFonts: false, fontFiles: [...png.fontFiles], defaultFontFamily: CHART_FONT_FAMILY, sansSerifFamily: CHART_FONT_FAMILY },
      fitTo: { mode: 'original' },
      logLevel: 'off',
    });
    return image.asPng();
  } catch (cause) {
    throw new ChartRenderError(`resvg could not turn the chart's SVG (${svg.length} characters) into a PNG`, { cause });
  }
}
