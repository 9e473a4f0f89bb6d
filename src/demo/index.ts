/**
 * `trainledger/demo`: the MNIST demo (`npm run demo`) as a library, with its model and data.
 * An entry of its own so that importing the trainer never loads the demo or the MNIST digits.
 *
 * @example
 * ```ts
 * import { runMnistDemo } from 'trainledger/demo';
 * const { testAccuracy, logPath } = await runMnistDemo({ steps: 300, out: 'runs/demo' });
 * ```
 */
export { runMnistDemo, type MnistDemoOptions, type MnistDemoResult } from './run-mnist-demo.js';
export { buildDemoModel, evaluateAccuracy, type DemoModelKind } from './mnist-model.js';
export { DemoOutputNotOursError } from './errors.js';
export { MnistNotInstalledError } from '../data/errors.js';
export { MNIST_IMAGE_SIZE, MNIST_NUM_CLASSES, MNIST_TOTAL, loadMnist, type LoadMnistOptions, type MnistSplit, type MnistSubset } from '../data/mnist.js';
