import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from '../errors/index.js';
import { Mulberry32, assertSeed, mixSeed, permutation } from './seeded-random.js';

/** One mini-batch: `xs` is `[size, featureSize]`, `ys` the one-hot labels `[size, numClasses]`. */
export interface Batch {
  readonly xs: tf.Tensor2D;
  readonly ys: tf.Tensor2D;
}

/**
 * Where a {@link ShuffledBatches} stands: the next batch starts at `cursor` in the order of
 * `epoch`, and that order depends on (`seed`, `epoch`) alone.
 */
export interface BatchPosition {
  readonly epoch: number;
  readonly cursor: number;
  readonly seed: number;
}

/** Options of {@link ShuffledBatches}. */
export interface ShuffledBatchesOptions {
  /** `count × featureSize` values, one row per sample; read, never copied or changed. */
  readonly images: Float32Array;
  /** Class of each sample, integers in [0, numClasses). */
  readonly labels: ArrayLike<number>;
  readonly batchSize: number;
  readonly seed: number;
  /** Skip an epoch's final partial batch; default true. */
  readonly dropLast?: boolean;
  /** Default 10. */
  readonly numClasses?: number;
  /** Resume from a saved {@link ShuffledBatches.position}; its seed must equal `seed`. */
  readonly start?: BatchPosition;
}

/**
 * Endless, reproducible mini-batches: every epoch visits the samples in a permutation derived
 * from (seed, epoch) alone, and epochs roll over forever. Because of that a run can be resumed
 * from a saved {@link ShuffledBatches.position} and sees exactly the batches an uninterrupted
 * run would, at the cost of one permutation and without building the skipped batches.
 * Each batch is copied into fresh Float32Arrays and handed to one `tf.tensor2d` call per
 * tensor; the caller owns the yielded tensors and must dispose them.
 *
 * @example
 * ```ts
 * const { train } = loadMnist({ seed: 1 });
 * const batches = new ShuffledBatches({ images: train.images, labels: train.labels, batchSize: 64, seed: 1 });
 * for (const { xs, ys } of batches) {
 *   await model.trainOnBatch(xs, ys);
 *   tf.dispose([xs, ys]);
 *   if (done()) break;
 * }
 * const saved = batches.position(); // later: ShuffledBatches.fromPosition({ ... }, saved)
 * ```
 */
export class ShuffledBatches implements IterableIterator<Batch> {
  readonly batchSize: number;
  readonly seed: number;
  readonly dropLast: boolean;
  readonly numClasses: number;
  /** Values per sample (`images.length / labels.length`). */
  readonly featureSize: number;
  /** Number of samples. */
  readonly sampleCount: number;
  readonly #images: Float32Array;
  readonly #labels: ArrayLike<number>;
  #epoch = 0;
  #cursor = 0;
  #orderEpoch = -1;
  #order: Uint32Array = new Uint32Array(0);

  /**
   * Continues from a position saved by {@link ShuffledBatches.position}, taking the seed from it.
   *
   * @example
   * ```ts
   * const resumed = ShuffledBatches.fromPosition({ images, labels, batchSize: 64 }, savedPosition);
   * ```
   */
  static fromPosition(options: Omit<ShuffledBatchesOptions, 'seed' | 'start'>, position: BatchPosition): ShuffledBatches {
    return new ShuffledBatches({ ...options, seed: position.seed, start: position });
  }

  constructor(options: ShuffledBatchesOptions) {
    const { images, labels, batchSize, dropLast = true, numClasses = 10 } = options;
    this.seed = assertSeed(options.seed, 'ShuffledBatches seed');
    if (!(images instanceof Float32Array)) {
      throw new InvalidArgumentError(`ShuffledBatches images is ${typeof images}; expected a Float32Array`);
    }
    const count = labels?.length;
    if (!Number.isInteger(count) || count < 1) {
      throw new InvalidArgumentError(`ShuffledBatches labels has length ${String(count)}; expected at least one label`);
    }
    if (images.length === 0 || images.length % count !== 0) {
      throw new InvalidArgumentError(
        `ShuffledBatches images has ${images.length} values for ${count} labels; expected a positive multiple of the label count`,
      );
    }
    if (!Number.isInteger(numClasses) || numClasses < 1) {
      throw new InvalidArgumentError(`ShuffledBatches numClasses is ${String(numClasses)}; expected a positive integer`);
    }
    if (!Number.isInteger(batchSize) || batchSize < 1 || (dropLast && batchSize > count)) {
      throw new InvalidArgumentError(
        `ShuffledBatches batchSize is ${String(batchSize)}; expected an integer in [1, ${count}]${dropLast ? ' (dropLast needs at least one full batch)' : ''}`,
      );
    }
    // Checked once here so that building a batch never has to.
    for (let i = 0; i < count; i++) {
      const label = labels[i];
      if (label === undefined || !Number.isInteger(label) || label < 0 || label >= numClasses) {
        throw new InvalidArgumentError(`ShuffledBatches labels[${i}] is ${String(label)}; expected an integer in [0, ${numClasses})`);
      }
    }
    this.#images = images;
    this.#labels = labels;
    this.batchSize = batchSize;
    this.dropLast = dropLast;
    this.numClasses = numClasses;
    this.sampleCount = count;
    this.featureSize = images.length / count;
    if (options.start !== undefined) this.#seek(options.start);
  }

