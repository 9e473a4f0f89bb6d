import { renderAsync } from '@resvg/resvg-js';
import { ChartRenderError } from './errors.js';
import { chartFontOptions } from './chart-fonts.js';

/**
 * Rasterises an SVG document at its own width and height with resvg, using the fonts from
 * `chartFontOptions` so that text is drawn even on a machine without system fonts. Rendering
 * runs off the main thread, so a large chart does not stall the training loop.
 *
 * @example
 * ```ts
 * const png = await svgToPng('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
 * ```
 */
export async function svgToPng(svg: string): Promise<Buffer> {
  const font = chartFontOptions();
  try {
    const image = await renderAsync(svg, {
      font: { ...font, fontFiles: [...font.fontFiles] },
      fitTo: { mode: 'original' },
      logLevel: 'off',
    });
    return image.asPng();
  } catch (cause) {
    throw new ChartRenderError(`resvg could not turn the chart's SVG (${svg.length} characters) into a PNG`, { cause });
  }
}
