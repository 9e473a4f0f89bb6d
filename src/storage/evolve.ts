import { createDraft, finishDraft, type Draft } from 'immer';
import { HistoryBuffer } from './history-buffer.js';
import type { MetricsTable, RunInfoState, StorageState } from './storage-state.js';
import type { TrainEvent } from '../events/train-event.js';
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
 * the replay of a log, so a replayed state equals the live one by construction.
 *
 * Pure: `state` is never modified and the result shares everything unchanged with it. Inside,
 * a transition works on private copies made on first write — per batch, the metric table is
 * copied once, the run-info part is an immer draft created only if a rare event needs it — so
 * folding a batch costs O(events), not O(events × state size). `evolveAll(s, [a, b])` always
 * equals `evolve(evolve(s, a), b)`; an event that cannot apply (a changed smoothing hint) throws
 * and no state changes.
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
  const t = new Transition(state);
  for (let i = 0; i < events.length; i++) t.apply(events[i]!);
  return t.finish();
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

class Transition {
  readonly #base: StorageState;
  #iter: number;
  #maxLength: number;
  #stepTimes: HistoryBuffer;
  #names: string[] | null = null;
  #hints: boolean[] | null = null;
  #histories: HistoryBuffer[] | null = null;
  #index: Map<string, number> | null = null;
  #info: Draft<RunInfoState> | null = null;

  constructor(base: StorageState) {
    this.#base = base;
    this.#iter = base.iter;
    this.#maxLength = base.maxLength;
    this.#stepTimes = base.stepTimes;
  }

  #draftInfo(): Draft<RunInfoState> {
    return (this.#info ??= createDraft(this.#base.info));
  }

  #putScalar(name: string, value: number, hint: boolean, iter: number): void {
    const m = this.#base.metrics;
    const index = this.#index ?? m.index;
    const at = index.get(name);
    if (at === undefined) {
      // New metric: copy the name arrays (rare: once per metric per run).
      const names = (this.#names ??= m.names.slice());
      const hints = (this.#hints ??= m.hints.slice());
      const histories = (this.#histories ??= m.histories.slice());
      const idx = (this.#index ??= new Map(m.index));
      idx.set(name, names.length);
      names.push(name);
      hints.push(hint);
      histories.push(HistoryBuffer.empty(this.#maxLength).append(value, iter));
      return;
    }
    const hints = this.#hints ?? m.hints;
    if (hints[at] !== hint) throw new SmoothingHintMismatchError(name, hints[at]!, hint);
    const histories = (this.#histories ??= m.histories.slice());
    histories[at] = histories[at]!.append(value, iter);
  }

  apply(e: TrainEvent): void {
    switch (e.type) {
      case 'scalar':
        this.#putScalar(e.data.name, e.data.value, e.data.smoothingHint, e.data.iter);
        return;
      case 'step':
        // storage.step(): the iteration `iter` is over; hooks of the next one see iter + 1.
        this.#stepTimes = this.#stepTimes.append(e.data.wallTime, e.data.iter);
        this.#iter = e.data.iter + 1;
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
        this.#draftInfo().writerCursors[e.data.writer] = e.data as Draft<typeof e.data>;
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

  finish(): StorageState {
    const base = this.#base;
    let metrics: MetricsTable = base.metrics;
    if (this.#histories !== null) {
      metrics = {
        names: this.#names ?? base.metrics.names,
        hints: this.#hints ?? base.metrics.hints,
        histories: this.#histories,
        index: this.#index ?? base.metrics.index,
      };
    }
    return {
      iter: this.#iter,
      maxLength: this.#maxLength,
      metrics,
      stepTimes: this.#stepTimes,
      info: this.#info === null ? base.info : finishDraft(this.#info),
    };
  }
}
