import * as tf from '@tensorflow/tfjs';
import { TrainerBase, type TrainerOptions } from './trainer-base.js';
import { DataExhaustedError, TrainerBusyError } from './errors.js';
import { ForwardBackward, disposeMap, type Forward } from './forward-backward.js';
import { LossMetrics } from './loss-metrics.js';
import { resumeOrLoad, type ResumeOrLoadOptions } from './resume-or-load.js';
import type { TrainerStateDict } from './state-dict.js';
import { InvalidArgumentError } from '../errors/trainledger-error.js';
import { allReduceGradients, broadcastVariables, trainableVariables } from './data-parallel.js';
import { isLayersModel, isTensor } from '../backends/tfjs-objects.js';
import type { CheckpointModel } from '../checkpoint/index.js';

/** A data source that can report and restore its position (e.g. ShuffledBatches). */
interface Seekable {
  position(): unknown;
  seek(position: unknown): void;
}

function isSeekable(v: unknown): v is Seekable {
  return typeof (v as Seekable | null)?.position === 'function' && typeof (v as Seekable).seek === 'function';
}

/** What a model returns for a batch: a scalar loss, or named scalar losses to be summed. */
export type Losses = tf.Scalar | Readonly<Record<string, tf.Scalar>>;

/** A loss function over a batch. */
export type LossFn<B> = (batch: B) => Losses;

/**
 * The model SimpleTrainer trains: a loss function, optionally with the variables to train (a
 * list, or a LayersModel whose trainable weights are used). Naming the variables is faster than
 * letting tfjs differentiate with respect to every trainable variable in the program.
 */
export type TrainableModel<B> = LossFn<B> | { readonly loss: LossFn<B>; readonly variables?: readonly tf.Variable[] | tf.LayersModel };

export interface SimpleTrainerOptions extends TrainerOptions {
  /** Metrics are read from the device and written every `gatherMetricPeriod` iterations. Default 1. */
  readonly gatherMetricPeriod?: number;
  /** Dispose the tensors of each batch after its step (the trainer owns them). Default true. */
  readonly disposeBatches?: boolean;
  /**
   * When the previous step's gradients (`trainer.grads`, readable until then by afterStep and
   * the next beforeStep hooks) are freed: `true`, before the next forward pass, so they never
   * take memory beside its activations; `false` (default, as detectron2), once the next backward
   * pass has produced new ones. tfjs computes gradients afresh each step, so nothing accumulates
   * either way (this is detectron2's `zero_grad_before_forward`).
   */
  readonly zeroGradBeforeForward?: boolean;
}

function disposeTensors(v: unknown): void {
  if (isTensor(v)) {
    v.dispose();
  } else if (Array.isArray(v)) {
    for (const x of v) disposeTensors(x);
  } else if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const x of Object.values(v)) disposeTensors(x);
  }
}

/**
 * detectron2's SimpleTrainer on TensorFlow.js: single loss, single optimizer, single data source.
 *
 * ```text
 * runStep():
 *   batch = next(data)                       (timed as data_time)
 *   losses = model(batch); total = Σ losses  (gradients by tf.variableGrads, in its own scopes)
 *   afterBackward hooks                      (trainer.grads may be replaced, e.g. clipped)
 *   every gatherMetricPeriod steps: one device read of all losses; if the total is not finite,
 *     throw NonFiniteLossError before the optimizer step; put total_loss (and each loss when
 *     there are several) and data_time
 *   optimizer.applyGradients(grads); dispose everything else the step made (and the batch)
 * ```
 *
 * `trainer.grads` keeps the step's gradients after it, for afterStep hooks and the next
 * beforeStep hooks (as `param.grad` in PyTorch); the next step frees them before its forward
 * pass (`zeroGradBeforeForward: true`) or after its backward pass (default), and `train()`
 * frees the last ones when it returns.
 *
 * With `gatherMetricPeriod > 1`, steps that are not read keep a device-side record of the first
 * non-finite total, reported at the next read: a NaN is never silent, and no extra device
 * sync is made.
 *
 * @example
 * ```ts
 * const trainer = new SimpleTrainer(
 *   { loss: (b) => tf.losses.softmaxCrossEntropy(b.ys, model.apply(b.xs, { training: true }) as tf.Tensor) as tf.Scalar, variables: model },
 *   batches, tf.train.adam(1e-3), { log: 'runs/x.sqlite' },
 * );
 * await trainer.train(0, 1000);
 * ```
 */
