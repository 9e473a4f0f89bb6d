/**
 * A reference implementation of what EventStorage / StateFold compute from a run's events, written
 * for clarity, not speed: plain arrays and loops, one event at a time. It imports nothing from
 * src/storage or src/log (only the event types), so a test comparing the real state with this
 * one compares two independent implementations, not the code under test with itself.
 *
 * Semantics (detectron2's EventStorage and fvcore's HistoryBuffer, as trainledger folds them):
 * - `scalar`: the sample (value, iter) goes at the end of its metric's history, whatever its
 *   iteration; a history keeps its newest `maxLength` samples, `count` and `globalAvg` (a running
 *   mean) cover every sample ever put. A metric keeps the smoothing hint it was first put with;
 *   another hint is an error and changes nothing. A metric's maxLength is the state's when it is
 *   first put.
 * - `step`: wall time goes into the step-time history at the step's iteration; `iter` becomes
 *   the step's iteration + 1.
 * - `run-started`: records the run, status running; `iter` becomes startIter; a new
 *   historyMaxLength applies to step times at once (evicting) and to metrics put from then on.
 * - `resumed` (after the log dropped the abandoned iterations, see ReferenceRun): status running,
 *   `iter` becomes the resumed step + 1. `run-completed` / `-failed` / `-stopped`: status, endIter,
 *   `iter` becomes the event's iteration.
 * - checkpoints, hook failures, histograms, images and resumes are listed in order; a writer
 *   cursor replaces its writer's; a write point changes nothing.
 */
import type { ResumedEvent, TrainEvent } from '../../src/events/train-event.js';
import { must } from '../helpers.js';
import { OBSERVED_WINDOWS, type ObservedHistory, type ObservedMetric, type ObservedState, type Sample } from './observed-state.js';

/** fvcore's default history length. */
export const DEFAULT_MAX_LENGTH = 1_000_000;

/** One series: the retained samples, and statistics over all samples ever added. */
export class ReferenceHistory {
  readonly samples: Array<[number, number]> = [];
  count = 0;
  globalAvg = 0;

  constructor(public maxLength: number) {}

  add(value: number, iter: number): void {
    this.samples.push([value, iter]);
    while (this.samples.length > this.maxLength) this.samples.shift();
    this.count += 1;
    // fvcore's running mean (the same arithmetic, so the same float).
    this.globalAvg += (value - this.globalAvg) / this.count;
  }

  /** Keeps at most `maxLength` samples from now on, evicting the oldest now if needed. */
  setMaxLength(maxLength: number): void {
    this.maxLength = maxLength;
    while (this.samples.length > maxLength) this.samples.shift();
  }

  /** The last `window` values, oldest first. */
  lastValues(window: number): number[] {
    const out: number[] = [];
    const from = Math.max(0, this.samples.length - window);
    for (const [v] of this.samples.slice(from)) out.push(v);
    return out;
  }

  latest(): Sample {
    const last = this.samples[this.samples.length - 1];
    if (last === undefined) throw new Error('latest() of an empty reference history');
    return [last[0], last[1]];
  }

  median(window: number): number {
    return referenceMedian(this.lastValues(window));
  }

  avg(window: number): number {
    const values = this.lastValues(window);
    if (values.length === 0) throw new Error('avg() of an empty reference history');
    let sum = 0;
    for (const v of values) sum += v;
    return sum / values.length;
  }

  /** Trailing samples (newest first, stopping at the first outside) with iter > latestIter - window. */
  countSince(window: number): number {
    if (this.samples.length === 0) return 0;
    const limit = this.latest()[1] - window;
    let n = 0;
    for (const [, iter] of [...this.samples].reverse()) {
      if (iter <= limit) break;
      n++;
    }
    return n;
  }

  observe(): ObservedHistory {
    return {
      maxLength: this.maxLength,
      samples: this.samples.map(([v, it]) => [v, it] as const),
      count: this.count,
      globalAvg: this.globalAvg,
    };
  }
}

/** numpy's median: NaN if any value is NaN; else the middle of the sorted values (-0 sorts before 0). */
export function referenceMedian(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median() of no values');
  if (values.some((v) => Number.isNaN(v))) return NaN;
  const sorted = [...values].sort((a, b) => {
    if (a < b) return -1;
    if (a > b) return 1;
    if (Object.is(a, -0) && Object.is(b, 0)) return -1;
    if (Object.is(a, 0) && Object.is(b, -0)) return 1;
    return 0;
  });
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? must(sorted[mid], 'middle value') : (must(sorted[mid - 1], 'value below the middle') + must(sorted[mid], 'middle value')) / 2;
}

interface ReferenceMetric {
  readonly name: string;
  readonly hint: boolean;
  readonly history: ReferenceHistory;
}

/** A scalar was put with another smoothing hint than its first one. */
export class ReferenceHintError extends Error {}

/** The state of a run after a sequence of events, built by applying them one by one. */
export class ReferenceStorage {
  iter: number;
  maxLength: number;
  readonly metrics: ReferenceMetric[] = [];
  readonly steps: ReferenceHistory;
  readonly info = {
    run: null as unknown,
    status: 'new' as string,
    statusDetail: null as string | null,
    endIter: null as number | null,
    checkpoints: [] as unknown[],
    writerCursors: {} as Record<string, unknown>,
    hookFailures: [] as unknown[],
    histograms: [] as unknown[],
    images: [] as unknown[],
    resumes: [] as unknown[],
  };

  constructor(options: { readonly maxLength?: number; readonly startIter?: number } = {}) {
    this.maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH;
    this.iter = options.startIter ?? 0;
    this.steps = new ReferenceHistory(this.maxLength);
  }

  metric(name: string): ReferenceMetric | undefined {
    return this.metrics.find((m) => m.name === name);
  }

