import { createDraft, finishDraft, type Draft } from 'immer';
import { HistoryBuffer } from './history-buffer.js';
import type { MetricsTable, RunInfoState, StorageState } from './storage-state.js';
import type { TrainEvent, WriterCursorData } from '../events/train-event.js';
import { TrainledgerError } from '../errors/trainledger-error.js';

/** A metric was put with a smoothing hint other than the one it was first put with. */
export class SmoothingHintMismatchError extends TrainledgerError {
  constructor(name: string, existing: boolean, given: boolean) {
    super(
      'ERR_SMOOTHING_HINT_MISMATCH',
      `scalar ${JSON.stringify(name)} was put with smoothingHint=${given}, but it was first put with smoothingHint=${existing}; a metric keeps its first hint`,
    );
  }
}

/**
 * Applies a sequence of events to a state: the one reducer behind both the live EventStorage and
 * the replay of a log, so a replayed state equals the live one by construction. It is a loop
 * over `StateFold.apply`, the reducer proper.
 *
 * Pure: `state` is never modified and the result shares everything unchanged with it. Inside,
 * the fold works on private copies made on first write — per batch, the metric table is copied
 * once, the run-info part is an immer draft created only if a rare event needs it, and the
 * samples of each metric are appended in one go — so folding a batch costs O(events), not
 * O(events × state size). `evolveAll(s, [a, b])` always equals `evolve(evolve(s, a), b)`; an
 * event that cannot apply (a changed smoothing hint) throws and no state changes.
 *
 * @example
 * ```ts
 * const state = evolveAll(initialState(), [
 *   event('scalar', { name: 'loss', value: 0.5, smoothingHint: true, iter: 0 }),
 *   event('step', { iter: 0, wallTime: 1700000000 }),
 * ]);
 * state.iter; // 1
 * ```
 */
export function evolveAll(state: StorageState, events: readonly TrainEvent[]): StorageState {
  if (events.length === 0) return state;
  const fold = new StateFold(state);
  for (let i = 0; i < events.length; i++) fold.apply(events[i]!);
  return fold.finish();
}

/**
 * Applies one event. See `evolveAll`.
 *
 * @example
 * ```ts
 * const next = evolve(state, event('step', { iter: state.iter, wallTime: Date.now() / 1000 }));
 * ```
 */
export function evolve(state: StorageState, e: TrainEvent): StorageState {
  return evolveAll(state, [e]);
}

const INITIAL_PENDING = 64;

/** Samples of one metric waiting in a fold. */
interface Pending {
  values: Float64Array;
  iters: Uint32Array;
  n: number;
}

/**
 * The reducer, held open: events go in one at a time and `finish()` returns the state they
 * lead to. `evolveAll` is this in a loop. The live EventStorage keeps one open between reads and
 * replay feeds it straight from the decoder (`scalar` / `step` take the fields of those events,
 * so the hot events need no event object); both therefore run this very code.
 *
 * Samples wait in per-metric typed arrays and are appended with one `HistoryBuffer.appendAll`
 * per metric at `finish()`, so a fold of k samples of a metric makes one new buffer, not k.
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
  #index: Map<string, number> | null = null;
  #info: Draft<RunInfoState> | null = null;
  /** Samples not yet appended, by metric position. */
  readonly #pending: Pending[] = [];
  /** Metric positions with pending samples, in first-touch order. */
  readonly #touched: number[] = [];
  #stepValues = new Float64Array(INITIAL_PENDING);
  #stepIters = new Uint32Array(INITIAL_PENDING);
  #stepCount = 0;

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
   * only replaces its writer's entry (no other event touches them), so they skip immer: a
   * draft's finalize costs tens of microseconds, a spread of a few keys well under one.
   */
  #cursors: Record<string, WriterCursorData> | null = null;

  #draftInfo(): Draft<RunInfoState> {
    return (this.#info ??= createDraft(this.#base.info));
  }

  /** Applies a `scalar` event with these fields. */
  scalar(name: string, value: number, smoothingHint: boolean, iter: number): void {
    const m = this.#base.metrics;
    let at = (this.#index ?? m.index).get(name);
    if (at === undefined) {
      // New metric: copy the name arrays (rare: once per metric per run).
      const names = (this.#names ??= m.names.slice());
      const hints = (this.#hints ??= m.hints.slice());
      const histories = (this.#histories ??= m.histories.slice());
      const idx = (this.#index ??= new Map(m.index));
      at = names.length;
      idx.set(name, at);
      names.push(name);
      hints.push(smoothingHint);
      histories.push(HistoryBuffer.empty(this.#maxLength));
    } else {
      const hints = this.#hints ?? m.hints;
      if (hints[at] !== smoothingHint) throw new SmoothingHintMismatchError(name, hints[at]!, smoothingHint);
    }
    this.#changed = true;
    let p = this.#pending[at];
    if (p === undefined) {
      p = { values: new Float64Array(INITIAL_PENDING), iters: new Uint32Array(INITIAL_PENDING), n: 0 };
      // Positions are handed out in order, so this array stays packed.
      this.#pending[at] = p;
    }
    const n = p.n;
    if (n === 0) this.#touched.push(at);
    else if (n === p.values.length) {
      p.values = grow(p.values, new Float64Array(n * 2));
      p.iters = grow(p.iters, new Uint32Array(n * 2));
    }
    p.values[n] = value;
    p.iters[n] = iter;
    p.n = n + 1;
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
        if (e.data.historyMaxLength !== undefined) this.#maxLength = e.data.historyMaxLength;
        return;
      }
      case 'histogram':
        this.#draftInfo().histograms.push(e.data as Draft<typeof e.data>);
        return;
      case 'image':
        this.#draftInfo().images.push(e.data);
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
        // A request to the log's writer thread: it changes no state.
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
    const touched = this.#touched;
    if (touched.length > 0 || this.#histories !== null) {
      const histories = (this.#histories ??= base.metrics.histories.slice());
      for (let k = 0; k < touched.length; k++) {
        const at = touched[k]!;
        const p = this.#pending[at]!;
        histories[at] = histories[at]!.appendAll(p.values, p.iters, p.n);
        p.n = 0;
      }
      touched.length = 0;
      metrics = {
        names: this.#names ?? base.metrics.names,
        hints: this.#hints ?? base.metrics.hints,
        histories,
        index: this.#index ?? base.metrics.index,
      };
    }
    const stepTimes = this.#stepCount > 0 ? base.stepTimes.appendAll(this.#stepValues, this.#stepIters, this.#stepCount) : base.stepTimes;
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
    this.#index = null;
    this.#info = null;
    this.#stepCount = 0;
    return state;
  }
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

function grow<T extends Float64Array | Uint32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
