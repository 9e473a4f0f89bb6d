import fc from 'fast-check';
import { event, type TrainEvent } from '../../src/events/train-event.js';
import type { ReferenceRun } from './reference-storage.js';

/**
 * Random runs for property tests that compare the real storage with the reference one: puts of
 * a few metrics (both hints, NaN, ±Inf, ±0, earlier iterations), steps, rare events and resumes
 * to an earlier step. Tests run them with a fixed seed (`SEED`), so a failure reproduces.
 */
export const SEED = 15_006;

export const METRIC_NAMES = ['loss', 'lr', 'eval/acc', 'time', 'data_time', 'x/y/z'] as const;

/** Whether metric `i` of METRIC_NAMES is smoothed (a metric keeps one hint). */
export const hintOf = (i: number): boolean => i % 2 === 0;

export const value = fc.oneof(
  { weight: 4, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, 0, -0, 1, 2) },
);

export type Op =
  | { readonly kind: 'put'; readonly name: number; readonly value: number; readonly back: number | null }
  | { readonly kind: 'step'; readonly wallTime: number }
  | { readonly kind: 'event'; readonly which: number; readonly value: number }
  | { readonly kind: 'resume'; readonly back: number };

/** Kinds of rare event `rareEvent` makes. */
export const RARE_EVENTS = 6;

export const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('put' as const), name: fc.nat(METRIC_NAMES.length - 1), value, back: fc.option(fc.nat(5)) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('step' as const), wallTime: fc.double({ noNaN: true, min: 0, max: 2e9 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('event' as const), which: fc.nat(RARE_EVENTS - 1), value }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('resume' as const), back: fc.nat(10) }) },
);

/** Rare event `which` at iteration `iter` (`value` lands in its data, to carry non-finite numbers). */
export function rareEvent(which: number, iter: number, value: number): TrainEvent {
  switch (which % RARE_EVENTS) {
    case 0:
      return event('checkpoint-saved', { iter, name: `model_${iter}`, path: '/x' });
    case 1:
      return event('writer-cursor', { writer: 'json', iter, detail: { v: value } });
    case 2:
      return event('hook-failed', { hook: 'H', phase: 'afterStep', iter, message: 'm' });
    case 3:
      return event('histogram', { name: 'h', iter, min: value, max: 1, num: 1, sum: 1, sumSquares: 1, bucketLimits: [1], bucketCounts: [1] });
    case 4:
      return event('media-cleared', { images: value > 0, histograms: true });
    default:
      return event('writer-cursor', { writer: 'csv', iter });
  }
}

export function runStarted(startIter: number, historyMaxLength: number | undefined): TrainEvent {
  return event('run-started', {
    name: 'prop',
    config: { a: 1 },
    startIter,
    historyMaxLength,
    wallTime: 0,
    host: { hostname: 'h', platform: 'p', node: 'n', pid: 1 },
  });
}

/** What the generated runs exercised, summed over a property's runs (to assert they were not trivial). */
export class RunStats {
  scalars = 0;
  nonFinite = 0;
  negativeZeros = 0;
  rewinds = 0;
  /** Resumed events folded without a rewind (the reducer's own semantics). */
  resumedInPlace = 0;
  /** Metrics whose history evicted samples (put more than maxLength times). */
  evicting = 0;
  /** Hinted metrics whose smoothed value (window 20) differs from their latest. */
  smoothedApart = 0;
  steps = 0;

  /** Counts a put value. */
  put(v: number): void {
    this.scalars++;
    if (!Number.isFinite(v)) this.nonFinite++;
    if (Object.is(v, -0)) this.negativeZeros++;
  }

  /** Counts what a finished run's reference state shows. */
  finished(run: ReferenceRun): void {
    this.rewinds += run.rewinds;
    const s = run.state;
    this.steps += s.steps.count;
    for (const m of s.metrics) {
      if (m.history.count > m.history.samples.length) this.evicting++;
      if (m.hint && !Object.is(s.smoothed(m.name, 20)[0], m.history.latest()[0])) this.smoothedApart++;
    }
  }

  /** Each count at least `min`, but those named in `except` (names the first that is not). */
  below(min: number, except: ReadonlyArray<keyof RunStats> = []): string | null {
    for (const [k, v] of Object.entries(this)) if (typeof v === 'number' && v < min && !except.includes(k as keyof RunStats)) return `${k}: ${v} < ${min}`;
    return null;
  }
}
