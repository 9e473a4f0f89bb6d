import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { ChartLibraryMissingError } from './errors.js';
import { CHART_FONT_PACKAGE, FONT_FILES } from './chart-fonts.js';

/** How the plot finds its optional packages: `import()` and `require.resolve` by default; tests give their own. */
export interface ChartModuleLoader {
  import(specifier: string): Promise<unknown>;
  /** The path of a file inside a package (the font files). */
  resolve(specifier: string): string;
}

/** The loader plotting uses unless given another: this module's own ESM resolution (loader hooks apply to both). */
export const defaultChartLoader: ChartModuleLoader = {
  import: (specifier) => import(specifier),
  // import.meta.resolve is unflagged from Node 20.6; before, require's resolution finds the same file.
  resolve: (specifier) =>
    typeof import.meta.resolve === 'function' ? fileURLToPath(import.meta.resolve(specifier)) : createRequire(import.meta.url).resolve(specifier),
};

// The parts of the packages used, typed here: our .d.ts must not name packages a user may not have.
/** A vega View, headless. */
export interface VegaView {
  toSVG(): Promise<string>;
  finalize(): void;
}
export interface VegaModule {
  readonly View: new (runtime: unknown, options: { readonly renderer: 'none' }) => VegaView;
  parse(spec: unknown): unknown;
}
export interface VegaLiteModule {
  compile(spec: never): { readonly spec: unknown };
}
export interface ResvgModule {
  renderAsync(svg: string, options: unknown): Promise<{ asPng(): Buffer }>;
}

/** What drawing a chart uses: vega and vega-lite always, resvg and the bundled font for PNG. */
export interface ChartLibraries {
  readonly vega: VegaModule;
  readonly vegaLite: VegaLiteModule;
  readonly png: { readonly resvg: ResvgModule; readonly fontFiles: readonly string[] } | null;
}

function isNotFound(e: unknown): boolean {
  const code = (e as { readonly code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/**
 * Loads the charting packages at render time (never when trainledger or its CLI is loaded: an
 * install without them works, and commands other than plot do not pay their load time). Throws
 * ChartLibraryMissingError naming every missing one and the `npm install` line.
 *
 * @example
 * ```ts
 * const { vega, vegaLite } = await loadChartLibraries('svg');
 * ```
 */
export async function loadChartLibraries(format: 'svg' | 'png', loader: ChartModuleLoader = defaultChartLoader): Promise<ChartLibraries> {
  const missing: string[] = [];
  let cause: unknown;
  const load = async <T>(name: string, get: () => Promise<T> | T): Promise<T | null> => {
    try {
      return await get();
    } catch (e) {
      if (!isNotFound(e)) throw e;
      missing.push(name);
      cause ??= e;
      return null;
    }
  };
  const vega = await load('vega', () => loader.import('vega') as Promise<VegaModule>);
  const vegaLite = await load('vega-lite', () => loader.import('vega-lite') as Promise<VegaLiteModule>);
  let png: ChartLibraries['png'] = null;
  if (format === 'png') {
    const resvg = await load('@resvg/resvg-js', () => loader.import('@resvg/resvg-js') as Promise<ResvgModule>);
    const fontFiles = await load(CHART_FONT_PACKAGE, () => FONT_FILES.map((file) => loader.resolve(`${CHART_FONT_PACKAGE}/${file}`)));
    if (resvg !== null && fontFiles !== null) png = { resvg, fontFiles };
  }
  if (missing.length > 0 || vega === null || vegaLite === null) throw new ChartLibraryMissingError(missing, { cause });
  return { vega, vegaLite, png };
}
