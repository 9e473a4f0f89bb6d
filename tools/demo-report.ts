/**
 * What `npm run demo` says about its run and the exit status it ends with, from facts the demo
 * gathered (kept apart from tools/demo.ts so tests can check every case without training).
 */
import type { StorageState } from '../src/storage/storage-state.js';

/** The demo's default length: the accuracy bar is a promise about a run this long (or longer). */
export const FULL_DEMO_STEPS = 1500;
/** Test accuracy a full-length demo run must reach. */
export const ACCURACY_BAR = 0.95;

export interface DemoFacts {
  readonly steps: number;
  readonly runId: number;
  readonly runName: string;
  /** The iteration this process started training from, or null if it trained nothing. */
  readonly trainedFrom: number | null;
  /** Iterations the run had finished at the end (last step + 1). */
  readonly reached: number;
  readonly status: string;
  readonly seconds: number;
  readonly backend: string;
  readonly model: string;
  readonly testAccuracy: number;
  /** Whether the replayed metrics.json equals the live one. */
  readonly replayIdentical: boolean;
}

/**
 * The iteration this process started training from: a run it started (its `run-started` is no
 * older than `since`, seconds since the epoch) from its start iteration, a resume it made from
 * the step after the resume point, otherwise null (a resumed run that was already done).
 */
export function trainedFrom(state: StorageState, since: number): number | null {
  const resume = state.info.resumes.at(-1);
  if (resume !== undefined && resume.wallTime >= since) return resume.iter + 1;
  const run = state.info.run;
  if (run !== null && run.wallTime >= since) return run.startIter;
  return null;
}

const percent = (x: number): string => `${(x * 100).toFixed(2)}%`;

/** The line saying what this process trained. */
export function trainingLine(f: DemoFacts): string {
  const on = `on ${f.backend} (${f.model}); test accuracy ${percent(f.testAccuracy)}`;
  if (f.trainedFrom === null) {
    const where = f.status === 'completed' ? `was already complete at step ${f.reached}` : `had already reached step ${f.reached} (--steps ${f.steps})`;
    return `run ${f.runId} "${f.runName}" ${where}; nothing to train. ${f.seconds.toFixed(1)} s ${on}`;
  }
  const trained = f.steps - f.trainedFrom;
  const range = f.trainedFrom > 0 ? ` (iterations ${f.trainedFrom}..${f.steps - 1}, resumed)` : '';
  return `trained ${trained} step${trained === 1 ? '' : 's'}${range} in ${f.seconds.toFixed(1)} s ${on}`;
}

/**
 * Lines for stderr and the exit status: 1 when the replayed metrics.json differs from the live
 * one (the demo's point), or when a full-length run misses the accuracy bar; a shorter run's
 * accuracy is information, not a failure.
 */
export function demoVerdict(f: DemoFacts): { readonly exitCode: 0 | 1; readonly notes: readonly string[]; readonly errors: readonly string[] } {
  const notes: string[] = [];
  const errors: string[] = [];
  if (!f.replayIdentical) errors.push('the metrics.json replayed from the log differs from the live one');
  if (f.steps >= FULL_DEMO_STEPS) {
    if (!(f.testAccuracy >= ACCURACY_BAR)) errors.push(`test accuracy ${percent(f.testAccuracy)} is below the demo's ${percent(ACCURACY_BAR)} bar for a full-length run (${FULL_DEMO_STEPS} steps)`);
  } else {
    notes.push(`a ${f.steps}-step run is shorter than the full demo (${FULL_DEMO_STEPS} steps), so its test accuracy is not checked against the ${percent(ACCURACY_BAR)} bar`);
  }
  return { exitCode: errors.length > 0 ? 1 : 0, notes, errors };
}
