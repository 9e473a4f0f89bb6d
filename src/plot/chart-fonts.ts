import { createRequire } from 'node:module';

/**
 * npm package that ships the TrueType files the PNG renderer uses. resvg draws no text at all
 * without a font, and a fresh machine may have no system fonts, so the font comes with `npm ci`.
 */
export const CHART_FONT_PACKAGE = '@expo-google-fonts/inter';

/** Family name written into the SVG; matches the bundled files so resvg picks them. */
export const CHART_FONT_FAMILY = 'Inter';

/** The font files inside CHART_FONT_PACKAGE. */
export const FONT_FILES = ['400Regular/Inter_400Regular.ttf', '700Bold/Inter_700Bold.ttf'] as const;

/** Font settings handed to resvg (the `font` field of its render options). */
export interface ChartFontOptions {
  readonly loadSystemFonts: boolean;
  readonly fontFiles: readonly string[];
  readonly defaultFontFamily?: string;
  readonly sansSerifFamily?: string;
}

let cached: ChartFontOptions | undefined;

/**
 * Picks the fonts for PNG output: the bundled Inter files when {@link CHART_FONT_PACKAGE} is
 * installed (system fonts are then skipped so output does not vary by machine, and loading is
 * faster); otherwise whatever system fonts exist, which may be none.
 *
 * @example
 * ```ts
 * const { fontFiles } = chartFontOptions(); // ['/…/Inter_400Regular.ttf', '/…/Inter_700Bold.ttf']
 * ```
 */
export function chartFontOptions(): ChartFontOptions {
  cached ??= resolveChartFonts();
  return cached;
}

function resolveChartFonts(): ChartFontOptions {
  const requireHere = createRequire(import.meta.url);
  try {
    const fontFiles = FONT_FILES.map((file) => requireHere.resolve(`${CHART_FONT_PACKAGE}/${file}`));
    return {
      loadSystemFonts: false,
      fontFiles,
      defaultFontFamily: CHART_FONT_FAMILY,
      sansSerifFamily: CHART_FONT_FAMILY,
    };
  } catch {
    return { loadSystemFonts: true, fontFiles: [] };
  }
}
