import * as tf from '@tensorflow/tfjs';
import { TrainerBase, type TrainerOptions, type TrainerState } from './trainer-base.js';
import { DataExhaustedError, NoValidCheckpointError, NonFiniteLossError, TrainerBusyError, type TriedCheckpoint } from './errors.js';
import { InvalidArgumentError } from '../errors/trainledger-error.js';
import { CheckpointStore } from '../checkpoint/checkpoint-store.js';
import { resumeCandidates } from './resume.js';
import { CheckpointCorruptError } from '../checkpoint/errors.js';
import type { CheckpointModel } from '../checkpoint/index.js';

/** A data source that can report and restore its position (e.g. ShuffledBatches). */
interface Seekable {
  position(): unknown;
  seek(position: never): void;
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

export interface ResumeOrLoadOptions {
  /** `false`: do not resume; return `startIter`. Default true. */
  readonly resume?: boolean;
  /** Where a new run starts when there is nothing to resume. Default 0. */
  readonly startIter?: number;
  /**
   * When the log records checkpoints of the run but none can be loaded (all corrupt, missing,
   * or overwritten): `'throw'` (default) a NoValidCheckpointError; `'start-fresh'`, start a new
   * run at `startIter` (its checkpoints will replace the old ones of the same names).
   */
  readonly ifNoValidCheckpoint?: 'throw' | 'start-fresh';
}

function isLayersModel(v: unknown): v is tf.LayersModel {
  return v instanceof tf.LayersModel;
}

function disposeTensors(v: unknown): void {
  if (v instanceof tf.Tensor) {
    v.dispose();
  } else if (Array.isArray(v)) {
    for (const x of v) disposeTensors(x);
  } else if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const x of Object.values(v)) disposeTensors(x);
  }
}

/**
 * Disposes the tensors of a gradient map. tf.dispose would walk it as any container (a Set, a
 * list and a type test per entry), on every step.
 */
function disposeMap(map: tf.NamedTensorMap): void {
  for (const k in map) map[k]?.dispose();
}

/** What a loss function returned, for an error message. */
function describeLoss(t: unknown): string {
  if (t instanceof tf.Tensor) return `a tensor of shape [${t.shape.join(', ')}]`;
  return t === null ? 'null' : Array.isArray(t) ? 'an array' : typeof t === 'object' ? 'an empty object' : typeof t;
}

/** The loss names of a model that returns a single loss (shared: no array per step). */
const TOTAL_ONLY: string[] = ['total_loss'];

function lossRecord(names: readonly string[], values: ArrayLike<number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < names.length; i++) out[names[i]!] = values[i]!;
  return out;
}

interface Forward {
  /**
   * What metrics are read from, in one device read: the total alone for a single loss (no extra
   * op), else the per-loss values then the total, stacked.
   */
  readonly stacked: tf.Tensor;
  readonly grads: tf.NamedTensorMap;
  /** First iteration whose total was not finite among unread steps, or -1 (only with period > 1). */
  readonly badIter: tf.Scalar | null;
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
  #lossNames: string[] | null = null;
  #badIter: tf.Scalar | null = null;
  /** A malformed loss seen in the current step's forward pass (see #scalarLoss). */
  #invalid: InvalidArgumentError | null = null;
  readonly zeroGradBeforeForward: boolean;
  /**
   * The gradients of the latest backward pass, by variable name: afterBackward hooks may replace
   * them (clipping, accumulation) before the optimizer step; afterStep hooks and the next
   * step's beforeStep hooks can read them. Null before the first step, after `train()` returns,
   * and (with `zeroGradBeforeForward`) during the forward pass.
   */
  grads: tf.NamedTensorMap | null = null;

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

