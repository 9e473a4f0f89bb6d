#!/usr/bin/env node
/**
 * The `trainledger` command: inspect, replay, follow, compare and plot runs recorded in a log.
 * Every command opens the log read-only: nothing is ever written to a log here.
 */
import { Command, CommanderError } from 'commander';
import Table from 'cli-table3';
import { LogFile } from '../log/log-file.js';
import { replayRun } from '../log/replay.js';
import { SnapshotCache } from '../log/snapshot-cache.js';
import { decodeBatch } from '../log/batch-codec.js';
import { latestOf, latestWithSmoothingHintOf } from '../storage/event-storage.js';
import type { StorageState } from '../storage/storage-state.js';
import { evolveAll } from '../storage/evolve.js';
import { exportRun, plotMetrics } from './export-run.js';
import { summarizeRun } from './run-summary.js';
import { TrainledgerError } from '../errors/trainledger-error.js';
import { formatG, formatTimedelta } from '../util/format.js';
import type { TrainEvent } from '../events/train-event.js';

/** An iteration outside what the run recorded. */
export class IterationOutOfRangeError extends TrainledgerError {
  constructor(iter: number, runId: number, last: number) {
    super('ERR_ITERATION_OUT_OF_RANGE', `run ${runId} has no iteration ${iter}: its recorded steps are 0..${last}`);
  }
}

