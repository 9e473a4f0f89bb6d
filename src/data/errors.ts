import { TrainledgerError } from '../errors/index.js';

/**
 * A data source on disk or in a package does not have the layout the loader expects
 * (e.g. an `mnist` package whose digit arrays are not 784 values per sample).
 *
 * @example
 * ```ts
 * try { loadMnist(); } catch (e) {
 *   if (e instanceof DatasetError) console.error(e.message);
 * }
 * ```
 */
export class DatasetError extends TrainledgerError {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('ERR_DATASET', message, options);
  }
}