  /**
   * `t` if it is a scalar tensor. Else the error is kept, to be thrown once variableGrads has
   * returned, and a stand-in scalar goes on: a throw inside the loss function would leak what
   * tfjs saved for the backward pass (it frees that only at the end of a completed one).
   */
  #scalarLoss(t: unknown, what: string): tf.Scalar {
    if (t instanceof tf.Tensor && t.rank === 0) return t as tf.Scalar;
    this.#invalid ??= new InvalidArgumentError(`the model's ${what} must be a scalar tensor, got ${describeLoss(t)} at iteration ${this.iter}`);
    return t instanceof tf.Tensor ? (t.sum() as tf.Scalar) : tf.scalar(0);
  }

  runStep(): void | Promise<void> {
    const start = performance.now();
    const r = this.#nextIterator().next();
    if (r instanceof Promise) return r.then((res) => this.#step(res, start));
    return this.#step(r, start);
  }

  #forward(batch: B, readThisStep: boolean): Forward {
    // No tf.tidy around this: variableGrads runs the loss inside scopes of its own (forward, then
    // backward), so all it leaves are the value and the gradients, which #release disposes. A
    // scope costs bookkeeping on every step (~1 µs here, measured: tools/bench/loop.ts).
    let names: string[] = TOTAL_ONLY;
    let stacked: tf.Tensor1D | null = null;
    let returned: tf.Tensor | null = null;
    this.#invalid = null;
    let vg: { value: tf.Scalar; grads: tf.NamedTensorMap };
    try {
      vg = tf.variableGrads(() => {
        const out = this.lossFn(batch);
        if (out instanceof tf.Tensor) return (returned = this.#scalarLoss(out, 'loss'));
        const record: Readonly<Record<string, unknown>> = out !== null && typeof out === 'object' ? out : {};
        names = Object.keys(record);
        if (names.length === 0) {
          this.#invalid = new InvalidArgumentError(`the model must return a scalar loss tensor or a non-empty record of them, got ${describeLoss(out)} at iteration ${this.iter}`);
          return (returned = tf.scalar(0));
        }
        const parts = names.map((n) => this.#scalarLoss(record[n], `loss ${JSON.stringify(n)}`));
        const total = (parts.length === 1 ? parts[0]! : tf.addN(parts)) as tf.Scalar;
        // Intermediates of the loss function die with the gradient scope: keep the one tensor
        // metrics are read from.
        stacked = tf.keep(tf.stack([...parts, total]) as tf.Tensor1D);
        return (returned = total);
      }, this.#variables);
    } catch (e) {
      // What the loss returned outlives the gradient scopes, and so does what we kept: when
      // variableGrads throws after the loss (no gradient path), nothing else frees them.
      (returned as tf.Tensor | null)?.dispose();
      (stacked as tf.Tensor | null)?.dispose();
      throw this.#invalid ?? e;
    }
    if (this.#invalid !== null) {
      vg.value.dispose();
      disposeMap(vg.grads);
      (stacked as tf.Tensor | null)?.dispose();
      throw this.#invalid;
    }
    const { value, grads } = vg;
    this.#lossNames = names;
    // (Assigned in the closure: control-flow analysis cannot see that.)
    const kept = stacked as tf.Tensor1D | null;
    // A single loss is read straight from the total: every extra op costs engine bookkeeping.
    const read: tf.Tensor = kept ?? value;
    if (this.gatherMetricPeriod === 1) {
      if (kept !== null) value.dispose();
      return { stacked: read, grads, badIter: null };
    }
    try {
      // Tensors made here die with this scope, but for what it returns.
      return tf.tidy(() => {
        // Remember the first non-finite total among steps we do not read, without a device sync.
        const prev = this.#badIter ?? tf.scalar(-1, 'int32');
        const bad = tf.logicalAnd(tf.less(prev, 0), tf.logicalNot(tf.isFinite(value)));
        const badIter = tf.where(bad, tf.scalar(this.iter, 'int32'), prev) as tf.Scalar;
        if (!readThisStep) return { stacked: read, grads, badIter };
        const s = tf.concat([read.reshape([-1]), tf.cast(badIter, 'float32').reshape([1])]);
        read.dispose();
        return { stacked: s, grads, badIter };
      }) as unknown as Forward;
    } catch (e) {
      read.dispose();
      tf.dispose(grads);
      throw e;
    } finally {
      if (kept !== null) value.dispose();
    }
  }

  #step(res: IteratorResult<B>, start: number): void | Promise<void> {
    if (res.done) throw new DataExhaustedError(this.iter);
    const batch = res.value;
    const dataTime = (performance.now() - start) / 1000;
    const read = (this.iter + 1) % this.gatherMetricPeriod === 0;
    if (this.zeroGradBeforeForward) this.#dropGrads();
    let fwd: Forward;
    try {
      fwd = this.#forward(batch, read);
    } catch (e) {
      if (this.#disposeBatches) disposeTensors(batch);
      throw e;
    }
    this.#badIter?.dispose();
    this.#badIter = fwd.badIter;
    this.#dropGrads();
    this.grads = fwd.grads;
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
      if (read) this.#writeMetrics(fwd.stacked.dataSync(), dataTime);
      this.optimizer.applyGradients(this.grads!);
    } finally {
      this.#release(fwd, batch);
    }
  }

  #writeMetrics(values: ArrayLike<number>, dataTime: number): void {
    const names = this.#lossNames!;
    const single = names.length === 1;
    const total = values[single ? 0 : names.length]!;
    if (this.gatherMetricPeriod > 1) {
      const firstBad = values[values.length - 1]!;
      if (firstBad >= 0 && firstBad !== this.iter) throw new NonFiniteLossError(firstBad, { total_loss: NaN });
    }
    // Checked before the optimizer step: a NaN never reaches the weights from this step.
    if (!Number.isFinite(total)) throw new NonFiniteLossError(this.iter, single ? { total_loss: total } : lossRecord(names, values));
    const storage = this.storage;
    if (this.comm.worldSize === 1) {
      // One process: nothing to gather, and no object per step (this runs every step).
      storage.putScalar('data_time', dataTime);
      if (single) {
        storage.putScalar('total_loss', total);
      } else {
        // The host's float64 sum of the losses, as in the gathered case below.
        let sum = 0;
        for (let i = 0; i < names.length; i++) sum += values[i]!;
        storage.putScalar('total_loss', sum);
        for (let i = 0; i < names.length; i++) storage.putScalar(names[i]!, values[i]!);
      }
      return;
    }
    const all = this.comm.gather<Record<string, number>>({ ...lossRecord(names, values), data_time: dataTime });
    if (!this.comm.isMainProcess()) return;
    // data_time: the slowest worker is the real latency; losses: mean over workers.
    let maxData = 0;
    for (const m of all) maxData = Math.max(maxData, m.data_time!);
    storage.putScalar('data_time', maxData);
    let sum = 0;
    const means: Record<string, number> = {};
    for (const n of names) {
      let s = 0;
      for (const m of all) s += m[n]!;
      means[n] = s / all.length;
      sum += means[n]!;
    }
    storage.putScalar('total_loss', sum);
    if (!single) storage.putScalars(means);
  }

  /**
   * The trainer state plus the optimizer's weights (tensors, read back from the device).
   *
   * @example
   * ```ts
   * const state = await trainer.stateDict();
   * ```
   */
  override async stateDict(): Promise<TrainerState> {
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
   * Continues the run named `runName` (options) from its newest usable checkpoint in `dir`:
   * restores model, optimizer, hook states and data position, rebuilds the EventStorage state
   * after that step from the log (smoothing windows and histories intact), and returns the
   * iteration to start at. A corrupt checkpoint is skipped for an older one, with a warning.
   * With `resume: false`, or when the log records no checkpoint of the run (a first run, or one
   * that ended before its first checkpoint), returns `startIter` (default 0) and the next
   * `train()` starts a new run. When the log records checkpoints but none can be loaded, it
   * throws `NoValidCheckpointError` rather than start a new run over them, unless
   * `ifNoValidCheckpoint` is `'start-fresh'`.
   *
   * @example
   * ```ts
   * const start = await trainer.resumeOrLoad('runs/ckpt');
   * await trainer.train(start, maxIter);
   * ```
   */
  async resumeOrLoad(dir: string, options: ResumeOrLoadOptions = {}): Promise<number> {
    this.setResumePoint(null);
    const start = options.startIter ?? 0;
    const ifNone = options.ifNoValidCheckpoint ?? 'throw';
    if (ifNone !== 'throw' && ifNone !== 'start-fresh') {
      throw new InvalidArgumentError(`resumeOrLoad: ifNoValidCheckpoint must be 'throw' or 'start-fresh', got ${JSON.stringify(ifNone)}`);
    }
    if (options.resume === false) return start;
    const log = this.openLog();
    if (log === null) throw new InvalidArgumentError('resumeOrLoad needs the trainer to have a log (options.log): the log is where the run is rebuilt from');
    const store = new CheckpointStore(dir);
    await store.cleanTemp();
    const runName = this.options.runName ?? 'run';
    const tried: TriedCheckpoint[] = [];
    for (const point of resumeCandidates(log, runName, store, tried)) {
      let state: unknown;
      try {
        ({ state } = await store.load(point.checkpoint.name, { model: this.checkpointModel, optimizer: this.optimizer }));
      } catch (e) {
        // A damaged checkpoint is skipped for an older one; load verifies before touching weights.
        if (e instanceof CheckpointCorruptError) {
          process.emitWarning(`skipping checkpoint ${point.checkpoint.name}: ${e.message}`, { code: 'TRAINLEDGER_CORRUPT_CHECKPOINT' });
          tried.push({ name: point.checkpoint.name, iter: point.iter, reason: e.message });
          continue;
        }
        throw e;
      }
      await this.loadStateDict(state as TrainerState);
      this.setResumePoint({ runId: point.runId, state: point.state, iter: point.iter, toSeq: point.toSeq });
      return point.iter + 1;
    }
    // Checkpoints the log records but none usable: a new run would overwrite them under the same names.
    if (tried.length > 0 && ifNone === 'throw') throw new NoValidCheckpointError(store.dir, runName, tried);
    return start;
  }

  /**
   * Restores iteration, hook states and (when present) the optimizer's weights.
   *
   * @example
   * ```ts
   * await trainer.loadStateDict(state);
   * ```
   */
  override async loadStateDict(state: TrainerState): Promise<void> {
    await super.loadStateDict(state);
    if (state.data !== undefined && isSeekable(this.#data)) this.#data.seek(state.data as never);
    const saved = state.optimizer as ReadonlyArray<{ name: string; shape: number[]; dtype: tf.DataType; values: number[] }> | undefined;
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
