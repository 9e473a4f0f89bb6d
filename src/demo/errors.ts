import { TrainledgerError } from '../errors/trainledger-error.js';

/**
 * The demo would have to delete something it did not make.
 *
 * @example
 * ```ts
 * try { clearDemoOutputs(logPath, demoDir); } catch (e) {
 *   if (e instanceof DemoOutputNotOursError) console.error(e.message);
 * }
 * ```
 */
export class DemoOutputNotOursError extends TrainledgerError {
  constructor(path: string, why: string) {
    super('ERR_DEMO_OUTPUT_NOT_OURS', `the demo will not delete ${path}: ${why}; choose another --out or remove it yourself`);
  }
}
