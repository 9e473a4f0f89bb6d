import { createDraft, finishDraft, type Draft } from 'immer';
import { SmoothingHintMismatchError } from './errors.js';
import { HistoryBuffer } from './history-buffer.js';
import { MetricIndex } from './metric-index.js';
import { grow, SampleQueue } from './sample-queue.js';
import type { MetricsTable, RunInfoState, StorageState } from './storage-state.js';
import type { TrainEvent, WriterCursorData } from '../events/train-event.js';

const INITIAL_STEPS = 64;

/**
 * The reducer, held open: events go in one at a time and `finish()` returns the state they
 * lead to. `evolveAll` is this in a loop. The live EventStorage keeps one open between reads and
 * replay feeds it straight from the decoder (`scalar` / `step` take the fields of those events,
 * so the hot events need no event object); both therefore run this very code.
 *
 * Samples wait in a `SampleQueue` and are appended with one `HistoryBuffer.appendAll` per metric
 * at `finish()`, so a fold of k samples of a metric makes one new buffer, not k.
 * After `finish()` the fold goes on from the state it returned. A call that throws (a changed
 * smoothing hint) applies nothing.
 *
 * @example
 * ```ts
 * const fold = new StateFold(initialState());
 * fold.scalar('loss', 0.5, true, 0);
 * fold.step(0, 1700000000);
 * const state = fold.finish(); // same as evolveAll over the two events
 * ```
 */
export class StateFold {
  #base: StorageState;
  #changed = false;
  #iter: number;
  #maxLength: number;
  #names: string[] | null = null;
  #hints: boolean[] | null = null;
  #histories: HistoryBuffer[] | null = null;
  /** Names added since the base state (their positions follow the base's). */
  #added: Map<string, number> | null = null;
  #info: Draft<RunInfoState> | null = null;
  /** Samples not yet appended to their histories. */
  readonly #queue = new SampleQueue();
  /** Step times folded since `#steps` (or the base's) was last brought up to date. */
  #stepValues = new Float64Array(INITIAL_STEPS);
  #stepIters = new Uint32Array(INITIAL_STEPS);
  #stepCount = 0;
  /** Step times with the queued ones appended, when maxLength changed mid-fold. */
  #steps: HistoryBuffer | null = null;

  constructor(state: StorageState) {
    this.#base = state;
    this.#iter = state.iter;
    this.#maxLength = state.maxLength;
  }

  /** The iteration as of the events applied so far (what `finish().iter` would be). */
  get iter(): number {
    return this.#iter;
  }

  /**
   * Writer cursors recorded since the last finish. They come every write period, and each one
   * only replaces its writer's entry (no other event touches them), so they skip immer, whose
   * draft finalize costs far more than a spread of a few keys.
   */
  #cursors: Record<string, WriterCursorData> | null = null;

  #draftInfo(): Draft<RunInfoState> {
    return (this.#info ??= createDraft(this.#base.info));
  }

  /** How many images and histograms the state holds as of the events applied so far (no state is produced). */
  mediaCount(): { readonly images: number; readonly histograms: number } {
    const info = this.#info ?? this.#base.info;
    return { images: info.images.length, histograms: info.histograms.length };
  }

  /** Applies a `scalar` event with these fields. */
  scalar(name: string, value: number, smoothingHint: boolean, iter: number): void {
    this.scalarAt(this.positionOf(name), name, value, smoothingHint, iter);
  }

  /** Position of metric `name` among those folded so far (pending ones included), or -1. */
  positionOf(name: string): number {
    const at = this.#base.metrics.index.get(name);
    if (at !== undefined) return at;
    return this.#added?.get(name) ?? -1;
  }