  /** Batches per epoch: `floor(n / batchSize)` with dropLast, otherwise `ceil(n / batchSize)`. */
  get batchesPerEpoch(): number {
    return this.dropLast ? Math.floor(this.sampleCount / this.batchSize) : Math.ceil(this.sampleCount / this.batchSize);
  }

  /**
   * Where the next batch starts; pass it to {@link ShuffledBatches.fromPosition} to resume.
   *
   * @example
   * ```ts
   * const { epoch, cursor, seed } = batches.position();
   * ```
   */
  position(): BatchPosition {
    return { epoch: this.#epoch, cursor: this.#cursor, seed: this.seed };
  }

  /**
   * The sample order of `epoch` (a permutation of 0..n-1), as batches visit it.
   *
   * @example
   * ```ts
   * const firstSampleOfEpoch3 = batches.epochOrder(3)[0];
   * ```
   */
  epochOrder(epoch: number): Uint32Array {
    assertEpoch(epoch);
    return permutation(this.sampleCount, new Mulberry32(mixSeed(this.seed, epoch)));
  }

  /** Builds the next batch; never done, as epochs roll over. */
  next(): IteratorResult<Batch, never> {
    if (this.#orderEpoch !== this.#epoch) {
      this.#order = this.epochOrder(this.#epoch);
      this.#orderEpoch = this.#epoch;
    }
    const start = this.#cursor;
    const size = Math.min(this.batchSize, this.sampleCount - start);
    const features = this.featureSize;
    const classes = this.numClasses;
    const xs = new Float32Array(size * features);
    const ys = new Float32Array(size * classes);
    for (let row = 0; row < size; row++) {
      // start + row < sampleCount = order's length, and every label was checked in the constructor.
      const sample = this.#order[start + row]!;
      xs.set(this.#images.subarray(sample * features, (sample + 1) * features), row * features);
      ys[row * classes + this.#labels[sample]!] = 1;
    }
    this.#advance(start + size);
    const xsTensor = tf.tensor2d(xs, [size, features]);
    try {
      return { value: { xs: xsTensor, ys: tf.tensor2d(ys, [size, classes]) }, done: false };
    } catch (error) {
      xsTensor.dispose();
      throw error;
    }
  }

  [Symbol.iterator](): this {
    return this;
  }

  /**
   * Moves to a saved position (trainers call this on resume), without generating the batches in
   * between.
   *
   * @example
   * ```ts
   * batches.seek(savedPosition);
   * ```
   */
  seek(position: BatchPosition): void {
    this.#seek(position);
  }

  #seek(position: BatchPosition): void {
    if (position.seed !== this.seed) {
      throw new InvalidArgumentError(`ShuffledBatches start.seed is ${String(position.seed)}; expected the iterator's seed ${this.seed}`);
    }
    assertEpoch(position.epoch);
    if (!Number.isInteger(position.cursor) || position.cursor < 0 || position.cursor >= this.sampleCount) {
      throw new InvalidArgumentError(`ShuffledBatches start.cursor is ${String(position.cursor)}; expected an integer in [0, ${this.sampleCount})`);
    }
    this.#epoch = position.epoch;
    this.#advance(position.cursor);
  }

  // Keeps the position canonical: once no further batch fits in the epoch, it already
  // points at the start of the next one, so equal histories give equal positions.
  #advance(cursor: number): void {
    const exhausted = cursor >= this.sampleCount || (this.dropLast && cursor + this.batchSize > this.sampleCount);
    if (exhausted) {
      this.#epoch += 1;
      this.#cursor = 0;
    } else {
      this.#cursor = cursor;
    }
  }
}

function assertEpoch(epoch: number): void {
  if (!Number.isSafeInteger(epoch) || epoch < 0) {
    throw new InvalidArgumentError(`epoch is ${String(epoch)}; expected a non-negative safe integer`);
  }
}
