import { SmoothingHintMismatchError } from './errors.js';
import { StateFold } from './state-fold.js';
import type { HistoryBuffer } from './history-buffer.js';
import { initialState, type StorageState } from './storage-state.js';
import { computeHistogram } from './histogram.js';
import { MAX_PENDING, produceAt } from './produce-policy.js';
import { checkIter, isIter, isWellFormed, notAName, notANumber, notAnIter, notWellFormed } from './put-arguments.js';
import { ClosedSink } from './closed-sink.js';
import { finallyAfter } from './finally-after.js';
import { imagePixels, type ImageInput } from './image-input.js';
import { historiesOf, historyOf, latestOf, latestWithSmoothingHintOf, smoothingHintsOf } from './state-queries.js';
import type { EventSink } from './event-sink.js';
import { event, type TrainEvent } from '../events/train-event.js';
import { InvalidArgumentError } from '../errors/trainledger-error.js';

export interface EventStorageOptions {
  /** Initial `iter` (detectron2's `EventStorage(start_iter)`). Default 0. */
  readonly startIter?: number;
  /** Samples each metric history keeps. Default 1,000,000. */
  readonly maxLength?: number;
  /** Where events go besides the in-memory state: usually a log's LogAppender. */
  readonly sink?: EventSink | null;
  /** Start from this state (e.g. rebuilt from a log on resume) instead of an empty one. */
  readonly state?: StorageState;
  /** Called with every event appended (the trainer turns these into `metric` lifecycle events). */
  readonly onEvent?: ((e: TrainEvent) => void) | null;
  /**
   * Whether `onEvent` wants scalar and step events right now. Without anyone listening, a put
   * then builds no event object (two objects per put, every step, otherwise). Default: always.
   */
  readonly listening?: (() => boolean) | null;
}

/**
 * detectron2's EventStorage, event-sourced: every put is an event appended to the log (when a
 * sink is given) and folded into an immutable state by the same `evolve` that replays a log.
 *
 * Puts are cheap: the event is validated, encoded for the log and handed to an open fold of
 * the reducer (`StateFold`, the code `evolveAll` runs), which only buffers the sample. The new
 * state is produced when someone reads it (`state`, `latest()`, ...), or every few thousand
 * events to bound what waits, so a loop that reads the state every k steps pays for building
 * it once per k steps, not on every put. What a read returns is exactly `evolveAll` of every
 * event appended so far.
 *
 * @example
 * ```ts
 * const storage = new EventStorage();
 * storage.putScalar('loss', 0.5);
 * storage.step();
 * storage.latest(); // { loss: [0.5, 0] }
 * ```
 */
export class EventStorage {
  #state: StorageState;
  readonly #fold: StateFold;
  /** Events applied to the fold since `#state` was produced. */
  #pending = 0;
  /** `#pending` at which the state is produced unasked (see produce-policy). */
  #produceAt = MAX_PENDING;
  // Replaced by a ClosedSink on close().
  #sink: EventSink | null;
  readonly #onEvent: ((e: TrainEvent) => void) | null;
  readonly #listening: (() => boolean) | null;
  #prefix = '';

  constructor(options: EventStorageOptions = {}) {
    const startIter = options.startIter ?? 0;
    checkIter(startIter, 'startIter');
    const maxLength = options.maxLength ?? options.state?.maxLength ?? 1_000_000;
    if (!Number.isInteger(maxLength) || maxLength < 1) {
      throw new InvalidArgumentError(`maxLength must be a positive integer, got ${String(maxLength)}`);
    }
    this.#state = options.state ?? initialState({ startIter, maxLength });
    this.#fold = new StateFold(this.#state);
    this.#sink = options.sink ?? null;
    this.#onEvent = options.onEvent ?? null;
    this.#listening = options.listening ?? null;
  }

  /** The current state (immutable; later puts produce new states). */
  get state(): StorageState {
    if (this.#pending > 0) this.#produce();
    return this.#state;
  }

  /** The iteration being run. `step()` advances it. */
  get iter(): number {
    // The fold tracks it as events arrive: no state needs to be produced to know it.
    return this.#fold.iter;
  }

  /**
   * Moves the iteration forward (detectron2's `storage.iter = n`, for a loop of your own; a trainer keeps it
   * by `step()`), logged as `iter-set` so replay folds it. The current value records nothing; going back throws.
   */
  set iter(value: number) {
    checkIter(value, 'storage.iter');
    const current = this.#fold.iter;
    if (value === current) return;
    if (value < current) throw new InvalidArgumentError(`storage.iter = ${value}: expected an iteration >= the current ${current} (a run goes back only by resuming from a checkpoint)`);
    this.append(event('iter-set', { iter: value }));
  }

  get maxLength(): number {
    // A pending run-started event may have set it: read the produced state.
    return this.state.maxLength;
  }

  #produce(): void {
    this.#state = this.#fold.finish();
    this.#pending = 0;
    this.#produceAt = produceAt(this.#state.metrics.names.length);
  }

