import { ChartRenderError } from './errors.js';

/** Width and height in pixels. */
export interface PixelSize {
  readonly width: number;
  readonly height: number;
}

const ROOT_TAG = /<svg\b[^>]*>/;

/**
 * Reads the `width`/`height` attributes of an SVG document's root element.
 *
 * @example
 * ```ts
 * svgSize('<svg width="640" height="300">…</svg>'); // { width: 640, height: 300 }
 * ```
 */
export function svgSize(svg: string): PixelSize {
  const root = ROOT_TAG.exec(svg)?.[0] ?? '';
  const width = Number(/\swidth="([\d.]+)"/.exec(root)?.[1]);
  const height = Number(/\sheight="([\d.]+)"/.exec(root)?.[1]);
  if (!(width > 0) || !(height > 0)) {
    throw new ChartRenderError(`the SVG root ${JSON.stringify(root.slice(0, 120))} has no positive width and height`);
  }
  return { width, height };
}

/**
 * Sets the outer size of an SVG document to exactly `size`, stretching its content (via the
 * existing `viewBox`) over it. Vega sizes a concatenated chart from its content, so its result
 * can be a few pixels off the size asked for; the stretch makes the output match exactly.
 *
 * @example
 * ```ts
 * fitSvgSize('<svg width="643" height="298" viewBox="0 0 643 298">…</svg>', { width: 640, height: 300 });
 * ```
 */
export function fitSvgSize(svg: string, size: PixelSize): string {
  const natural = svgSize(svg);
  return svg.replace(ROOT_TAG, (root) => {
    let tag = root
      .replace(/\swidth="[\d.]+"/, ` width="${size.width}"`)
      .replace(/\sheight="[\d.]+"/, ` height="${size.height}"`);
    if (!/\sviewBox="/.test(tag)) tag = tag.replace(/^<svg\b/, `<svg viewBox="0 0 ${natural.width} ${natural.height}"`);
    return tag.replace(/^<svg\b/, '<svg preserveAspectRatio="none"');
  });
}