export class SimpleTrainer<B = unknown> extends TrainerBase {
  readonly lossFn: LossFn<B>;
  readonly optimizer: tf.Optimizer;
  readonly gatherMetricPeriod: number;
  readonly #data: Iterable<B> | AsyncIterable<B>;
  #iterator: Iterator<B> | AsyncIterator<B> | null = null;
  readonly #variables: tf.Variable[] | undefined;
  readonly #model: tf.LayersModel | null;
  readonly #disposeBatches: boolean;
  readonly #forwardBackward: ForwardBackward<B>;
  readonly #lossMetrics: LossMetrics;
  #badIter: tf.Scalar | null = null;
  readonly zeroGradBeforeForward: boolean;
  /**
   * The gradients of the latest backward pass, by variable name: afterBackward hooks may replace
   * them (clipping, accumulation) before the optimizer step; afterStep hooks and the next
   * step's beforeStep hooks can read them. Null before the first step, after `train()` returns,
   * and (with `zeroGradBeforeForward`) during the forward pass. Also `state.grads`.
   */
  get grads(): tf.NamedTensorMap | null {
    return this.loopState.grads;
  }

  set grads(grads: tf.NamedTensorMap | null) {
    this.loopState.grads = grads;
  }

  constructor(model: TrainableModel<B>, data: Iterable<B> | AsyncIterable<B>, optimizer: tf.Optimizer, options: SimpleTrainerOptions = {}) {
    super(options);
    const period = options.gatherMetricPeriod ?? 1;
    if (!Number.isInteger(period) || period < 1) {
      throw new InvalidArgumentError(`gatherMetricPeriod must be a positive integer, got ${String(period)}`);
    }
    this.gatherMetricPeriod = period;
    const zero = options.zeroGradBeforeForward ?? false;
    if (typeof zero !== 'boolean') throw new InvalidArgumentError(`zeroGradBeforeForward must be a boolean, got ${JSON.stringify(zero)}`);
    this.zeroGradBeforeForward = zero;
    if (typeof model === 'function') {
      this.lossFn = model;
      this.#variables = undefined;
      this.#model = null;
    } else {
      this.lossFn = model.loss;
      const vars = model.variables;
      this.#model = isLayersModel(vars) ? vars : null;
      this.#variables = vars === undefined ? undefined : isLayersModel(vars) ? vars.trainableWeights.map((w) => w.read() as tf.Variable) : [...vars];
    }
    if (data === null || (typeof (data as Iterable<B>)[Symbol.iterator] !== 'function' && typeof (data as AsyncIterable<B>)[Symbol.asyncIterator] !== 'function')) {
      throw new InvalidArgumentError(`SimpleTrainer data must be an iterable or async iterable of batches, got ${data === null ? 'null' : typeof data}`);
    }
    this.#data = data;
    this.optimizer = optimizer;
    this.#disposeBatches = options.disposeBatches ?? true;
    this.#forwardBackward = new ForwardBackward(this.lossFn, this.#variables, period);
    this.#lossMetrics = new LossMetrics(this.comm, period);
  }

  /** The LayersModel given as `variables`, if any (checkpointers save it). */
  get model(): tf.LayersModel | null {
    return this.#model;
  }

  /** The variables trained (explicit or, when not given, every trainable variable). */
  get variables(): readonly tf.Variable[] | undefined {
    return this.#variables;
  }

  protected override hostInfo(): { readonly tfjs: string; readonly backend: string } {
    return { tfjs: tf.version.tfjs, backend: tf.getBackend() };
  }