  /** Counts an applied event, producing the state once enough wait (bounds buffered samples). */
  #applied(): void {
    if (++this.#pending >= this.#produceAt) this.#produce();
  }

  /**
   * Appends any event: to the sink, then to the state. Lifecycle events (run started, checkpoint
   * saved, ...) enter through here.
   *
   * @example
   * ```ts
   * storage.append(event('writer-cursor', { writer: 'json', iter: 19 }));
   * ```
   */
  append(e: TrainEvent): void {
    if (e.type === 'scalar') {
      this.putScalar(e.data.name, e.data.value, e.data.smoothingHint, e.data.iter);
      return;
    }
    if (e.type === 'step') {
      this.step(e.data.wallTime);
      return;
    }
    // Histograms and images are rare and costly to build: their names are checked every time.
    if ((e.type === 'histogram' || e.type === 'image') && !isWellFormed(e.data.name)) {
      throw notWellFormed(e.type === 'histogram' ? 'putHistogram' : 'putImage', e.data.name);
    }
    this.#sink?.event(e);
    this.#fold.apply(e);
    this.#applied();
    this.#onEvent?.(e);
  }

  /**
   * Records a scalar for `curIter` (default: the current iteration). Inside `nameScope` the
   * name gets the scope's prefix. A name keeps the smoothing hint it was first put with.
   *
   * @example
   * ```ts
   * storage.putScalar('lr', 0.01, false);
   * ```
   */
  putScalar(name: string, value: number, smoothingHint = true, curIter?: number): void {
    // Errors are built out of line: this is the hot path, and a small function inlines well.
    if (typeof value !== 'number') throw notANumber(name, value);
    if (typeof name !== 'string' || name.length === 0) throw notAName(name);
    const full = this.#prefix === '' ? name : this.#prefix + name;
    let iter: number;
    if (curIter === undefined) iter = this.#fold.iter;
    else if (isIter(curIter)) iter = curIter;
    else throw notAnIter(curIter, `putScalar(${JSON.stringify(full)}) curIter`);
    const hint = smoothingHint !== false;
    // The fold knows every name put so far, pending puts included: a changed hint is refused
    // before the event reaches the log, so the log never holds an event the reducer refuses.
    const at = this.#fold.positionOf(full);
    // Names are interned by the fold: a name is checked once, when first put, not on every put.
    if (at < 0) {
      if (!isWellFormed(full)) throw notWellFormed('putScalar', full);
    } else if (this.#fold.hintAt(at) !== hint) throw new SmoothingHintMismatchError(full, !hint, hint);
    // A closed storage's sink throws here, before the state changes.
    this.#sink?.scalar(full, hint, iter, value);
    this.#fold.scalarAt(at, full, value, hint, iter);
    this.#applied();
    // The event object exists only for a listener: the log and the fold take its fields.
    if (this.#onEvent !== null && (this.#listening === null || this.#listening())) {
      this.#onEvent(event('scalar', { name: full, value, smoothingHint: hint, iter }));
    }
  }

  /**
   * Puts several scalars with one hint.
   *
   * @example
   * ```ts
   * storage.putScalars({ loss_cls: 0.3, loss_box: 0.2 });
   * ```
   */
  putScalars(values: Readonly<Record<string, number>>, smoothingHint = true, curIter?: number): void {
    for (const name of Object.keys(values)) this.putScalar(name, values[name]!, smoothingHint, curIter);
  }

  /**
   * Records a histogram summary of `values` (min, max, count, sum, sum of squares, `bins` equal
   * buckets between min and max), as detectron2's put_histogram.
   *
   * @example
   * ```ts
   * storage.putHistogram('weights/fc1', await w.data(), 100);
   * ```
   */
  putHistogram(name: string, values: ArrayLike<number>, bins = 1000): void {
    const full = this.#prefix === '' ? name : this.#prefix + name;
    this.append(event('histogram', { name: full, iter: this.iter, ...computeHistogram(values, bins) }));
  }

  /**
   * Records an image (HWC; uint8, or float in [0, 1]) for the writers.
   *
   * @example
   * ```ts
   * storage.putImage('samples', { height: 28, width: 28, channels: 1, data: pixels });
   * ```
   */
  putImage(name: string, image: ImageInput): void {
    const pixels = imagePixels(name, image);
    const full = this.#prefix === '' ? name : this.#prefix + name;
    const { height, width, channels } = image;
    this.append(event('image', { name: full, iter: this.iter, height, width, channels, pixels }));
  }

  /** Drops the images put so far from the state (detectron2's `clear_images`); recorded only if there were any. */
  clearImages(): void {
    if (this.#fold.mediaCount().images > 0) this.append(event('media-cleared', { images: true, histograms: false }));
  }

  /** Drops the histograms put so far from the state (detectron2's `clear_histograms`); recorded only if there were any. */
  clearHistograms(): void {
    if (this.#fold.mediaCount().histograms > 0) this.append(event('media-cleared', { images: false, histograms: true }));
  }

  /**
   * Ends the current iteration: hooks of the next iteration see `iter + 1`.
   *
   * @example
   * ```ts
   * storage.step();
   * ```
   */
  step(wallTime = Date.now() / 1000): void {
    const iter = this.#fold.iter;
    this.#sink?.step(iter, wallTime);
    this.#fold.step(iter, wallTime);
    this.#applied();
    if (this.#onEvent !== null && (this.#listening === null || this.#listening())) this.#onEvent(event('step', { iter, wallTime }));
  }

  /**
   * Ends this storage: every later put, step or append throws StorageClosedError; reads go on.
   * TrainerBase closes its storage once the run's outcome is recorded, so nothing can be added
   * to a run after `train()` settled. A storage built from this one's state is open.
   *
   * @example
   * ```ts
   * storage.close();
   * storage.putScalar('late', 1); // throws StorageClosedError
   * ```
   */
  close(): void {
    if (this.closed) return;
    const { info, iter } = this.state;
    const ended = info.status === 'completed' || info.status === 'failed' || info.status === 'stopped';
    this.#sink = new ClosedSink(ended ? (info.endIter ?? iter) : iter, ended ? info.status : null);
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#sink instanceof ClosedSink;
  }

  /**
   * Runs `fn` with names prefixed by `prefix/` (replacing any outer prefix, as detectron2's
   * name_scope). The previous prefix is restored when `fn` returns, throws, or (for an async
   * `fn`) settles.
   *
   * @example
   * ```ts
   * storage.nameScope('eval', () => storage.putScalar('acc', 0.9)); // 'eval/acc'
   * ```
   */
  nameScope<T>(prefix: string, fn: () => T): T {
    const old = this.#prefix;
    this.#prefix = prefix.replace(/\/+$/, '') + '/';
    return finallyAfter(fn, () => {
      this.#prefix = old;
    });
  }

  /**
   * Latest value and iteration of every metric.
   *
   * @example
   * ```ts
   * const [loss, at] = storage.latest()['total_loss']!;
   * ```
   */
  latest(): Record<string, readonly [value: number, iter: number]> {
    return latestOf(this.state);
  }

  /**
   * Like `latest`, but hinted metrics give the median of their samples within the last `window`
   * iterations (detectron2's latest_with_smoothing_hint).
   *
   * @example
   * ```ts
   * storage.latestWithSmoothingHint(20);
   * ```
   */
  latestWithSmoothingHint(window = 20): Record<string, readonly [value: number, iter: number]> {
    return latestWithSmoothingHintOf(this.state, window);
  }

  /**
   * How many trailing samples of `name` lie within the last `window` iterations of its latest.
   *
   * @example
   * ```ts
   * storage.countSamples('loss', 20);
   * ```
   */
  countSamples(name: string, window = 20): number {
    return this.history(name).countSince(window);
  }

  /**
   * The history of one metric. Unknown names throw `UnknownMetricError`.
   *
   * @example
   * ```ts
   * storage.history('total_loss').median(20);
   * ```
   */
  history(name: string): HistoryBuffer {
    return historyOf(this.state, name);
  }

  /** Every history by name. */
  histories(): Record<string, HistoryBuffer> {
    return historiesOf(this.state);
  }

  /** The smoothing hint of every metric. */
  smoothingHints(): Record<string, boolean> {
    return smoothingHintsOf(this.state);
  }
}