  /** Smoothing hint of the metric at position `at` (see `positionOf`). */
  hintAt(at: number): boolean {
    return (this.#hints ?? this.#base.metrics.hints)[at]!;
  }

  /**
   * `scalar` of the metric at `at = positionOf(name)`: a caller that looked the name up already
   * (EventStorage checks the hint before the log sees the event) does not look it up again.
   */
  scalarAt(at: number, name: string, value: number, smoothingHint: boolean, iter: number): void {
    const m = this.#base.metrics;
    if (at < 0) {
      // New metric: copy the name arrays (once per state that adds names).
      const names = (this.#names ??= m.names.slice());
      const hints = (this.#hints ??= m.hints.slice());
      const histories = (this.#histories ??= m.histories.slice());
      at = names.length;
      (this.#added ??= new Map()).set(name, at);
      names.push(name);
      hints.push(smoothingHint);
      histories.push(HistoryBuffer.empty(this.#maxLength));
    } else {
      const hints = this.#hints ?? m.hints;
      if (hints[at] !== smoothingHint) throw new SmoothingHintMismatchError(name, hints[at]!, smoothingHint);
    }
    this.#changed = true;
    this.#queue.push(at, value, iter);
  }

  /** Bytes of the buffers samples wait in (they grow with the events between two states). */
  get pendingBytes(): number {
    return this.#queue.byteLength + this.#stepValues.byteLength + this.#stepIters.byteLength;
  }

  /** Step times so far, the queued ones appended. */
  #stepTimes(): HistoryBuffer {
    let steps = this.#steps ?? this.#base.stepTimes;
    if (this.#stepCount > 0) steps = steps.appendAll(this.#stepValues, this.#stepIters, this.#stepCount);
    this.#stepCount = 0;
    return steps;
  }

  /** Applies a `step` event: iteration `iter` is over, hooks of the next one see `iter + 1`. */
  step(iter: number, wallTime: number): void {
    this.#changed = true;
    const n = this.#stepCount;
    if (n === this.#stepValues.length) {
      this.#stepValues = grow(this.#stepValues, new Float64Array(n * 2));
      this.#stepIters = grow(this.#stepIters, new Uint32Array(n * 2));
    }
    this.#stepValues[n] = wallTime;
    this.#stepIters[n] = iter;
    this.#stepCount = n + 1;
    this.#iter = iter + 1;
  }

  /**
   * Applies any event. Scalars and steps go to `scalar` and `step`, so a decoder that calls
   * those directly folds exactly as this does.
   */
  apply(e: TrainEvent): void {
    this.#changed = true;
    switch (e.type) {
      case 'scalar':
        this.scalar(e.data.name, e.data.value, e.data.smoothingHint, e.data.iter);
        return;
      case 'step':
        this.step(e.data.iter, e.data.wallTime);
        return;
      case 'run-started': {
        const d = this.#draftInfo();
        d.run = e.data as Draft<typeof e.data>;
        d.status = 'running';
        d.statusDetail = null;
        d.endIter = null;
        this.#iter = e.data.startIter;
        if (e.data.historyMaxLength !== undefined && e.data.historyMaxLength !== this.#maxLength) {
          // Step times before this event were evicted under the old maxLength: append them first.
          this.#steps = this.#stepTimes().withMaxLength(e.data.historyMaxLength);
          this.#maxLength = e.data.historyMaxLength;
        }
        return;
      }
      case 'histogram':
        this.#draftInfo().histograms.push(e.data as Draft<typeof e.data>);
        return;
      case 'image':
        this.#draftInfo().images.push(e.data);
        return;
      case 'media-cleared': {
        const d = this.#draftInfo();
        if (e.data.images) d.images = [];
        if (e.data.histograms) d.histograms = [];
        return;
      }
      case 'iter-set':
        this.#iter = e.data.iter;
        return;
      case 'checkpoint-saved':
        this.#draftInfo().checkpoints.push(e.data);
        return;
      case 'resumed': {
        const d = this.#draftInfo();
        d.resumes.push(e.data);
        d.status = 'running';
        d.statusDetail = null;
        d.endIter = null;
        this.#iter = e.data.iter + 1;
        return;
      }
      case 'writer-cursor':
        (this.#cursors ??= {})[e.data.writer] = deepFreeze(e.data);
        return;
      case 'write-point':
        // A request to the log's commit thread: it changes no state.
        return;
      case 'hook-failed':
        this.#draftInfo().hookFailures.push(e.data);
        return;
      case 'run-completed': {
        const d = this.#draftInfo();
        d.status = 'completed';
        d.statusDetail = null;
        d.endIter = e.data.iter;
        this.#iter = e.data.iter;
        return;
      }
      case 'run-failed': {
        const d = this.#draftInfo();
        d.status = 'failed';
        d.statusDetail = e.data.message;
        d.endIter = e.data.iter;
        this.#iter = e.data.iter;
        return;
      }
      case 'run-stopped': {
        const d = this.#draftInfo();
        d.status = 'stopped';
        d.statusDetail = e.data.reason;
        d.endIter = e.data.iter;
        this.#iter = e.data.iter;
        return;
      }
      default:
        // A new event type must say here how it folds.
        e satisfies never;
    }
  }

  /**
   * The state after every event applied so far. The fold then continues from it; nothing
   * applied before is applied again.
   */
  finish(): StorageState {
    const base = this.#base;
    if (!this.#changed) return base;
    let metrics: MetricsTable = base.metrics;
    if (!this.#queue.isEmpty || this.#histories !== null) {
      const histories = (this.#histories ??= base.metrics.histories.slice());
      this.#queue.appendTo(histories);
      metrics = {
        names: this.#names ?? base.metrics.names,
        hints: this.#hints ?? base.metrics.hints,
        histories,
        index: this.#names === null ? base.metrics.index : indexWith(base.metrics, this.#names),
      };
    }
    // A state made with another maxLength (e.g. an older snapshot) gets the fold's from here on.
    const stepTimes = this.#stepTimes().withMaxLength(this.#maxLength);
    const state: StorageState = {
      iter: this.#iter,
      maxLength: this.#maxLength,
      metrics,
      stepTimes,
      info: withCursors(this.#info === null ? base.info : finishDraft(this.#info), this.#cursors),
    };
    this.#cursors = null;
    this.#base = state;
    this.#changed = false;
    this.#names = null;
    this.#hints = null;
    this.#histories = null;
    this.#added = null;
    this.#info = null;
    this.#steps = null;
    return state;
  }
}

/** The index of `names`, which extend the names of `table`: O(names added) from a MetricIndex. */
function indexWith(table: MetricsTable, names: readonly string[]): MetricIndex {
  const index = table.index;
  // A table made elsewhere (a snapshot) may hold a plain Map: indexed once, shared from then on.
  return index instanceof MetricIndex ? index.with(names, table.names.length) : MetricIndex.of(names);
}

function withCursors(info: RunInfoState, cursors: Readonly<Record<string, WriterCursorData>> | null): RunInfoState {
  if (cursors === null) return info;
  // Frozen like everything immer produces: states are immutable.
  return Object.freeze({ ...info, writerCursors: Object.freeze({ ...info.writerCursors, ...cursors }) });
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}
