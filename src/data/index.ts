export { DatasetError } from './errors.js';
export { MNIST_IMAGE_SIZE, MNIST_NUM_CLASSES, MNIST_TOTAL, loadMnist } from './mnist.js';
export type { LoadMnistOptions, MnistSplit, MnistSubset } from './mnist.js';
export { Mulberry32, mixSeed, permutation, shuffleInPlace } from './seeded-random.js';
export { ShuffledBatches } from './shuffled-batches.js';
export type { Batch, BatchPosition, ShuffledBatchesOptions } from './shuffled-batches.js';
