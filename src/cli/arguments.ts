import type { LogFile } from '../log/log-file.js';
import type { StorageState } from '../storage/storage-state.js';
import { InvalidArgumentError } from '../errors/trainledger-error.js';
import { IterationOutOfRangeError, MetricNotRecordedError } from './errors.js';

// Parsers commander calls on option values: each throws a one-line InvalidArgumentError naming the flag and the value.

export function parseIntArg(name: string, min = 0): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`${name} expects a ${min > 0 ? 'positive' : 'non-negative'} integer, got ${JSON.stringify(v)}`);
    }
    return n;
  };
}

export function parseNonNegativeNumber(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    // Number('') is 0 and Number('0x1f') is 31: only plain decimal text is a number here.
    if (!/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(v) || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} expects a number >= 0, got ${JSON.stringify(v)}`);
    return n;
  };
}

export function parseChoice(name: string, choices: readonly string[]): (v: string) => string {
  return (v) => {
    if (!choices.includes(v)) throw new InvalidArgumentError(`${name} expects one of ${choices.join(', ')}; got ${JSON.stringify(v)}`);
    return v;
  };
}

export const FORMATS = ['table', 'json'] as const;

export function checkMetrics(flag: string, names: readonly string[], state: StorageState, runId: number, logPath: string): void {
  for (const name of names) if (!state.metrics.index.has(name)) throw new MetricNotRecordedError(flag, name, runId, logPath, state.metrics.names);
}

export function checkNames(flag: string, names: readonly string[], known: readonly string[], runId: number, logPath: string): void {
  const has = new Set(known);
  for (const name of names) if (!has.has(name)) throw new MetricNotRecordedError(flag, name, runId, logPath, known);
}

/** Fails unless the run recorded a step at `iter`. */
export function checkIter(log: LogFile, runId: number, iter: number): void {
  const last = log.lastBatches(runId, 64).reduce((m, b) => (b.stepIter !== null ? Math.max(m, b.stepIter) : m), -1);
  if (iter > last) throw new IterationOutOfRangeError(iter, runId, last);
}
