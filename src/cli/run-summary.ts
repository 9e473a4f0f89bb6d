import type { LogFile } from '../log/log-file.js';
import { decodeBatch } from '../log/batch-codec.js';
import type { HostInfo, RunStartedData, TrainEvent } from '../events/train-event.js';
import { configDigest, type ConfigDigest } from './run-info.js';

/** One line of `trainledger runs`. */
export interface RunSummary {
  readonly id: number;
  readonly name: string;
  readonly status: string;
  readonly detail: string | null;
  /** Iterations finished (last step + 1), or 0. */
  readonly iterations: number;
  /**
   * Max iter of the latest (re)start. A resume does not record its max iter, so after one this
   * is known only once the run completed (it then reached it), and null before.
   */
  readonly maxIter: number | null;
  readonly startedAt: number | null;
  readonly seconds: number | null;
  /** Median of total_loss over its samples in the last `window` iterations. */
  readonly lastLoss: number | null;
  /** Its config (hyper-parameters) in brief: key count and hash (`show` prints it whole). */
  readonly config: ConfigDigest | null;
  /** Host, runtime and code versions recorded when it started. */
  readonly host: HostInfo | null;
}

const TAIL_BATCHES = 64;

/**
 * Summarizes a run from its first and last batches only, so listing a log with long runs stays
 * instant: status from the end event (or `running`/`crashed`, see `liveness`), iterations from
 * the last step, the smoothed loss from the last batches.
 *
 * @example
 * ```ts
 * for (const r of log.runs()) console.log(summarizeRun(log, r.id));
 * ```
 */
export function summarizeRun(log: LogFile, runId: number, window = 20, liveness: (runId: number) => boolean = () => false): RunSummary {
  const run = log.run(runId);
  const head = [...log.batches(runId, 0, 2)];
  const tail = log.lastBatches(runId, TAIL_BATCHES);
  // Read after the batches: a name is committed with the batch that first uses it.
  const names = log.names(runId);
  let started: RunStartedData | null = null;
  for (const b of head) {
    for (const e of decodeBatch(b.body, names)) if (e.type === 'run-started') started = e.data;
  }
  const events: TrainEvent[] = tail.flatMap((b) => decodeBatch(b.body, names));
  let lastStep: { iter: number; wallTime: number } | null = null;
  let end: TrainEvent | null = null;
  const losses: Array<[number, number]> = [];
  for (const e of events) {
    if (e.type === 'step') lastStep = e.data;
    else if (e.type === 'run-completed' || e.type === 'run-failed' || e.type === 'run-stopped') end = e;
    else if (e.type === 'resumed') end = null;
    else if (e.type === 'scalar' && e.data.name === 'total_loss') losses.push([e.data.value, e.data.iter]);
  }
  let lastLoss: number | null = null;
  if (losses.length > 0) {
    const lastIter = losses[losses.length - 1]![1];
    const w = losses.filter(([, it]) => it > lastIter - window).map(([v]) => v).sort((a, b) => a - b);
    const mid = w.length >> 1;
    lastLoss = w.length % 2 ? w[mid]! : (w[mid - 1]! + w[mid]!) / 2;
  }
  let status = 'running';
  let detail: string | null = null;
  if (end?.type === 'run-completed') status = 'completed';
  else if (end?.type === 'run-failed') {
    status = 'failed';
    detail = end.data.message;
  } else if (end?.type === 'run-stopped') {
    status = 'stopped';
    detail = end.data.reason;
  } else if (!liveness(runId)) status = 'crashed';
  const endTime = end !== null && 'wallTime' in end.data ? end.data.wallTime : lastStep?.wallTime;
  // run-started's max iter holds until a resume, which may have trained on to another one.
  let maxIter = log.rewinds(runId).length > 0 ? null : (started?.maxIter ?? null);
  if (end?.type === 'run-completed') maxIter = end.data.iter;
  return {
    id: run.id,
    name: run.name,
    status,
    detail,
    iterations: lastStep ? lastStep.iter + 1 : 0,
    maxIter,
    startedAt: started?.wallTime ?? run.createdAt,
    seconds: endTime !== undefined && started ? endTime - started.wallTime : null,
    lastLoss,
    config: configDigest(started?.config),
    host: started?.host ?? null,
  };
}