  #nextIterator(): Iterator<B> | AsyncIterator<B> {
    if (this.#iterator === null) {
      const d = this.#data as Partial<Iterable<B> & AsyncIterable<B>>;
      this.#iterator = d[Symbol.iterator] ? d[Symbol.iterator]!() : d[Symbol.asyncIterator]!();
    }
    return this.#iterator;
  }

  runStep(): void | Promise<void> {
    const start = performance.now();
    const r = this.#nextIterator().next();
    if (r instanceof Promise) return r.then((res) => this.#step(res, start));
    return this.#step(r, start);
  }

  #step(res: IteratorResult<B>, start: number): void | Promise<void> {
    if (res.done) throw new DataExhaustedError(this.iter);
    const batch = res.value;
    const dataTime = (performance.now() - start) / 1000;
    const read = (this.iter + 1) % this.gatherMetricPeriod === 0;
    if (this.zeroGradBeforeForward) this.#dropGrads();
    let fwd: Forward;
    try {
      fwd = this.#forwardBackward.run(batch, this.iter, read, this.#badIter);
    } catch (e) {
      if (this.#disposeBatches) disposeTensors(batch);
      throw e;
    }
    this.#badIter?.dispose();
    this.#badIter = fwd.badIter;
    this.#dropGrads();
    // Data-parallel: hooks and the optimizer see the mean over replicas, as under DDP.
    this.grads = this.comm.worldSize > 1 ? allReduceGradients(this.comm, fwd.grads, this.#variables?.map((v) => v.name)) : fwd.grads;
    const after = this.afterBackward(null);
    if (after) {
      return after.then(
        () => this.#finish(fwd, batch, read, dataTime),
        (e: unknown) => {
          this.#release(fwd, batch);
          throw e;
        },
      );
    }
    this.#finish(fwd, batch, read, dataTime);
  }

  /** Frees what the step made but the gradients, which stay readable until the next step. */
  #release(fwd: Forward, batch: B): void {
    fwd.stacked.dispose();
    // Gradients an afterBackward hook replaced are no longer reachable: free them now.
    if (fwd.grads !== this.grads) disposeMap(fwd.grads);
    if (this.#disposeBatches) disposeTensors(batch);
  }

  #dropGrads(): void {
    const grads = this.grads;
    if (grads === null) return;
    this.grads = null;
    disposeMap(grads);
  }

  /**
   * Trains as TrainerBase.train, then frees the last step's gradients (they were readable by
   * the afterStep and afterTrain hooks).
   *
   * @example
   * ```ts
   * await trainer.train(0, 1000);
   * ```
   */
  override async train(startIter: number, maxIter: number): Promise<void> {
    if (this.comm.worldSize > 1) broadcastVariables(this.comm, this.#variables ?? trainableVariables());
    try {
      await super.train(startIter, maxIter);
    } catch (e) {
      // A call refused because training is under way must not touch that run's gradients.
      if (!(e instanceof TrainerBusyError)) this.#dropGrads();
      throw e;
    }
    this.#dropGrads();
  }

  #finish(fwd: Forward, batch: B, read: boolean, dataTime: number): void {
    try {
      if (read) this.#lossMetrics.put(this.storage, this.iter, fwd.names, fwd.stacked.dataSync(), dataTime);
      this.optimizer.applyGradients(this.grads!);
    } finally {
      this.#release(fwd, batch);
    }
  }

  /**
   * The trainer state plus the optimizer's weights (tensors, read back from the device).
   *
   * @example
   * ```ts
   * const state = await trainer.stateDict();
   * ```
   */
  override async stateDict(): Promise<TrainerStateDict> {
    const base = await super.stateDict();
    const weights = await this.optimizer.getWeights();
    const optimizer = await Promise.all(weights.map(async (w) => ({ name: w.name, shape: w.tensor.shape, dtype: w.tensor.dtype, values: Array.from(await w.tensor.data()) })));
    // Where the data source stands, so a resumed run sees the batches an uninterrupted one would.
    const data = isSeekable(this.#data) ? this.#data.position() : undefined;
    return { ...base, optimizer, ...(data === undefined ? {} : { data }) };
  }

  /** What checkpointers save as "the model": the LayersModel, or the variables by name. */
  get checkpointModel(): CheckpointModel | undefined {
    if (this.#model) return this.#model;
    return this.#variables ? Object.fromEntries(this.#variables.map((v) => [v.name, v])) : undefined;
  }

  /**
   * Continues the run named `runName` (options) from its newest usable checkpoint in `dir`, and
   * returns the iteration to start at (see the function `resumeOrLoad` for what it restores and
   * when it starts a new run instead).
   *
   * @example
   * ```ts
   * const start = await trainer.resumeOrLoad('runs/ckpt');
   * await trainer.train(start, maxIter);
   * ```
   */
  resumeOrLoad(dir: string, options: ResumeOrLoadOptions = {}): Promise<number> {
    return resumeOrLoad(this, () => this.openLog(), dir, options);
  }

  /**
   * Restores iteration, hook states and (when present) the optimizer's weights.
   *
   * @example
   * ```ts
   * await trainer.loadStateDict(state);
   * ```
   */
  override async loadStateDict(state: TrainerStateDict): Promise<void> {
    await super.loadStateDict(state);
    if (state.data !== undefined && isSeekable(this.#data)) this.#data.seek(state.data);
    const saved = state.optimizer;
    if (saved !== undefined) {
      const named = saved.map((w) => ({ name: w.name, tensor: tf.tensor(w.values, w.shape, w.dtype) }));
      await this.optimizer.setWeights(named);
      // The optimizer copies them into its own variables.
      tf.dispose(named.map((w) => w.tensor));
    }
  }

  /** Disposes tensors the trainer keeps between steps. */
  dispose(): void {
    this.#dropGrads();
    this.#badIter?.dispose();
    this.#badIter = null;
  }
}