export interface CliIO {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/** Exit status a command sets without throwing (e.g. `diff` found a divergence). */
interface ExitStatus {
  code: number;
}

const TIMING = /^(time|data_time|eta_seconds|memory\/)/;

function openRun(path: string, ref: string | undefined): { log: LogFile; runId: number } {
  const log = LogFile.open(path, { readonly: true });
  try {
    const runs = log.runs();
    if (ref === undefined) {
      const last = runs.at(-1);
      if (!last) throw new TrainledgerError('ERR_UNKNOWN_RUN', `${path} has no runs yet`);
      return { log, runId: last.id };
    }
    return { log, runId: log.run(ref).id };
  } catch (e) {
    log.close();
    throw e;
  }
}

function parseIntArg(name: string): (v: string) => number {
  return (v) => {
    if (!/^\d+$/.test(v)) throw new TrainledgerError('ERR_INVALID_ARGUMENT', `${name} expects a non-negative integer, got ${JSON.stringify(v)}`);
    return Number(v);
  };
}

function fmt(v: number): string {
  return Number.isFinite(v) ? formatG(v, 6) : String(v);
}

/** The storage state at iteration N, as JSON-friendly records (used by `show`). */
export function describeState(state: StorageState, window = 20): Record<string, unknown> {
  const latest = latestOf(state);
  const smoothed = latestWithSmoothingHintOf(state, window);
  const metrics: Record<string, unknown> = {};
  const m = state.metrics;
  for (let i = 0; i < m.names.length; i++) {
    const name = m.names[i]!;
    const h = m.histories[i]!;
    const n = h.countSince(window);
    metrics[name] = {
      latest: latest[name]![0],
      iter: latest[name]![1],
      smoothed: smoothed[name]![0],
      smoothingHint: m.hints[i],
      samples: h.count,
      median: h.median(n),
      avg: h.avg(n),
      globalAvg: h.globalAvg,
    };
  }
  return { iter: state.iter, status: state.info.status, metrics };
}

function lineFor(state: StorageState, window: number): string {
  const smoothed = latestWithSmoothingHintOf(state, window);
  const parts = Object.entries(smoothed)
    .filter(([k]) => !/^memory\//.test(k))
    .map(([k, [v]]) => `${k}: ${fmt(v)}`);
  return `iter: ${state.iter - 1}  ${parts.join('  ')}`;
}

/**
 * Builds the CLI program (exported for tests, which run it in-process).
 *
 * @example
 * ```ts
 * await runCli(['runs', 'runs/demo.sqlite']);
 * ```
 */
export function buildProgram(io: CliIO, status: ExitStatus = { code: 0 }): Command {
  const program = new Command('trainledger')
    .description('Inspect, replay, follow, compare and plot training runs recorded in a trainledger log (read-only).')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  program
    .command('runs')
    .description('a table of the runs in a log')
    .argument('<log>', 'log file')
    .option('--format <f>', 'table | json', 'table')
    .action((path: string, o: { format: string }) => {
      const log = LogFile.open(path, { readonly: true });
      try {
        const rows = log.runs().map((r) => summarizeRun(log, r.id, 20, (id) => log.isLive(id)));
        if (o.format === 'json') {
          io.out(JSON.stringify(rows, null, 2));
          return;
        }
        const table = new Table({ head: ['id', 'name', 'status', 'iterations', 'started', 'duration', 'last loss'], style: { head: [], border: [], compact: true } });
        for (const r of rows) {
          table.push([
            r.id,
            r.name,
            r.detail ? `${r.status}: ${r.detail.split('\n')[0]!.slice(0, 40)}` : r.status,
            r.maxIter ? `${r.iterations}/${r.maxIter}` : r.iterations,
            r.startedAt ? new Date(r.startedAt * 1000).toISOString().replace('T', ' ').slice(0, 19) : '-',
            r.seconds !== null ? formatTimedelta(r.seconds) : '-',
            r.lastLoss !== null ? fmt(r.lastLoss) : '-',
          ]);
        }
        io.out(table.toString());
      } finally {
        log.close();
      }
    });

  program
    .command('replay')
    .description('regenerate exports of a run from its log, without training')
    .argument('<log>', 'log file')
    .option('--run <run>', 'run id or name (default: the last run)')
    .option('--until <n>', 'stop after iteration n', parseIntArg('--until'))
    .option('--json <file>', 'write metrics.json (detectron2 format)')
    .option('--csv <file>', 'write a long-format CSV')
    .option('--tensorboard <dir>', 'write TensorBoard event files')
    .option('--period <n>', 'write period when the run recorded no writer of that kind', parseIntArg('--period'))
    .action((path: string, o: { run?: string; until?: number; json?: string; csv?: string; tensorboard?: string; period?: number }) => {
      const { log, runId } = openRun(path, o.run);
      try {
        if (!o.json && !o.csv && !o.tensorboard) throw new TrainledgerError('ERR_INVALID_ARGUMENT', 'replay needs at least one of --json, --csv, --tensorboard');
        if (o.until !== undefined) checkIter(log, runId, o.until);
        const { written, state } = exportRun(log, runId, { untilIter: o.until, json: o.json, csv: o.csv, tensorboard: o.tensorboard, period: o.period });
        io.out(`replayed run ${runId} to iteration ${state.iter - 1}: ${written.join(', ')}`);
      } finally {
        log.close();
      }
    });

  program
    .command('show')
    .description('the storage state of a run at an iteration (after that step)')
    .argument('<log>', 'log file')
    .option('--run <run>', 'run id or name (default: the last run)')
    .option('--iter <n>', 'iteration (default: the end)', parseIntArg('--iter'))
    .option('--window <n>', 'smoothing window', parseIntArg('--window'), 20)
    .option('--format <f>', 'table | json', 'table')
    .action((path: string, o: { run?: string; iter?: number; window: number; format: string }) => {
      const { log, runId } = openRun(path, o.run);
      try {
        if (o.iter !== undefined) checkIter(log, runId, o.iter);
        const cache = SnapshotCache.open(log);
        const { state } = replayRun(log, runId, { untilIter: o.iter, cache });
        cache?.close();
        const d = describeState(state, o.window) as { iter: number; status: string; metrics: Record<string, Record<string, number | boolean>> };
        if (o.format === 'json') {
          io.out(JSON.stringify(d, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2));
          return;
        }
        const table = new Table({ head: ['metric', 'latest', '@iter', 'smoothed', 'median', 'avg', 'global avg', 'samples'], style: { head: [], border: [], compact: true } });
        for (const [name, s] of Object.entries(d.metrics)) {
          table.push([name, fmt(s.latest as number), s.iter as number, fmt(s.smoothed as number), fmt(s.median as number), fmt(s.avg as number), fmt(s.globalAvg as number), s.samples as number]);
        }
        io.out(`run ${runId} after iteration ${state.iter - 1} (status ${state.info.status})\n${table.toString()}`);
      } finally {
        log.close();
      }
    });

  program
    .command('tail')
    .description('follow a run from another process, a line per write period; exits when the run ends')
    .argument('<log>', 'log file')
    .option('--run <run>', 'run id or name (default: the last run)')
    .option('--interval <ms>', 'poll interval', parseIntArg('--interval'), 500)
    .option('--window <n>', 'smoothing window', parseIntArg('--window'), 20)
    .action(async (path: string, o: { run?: string; interval: number; window: number }) => {
      const { log, runId } = openRun(path, o.run);
      try {
        await tail(log, runId, o.interval, o.window, io);
      } finally {
        log.close();
      }
    });

  program
    .command('diff')
    .description('the first iteration at which two runs diverge (timing metrics are ignored)')
    .argument('<logA>', 'first log')
    .argument('<logB>', 'second log')
    .option('--run-a <run>', 'run in the first log (default: the last)')
    .option('--run-b <run>', 'run in the second log (default: the last)')
    .option('--tolerance <t>', 'largest |a − b| still equal', Number, 0)
    .option('--include-timing', 'also compare time, data_time, eta_seconds, memory/*')
    .option('--metric <names...>', 'compare only these metrics')
    .action((pathA: string, pathB: string, o: { runA?: string; runB?: string; tolerance: number; includeTiming?: boolean; metric?: string[] }) => {
      if (!(o.tolerance >= 0)) throw new TrainledgerError('ERR_INVALID_ARGUMENT', `--tolerance expects a number >= 0, got ${o.tolerance}`);
      const a = openRun(pathA, o.runA);
      const b = openRun(pathB, o.runB);
      try {
        const sa = replayRun(a.log, a.runId).state;
        const sb = replayRun(b.log, b.runId).state;
        const result = diffStates(sa, sb, o.tolerance, o.includeTiming ?? false, o.metric);
        if (result.first === null) {
          io.out(`no divergence: ${result.metrics} metrics agree at ${result.compared} iterations (tolerance ${o.tolerance})${result.onlyIn.length ? `; only in one run: ${result.onlyIn.join(', ')}` : ''}`);
        } else {
          const f = result.first;
          io.out(`first divergence at iteration ${f.iter}: ${f.name} ${fmt(f.a)} vs ${fmt(f.b)} (|Δ| = ${fmt(Math.abs(f.a - f.b))}, tolerance ${o.tolerance})`);
          status.code = 1;
        }
      } finally {
        a.log.close();
        b.log.close();
      }
    });

  program
    .command('plot')
    .description('curves of metrics, raw and smoothed, to SVG or PNG')
    .argument('<log>', 'log file')
    .requiredOption('--metric <names...>', 'metrics to plot (one panel each)')
    .requiredOption('--out <file>', 'output .svg or .png')
    .option('--run <run>', 'run id or name (default: the last run)')
    .option('--window <n>', 'smoothing window', parseIntArg('--window'), 20)
    .action(async (path: string, o: { metric: string[]; out: string; run?: string; window: number }) => {
      if (!/\.(svg|png)$/.test(o.out)) throw new TrainledgerError('ERR_INVALID_ARGUMENT', `--out must end in .svg or .png, got ${JSON.stringify(o.out)}`);
      const { log, runId } = openRun(path, o.run);
      try {
        const { state } = replayRun(log, runId);
        const file = await plotMetrics(state, o.metric.map((m) => [m]), o.out, o.window);
        io.out(`wrote ${file}`);
      } finally {
        log.close();
      }
    });

  return program;
}

function checkIter(log: LogFile, runId: number, iter: number): void {
  const last = log.lastBatches(runId, 64).reduce((m, b) => (b.stepIter !== null ? Math.max(m, b.stepIter) : m), -1);
  if (iter > last) throw new IterationOutOfRangeError(iter, runId, last);
}

export interface DiffResult {
  readonly first: { readonly iter: number; readonly name: string; readonly a: number; readonly b: number } | null;
  readonly metrics: number;
  readonly compared: number;
  readonly onlyIn: readonly string[];
}

/**
 * Compares two states metric by metric at the iterations both recorded.
 *
 * @example
 * ```ts
 * diffStates(a, b, 1e-6, false).first; // null when they agree
 * ```
 */
export function diffStates(a: StorageState, b: StorageState, tolerance: number, includeTiming: boolean, only?: readonly string[]): DiffResult {
  let first: DiffResult['first'] = null;
  let metrics = 0;
  const iters = new Set<number>();
  const onlyIn: string[] = [];
  const names = new Set(only ?? [...a.metrics.names, ...b.metrics.names]);
  for (const name of names) {
    if (!includeTiming && only === undefined && TIMING.test(name)) continue;
    const ia = a.metrics.index.get(name);
    const ib = b.metrics.index.get(name);
    if (ia === undefined || ib === undefined) {
      onlyIn.push(name);
      continue;
    }
    metrics++;
    const vb = new Map(b.metrics.histories[ib]!.values().map(([v, it]) => [it, v]));
    for (const [va, it] of a.metrics.histories[ia]!.values()) {
      const other = vb.get(it);
      if (other === undefined) continue;
      iters.add(it);
      const same = Object.is(va, other) || Math.abs(va - other) <= tolerance;
      if (!same && (first === null || it < first.iter)) first = { iter: it, name, a: va, b: other };
    }
  }
  return { first, metrics, compared: iters.size, onlyIn };
}

async function tail(log: LogFile, runId: number, interval: number, window: number, io: CliIO): Promise<void> {
  // Catch up through the timeline, then follow new batches as they commit.
  let { state, lastSeq } = replayRun(log, runId);
  let rewinds = log.rewinds(runId).length;
  io.out(lineFor(state, window));
  const names = (): string[] => log.names(runId);
  for (;;) {
    if (['completed', 'failed', 'stopped'].includes(state.info.status)) {
      io.out(`run ${runId} ${state.info.status}${state.info.statusDetail ? `: ${state.info.statusDetail}` : ''} at iteration ${state.iter}`);
      return;
    }
    await new Promise((r) => setTimeout(r, interval));
    if (log.rewinds(runId).length !== rewinds) {
      // The run was resumed from a checkpoint: rebuild along the new timeline.
      rewinds = log.rewinds(runId).length;
      ({ state, lastSeq } = replayRun(log, runId));
      io.out(`resumed; ${lineFor(state, window)}`);
      continue;
    }
    const fresh = [...log.batches(runId, lastSeq + 1)];
    // Names are committed with the batch that first uses them: read them after the batches.
    const n = names();
    for (const batch of fresh) {
      const events: TrainEvent[] = decodeBatch(batch.body, n);
      let printed = false;
      for (const e of events) {
        if (e.type === 'writer-cursor' && !printed) {
          io.out(lineFor(state, window));
          printed = true;
        }
        state = evolveAll(state, [e]);
      }
      lastSeq = batch.seq;
    }
  }
}

/**
 * Runs the CLI with `argv`; returns the exit code. Errors print one line and exit non-zero.
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(process.argv.slice(2));
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIO = { out: (s) => process.stdout.write(s + '\n'), err: (s) => process.stderr.write(s + '\n') }): Promise<number> {
  const status: ExitStatus = { code: 0 };
  const program = buildProgram(io, status);
  try {
    await program.parseAsync(['node', 'trainledger', ...argv]);
    return status.code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof TrainledgerError) {
      io.err(`trainledger: ${e.message}`);
      return 2;
    }
    io.err(`trainledger: ${(e as Error)?.stack ?? String(e)}`);
    return 1;
  }
}