  /** Applies one event; an event that cannot apply throws before changing anything. */
  apply(e: TrainEvent): void {
    switch (e.type) {
      case 'scalar': {
        const { name, value, smoothingHint, iter } = e.data;
        let m = this.metric(name);
        if (m === undefined) {
          m = { name, hint: smoothingHint, history: new ReferenceHistory(this.maxLength) };
          this.metrics.push(m);
        } else if (m.hint !== smoothingHint) {
          throw new ReferenceHintError(`${name} was first put with smoothingHint=${m.hint}, now ${smoothingHint}`);
        }
        m.history.add(value, iter);
        return;
      }
      case 'step':
        this.steps.add(e.data.wallTime, e.data.iter);
        this.iter = e.data.iter + 1;
        return;
      case 'run-started':
        this.info.run = e.data;
        this.info.status = 'running';
        this.info.statusDetail = null;
        this.info.endIter = null;
        this.iter = e.data.startIter;
        if (e.data.historyMaxLength !== undefined) {
          this.maxLength = e.data.historyMaxLength;
          this.steps.setMaxLength(e.data.historyMaxLength);
        }
        return;
      case 'resumed':
        this.info.resumes.push(e.data);
        this.info.status = 'running';
        this.info.statusDetail = null;
        this.info.endIter = null;
        this.iter = e.data.iter + 1;
        return;
      case 'run-completed':
        this.end('completed', null, e.data.iter);
        return;
      case 'run-failed':
        this.end('failed', e.data.message, e.data.iter);
        return;
      case 'run-stopped':
        this.end('stopped', e.data.reason, e.data.iter);
        return;
      case 'checkpoint-saved':
        this.info.checkpoints.push(e.data);
        return;
      case 'hook-failed':
        this.info.hookFailures.push(e.data);
        return;
      case 'histogram':
        this.info.histograms.push(e.data);
        return;
      case 'image':
        this.info.images.push(e.data);
        return;
      case 'media-cleared':
        if (e.data.images) this.info.images = [];
        if (e.data.histograms) this.info.histograms = [];
        return;
      case 'iter-set':
        this.iter = e.data.iter;
        return;
      case 'writer-cursor':
        this.info.writerCursors[e.data.writer] = e.data;
        return;
      case 'write-point':
        return;
      default: {
        const never: never = e;
        throw new Error(`unknown event ${JSON.stringify(never)}`);
      }
    }
  }

  private end(status: string, detail: string | null, iter: number): void {
    this.info.status = status;
    this.info.statusDetail = detail;
    this.info.endIter = iter;
    this.iter = iter;
  }

  /** `latestWithSmoothingHint(window)` of one metric. */
  smoothed(name: string, window: number): Sample {
    const m = this.metric(name);
    if (m === undefined) throw new Error(`no reference metric ${name}`);
    const [value, iter] = m.history.latest();
    return m.hint ? [m.history.median(m.history.countSince(window)), iter] : [value, iter];
  }

  observe(): ObservedState {
    const metrics: ObservedMetric[] = this.metrics.map((m) => ({
      name: m.name,
      hint: m.hint,
      ...m.history.observe(),
      latest: m.history.latest(),
      windows: OBSERVED_WINDOWS.map((window) => ({
        window,
        median: m.history.median(window),
        avg: m.history.avg(window),
        countSince: m.history.countSince(window),
        smoothed: this.smoothed(m.name, window),
      })),
    }));
    return { iter: this.iter, maxLength: this.maxLength, metrics, steps: this.steps.observe(), info: structuredClone(this.info) };
  }
}

/** Folds `events` into a fresh reference state. */
export function referenceState(events: readonly TrainEvent[], options: { readonly maxLength?: number; readonly startIter?: number } = {}): ReferenceStorage {
  const s = new ReferenceStorage(options);
  for (const e of events) s.apply(e);
  return s;
}

/**
 * A run's live timeline: the events that count. A resume to step k drops every event after
 * step k (the abandoned iterations), then continues with the `resumed` event; the state is the
 * fold of what remains, from the start.
 */
export class ReferenceRun {
  readonly #options: { readonly maxLength?: number; readonly startIter?: number };
  #events: TrainEvent[] = [];
  #state: ReferenceStorage;
  /** Resumes applied so far. */
  rewinds = 0;

  constructor(options: { readonly maxLength?: number; readonly startIter?: number } = {}) {
    this.#options = options;
    this.#state = new ReferenceStorage(options);
  }

  /** The events on the live timeline. */
  get events(): readonly TrainEvent[] {
    return this.#events;
  }

  get state(): ReferenceStorage {
    return this.#state;
  }

  /** Appends an event (an event the state refuses throws and is not appended). */
  append(e: TrainEvent): void {
    this.#state.apply(e);
    this.#events.push(e);
  }

  /** Index of the step event of iteration `k` on the timeline; throws when there is none. */
  #stepAt(k: number): number {
    for (let i = this.#events.length - 1; i >= 0; i--) {
      const e = must(this.#events[i], `event ${i}`);
      if (e.type === 'step' && e.data.iter === k) return i;
    }
    throw new Error(`no step ${k} on the reference timeline`);
  }

  /** The state right after step `k` (what a replay `untilIter: k` gives). */
  stateAfterStep(k: number): ReferenceStorage {
    return referenceState(this.#events.slice(0, this.#stepAt(k) + 1), this.#options);
  }

  /** Resumes from the state after step `e.data.iter`: later events leave the timeline, then `e` is appended. */
  resume(e: ResumedEvent): void {
    this.#events = this.#events.slice(0, this.#stepAt(e.data.iter) + 1);
    this.#state = referenceState(this.#events, this.#options);
    this.append(e);
    this.rewinds++;
  }
}
