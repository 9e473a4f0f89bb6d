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
