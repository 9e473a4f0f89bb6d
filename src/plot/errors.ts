import { TrainledgerError } from '../errors/trainledger-error.js';

/**
 * The charting libraries (vega, vega-lite, resvg) failed on a spec that passed validation;
 * the original failure is kept as `cause`.
 */
export class ChartRenderError extends TrainledgerError {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('ERR_CHART_RENDER', message, options);
  }
}

/**
 * Plotting was asked for but its optional peer packages are not installed (trainledger does not
 * make every install pay for them). The message names the missing ones and the install command.
 */
export class ChartLibraryMissingError extends TrainledgerError {
  readonly missing: readonly string[];

  constructor(missing: readonly string[], options?: { readonly cause?: unknown }) {
    super(
      'ERR_CHART_LIBRARY_MISSING',
      `plotting needs the optional packages vega, vega-lite, @resvg/resvg-js and @expo-google-fonts/inter, and ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not installed: npm install vega vega-lite @resvg/resvg-js @expo-google-fonts/inter`,
      options,
    );
    this.missing = missing;
  }
}
