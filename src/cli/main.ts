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
import { exportRun } from './export-run.js';
import { plotMetrics } from './plot-metrics.js';
import { summarizeRun } from './run-summary.js';
import { diffRuns } from './diff-runs.js';
import { InvalidArgumentError, TrainledgerError } from '../errors/trainledger-error.js';
import { cliErrorLine, MetricNotRecordedError, writingTo } from './cli-errors.js';
import { checkExportTarget, LogFiles } from './export-targets.js';
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

export { cliErrorLine } from './cli-errors.js';
export { diffStates, type DiffResult } from './diff-runs.js';

const RUN_HELP = 'run id or name (default: the last run); a digit string is an id: say id:N or name:NAME to choose (a run named "1" is name:1)';

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

// A log that is being created is briefly no log yet (no schema, a header not yet written out).
const NOT_YET_A_LOG_GRACE_MS = 5000;

/** `openRun` that waits, polling, until the log exists and has the run (`tail --wait`). */
async function openRunWaiting(path: string, ref: string | undefined, interval: number): Promise<{ log: LogFile; runId: number }> {
  let notALogSince: number | null = null;
  for (;;) {
    try {
      return openRun(path, ref);
    } catch (e) {
      const code = e instanceof TrainledgerError ? e.code : null;
      if (code === 'ERR_NOT_A_LOG' || code === 'ERR_LOG_CORRUPT') {
        notALogSince ??= Date.now();
        if (Date.now() - notALogSince > NOT_YET_A_LOG_GRACE_MS) throw e;
      } else if (code !== 'ERR_LOG_NOT_FOUND' && code !== 'ERR_UNKNOWN_RUN') throw e;
    }
    await sleep(interval);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function parseIntArg(name: string, min = 0): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`${name} expects a ${min > 0 ? 'positive' : 'non-negative'} integer, got ${JSON.stringify(v)}`);
    }
    return n;
  };
}

function parseNonNegativeNumber(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    // Number('') is 0 and Number('0x1f') is 31: only plain decimal text is a number here.
    if (!/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(v) || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} expects a number >= 0, got ${JSON.stringify(v)}`);
    return n;
  };
}

function parseChoice(name: string, choices: readonly string[]): (v: string) => string {
  return (v) => {
    if (!choices.includes(v)) throw new InvalidArgumentError(`${name} expects one of ${choices.join(', ')}; got ${JSON.stringify(v)}`);
    return v;
  };
}

const FORMATS = ['table', 'json'] as const;

function checkMetrics(flag: string, names: readonly string[], state: StorageState, runId: number, logPath: string): void {
  for (const name of names) if (!state.metrics.index.has(name)) throw new MetricNotRecordedError(flag, name, runId, logPath, state.metrics.names);
}

function checkNames(flag: string, names: readonly string[], known: readonly string[], runId: number, logPath: string): void {
  const has = new Set(known);
  for (const name of names) if (!has.has(name)) throw new MetricNotRecordedError(flag, name, runId, logPath, known);
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

/** A tail line: the smoothed latest metrics, as a writer writing at `iter` writes them. */
function lineFor(state: StorageState, window: number, iter: number): string {
  const smoothed = latestWithSmoothingHintOf(state, window);
  const parts = Object.entries(smoothed)
    .filter(([k]) => !/^memory\//.test(k))
    .map(([k, [v]]) => `${k}: ${fmt(v)}`);
  return `iter: ${iter}  ${parts.join('  ')}`;
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
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .addHelpText('after', '\nExit status: 0 done; 1 a negative answer (diff: the runs diverge; tail: the run failed or crashed); 2 a usage or input error (one line on stderr).');

  program
    .command('runs')
    .description('a table of the runs in a log')
    .argument('<log>', 'log file')
    .option('--format <f>', 'table | json', parseChoice('--format', FORMATS), 'table')
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
            r.maxIter !== null ? `${r.iterations}/${r.maxIter}` : r.iterations,
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
    .option('--run <run>', RUN_HELP)
    .option('--until <n>', 'stop after iteration n', parseIntArg('--until'))
    .option('--json <file>', 'write metrics.json (detectron2 format)')
    .option('--csv <file>', 'write a long-format CSV')
    .option('--tensorboard <dir>', 'write a TensorBoard event file into <dir>/<run name>/ (only that file is ever replaced)')
    .option('--period <n>', 'write period when the run recorded no writer of that kind', parseIntArg('--period', 1))
    .option('--force', 'replace an existing output file that is not a previous export of its kind (never the log or its -wal, -shm, .snapshots files)')
    .addHelpText('after', '\nAn existing output is replaced, through a temp file and a rename, only when it is a previous export of the same kind: for --json every line a JSON object with an "iteration" (or empty), for --csv a file whose first line is iteration,name,value,wall_time (or empty), for --tensorboard a whole event file. Anything else needs --force.')
    .action((path: string, o: { run?: string; until?: number; json?: string; csv?: string; tensorboard?: string; period?: number; force?: boolean }) => {
      const { log, runId } = openRun(path, o.run);
      try {
        if (!o.json && !o.csv && !o.tensorboard) throw new TrainledgerError('ERR_INVALID_ARGUMENT', 'replay needs at least one of --json, --csv, --tensorboard');
        if (o.until !== undefined) checkIter(log, runId, o.until);
        const { written, state } = exportRun(log, runId, { untilIter: o.until, json: o.json, csv: o.csv, tensorboard: o.tensorboard, period: o.period, force: o.force });
        io.out(`replayed run ${runId} to iteration ${state.iter - 1}: ${written.join(', ')}`);
      } finally {
        log.close();
      }
    });

  program
    .command('show')
    .description('the storage state of a run at an iteration (after that step)')
    .argument('<log>', 'log file')
    .option('--run <run>', RUN_HELP)
    .option('--iter <n>', 'iteration (default: the end)', parseIntArg('--iter'))
    .option('--window <n>', 'smoothing window', parseIntArg('--window', 1), 20)
    .option('--format <f>', 'table | json', parseChoice('--format', FORMATS), 'table')
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
    .option('--run <run>', RUN_HELP)
    .option('--interval <ms>', 'poll interval', parseIntArg('--interval', 1), 500)
    .option('--window <n>', 'smoothing window', parseIntArg('--window', 1), 20)
    .option('--wait', 'wait for the log (and the run) to appear instead of failing')
    .addHelpText('after', '\nExit status: exit 0 when the run completed or stopped, 1 when it failed or crashed (its writer died without recording an end), 2 on a usage or input error.')
    .action(async (path: string, o: { run?: string; interval: number; window: number; wait?: boolean }) => {
      const { log, runId } = o.wait ? await openRunWaiting(path, o.run, o.interval) : openRun(path, o.run);
      try {
        status.code = await tail(log, runId, o.interval, o.window, io);
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
    .option('--tolerance <t>', 'largest |a − b| still equal', parseNonNegativeNumber('--tolerance'), 0)
    .option('--include-timing', 'also compare time, data_time, eta_seconds, memory/*')
    .option('--metric <names...>', 'compare only these metrics')
    .action((pathA: string, pathB: string, o: { runA?: string; runB?: string; tolerance: number; includeTiming?: boolean; metric?: string[] }) => {
      const a = openRun(pathA, o.runA);
      let b: { log: LogFile; runId: number } | undefined;
      try {
        b = openRun(pathB, o.runB);
        // Both logs are walked in step, never replayed whole (see diffRuns).
        const result = diffRuns(a.log, a.runId, b.log, b.runId, { tolerance: o.tolerance, includeTiming: o.includeTiming ?? false, only: o.metric });
        checkNames('--metric', o.metric ?? [], result.namesA, a.runId, pathA);
        checkNames('--metric', o.metric ?? [], result.namesB, b.runId, pathB);
        if (result.first === null) {
          io.out(`no divergence: ${result.metrics} metrics agree at ${result.compared} iterations (tolerance ${o.tolerance})${result.onlyIn.length ? `; only in one run: ${result.onlyIn.join(', ')}` : ''}`);
        } else {
          const f = result.first;
          io.out(`first divergence at iteration ${f.iter}: ${f.name} ${fmt(f.a)} vs ${fmt(f.b)} (|Δ| = ${fmt(Math.abs(f.a - f.b))}, tolerance ${o.tolerance})`);
          status.code = 1;
        }
      } finally {
        a.log.close();
        b?.log.close();
      }
    });

  program
    .command('plot')
    .description('curves of metrics, raw and smoothed, to SVG or PNG')
    .argument('<log>', 'log file')
    .requiredOption('--metric <names...>', 'metrics to plot (one panel each)')
    .requiredOption('--out <file>', 'output .svg or .png (replaces only a chart plot wrote before, unless --force)')
    .option('--run <run>', RUN_HELP)
    .option('--window <n>', 'smoothing window', parseIntArg('--window', 1), 20)
    .option('--force', 'replace an existing --out file that plot did not write (never the log or its files)')
    .action(async (path: string, o: { metric: string[]; out: string; run?: string; window: number; force?: boolean }) => {
      if (!/\.(svg|png)$/.test(o.out)) throw new TrainledgerError('ERR_INVALID_ARGUMENT', `--out must end in .svg or .png, got ${JSON.stringify(o.out)}`);
      const { log, runId } = openRun(path, o.run);
      try {
        writingTo(o.out, () => checkExportTarget('--out', 'Plot', o.out, new LogFiles(path), o.force ?? false));
        const { state } = replayRun(log, runId);
        checkMetrics('--metric', o.metric, state, runId, path);
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

const ENDED = new Set(['completed', 'failed', 'stopped']);

/** Follows a run until it ends; returns the exit status: 0 completed or stopped, 1 failed or crashed. */
async function tail(log: LogFile, runId: number, interval: number, window: number, io: CliIO): Promise<number> {
  // Catch up through the timeline, then follow new batches as they commit.
  let { state, lastSeq } = replayRun(log, runId);
  let rewinds = log.rewinds(runId).length;
  if (state.metrics.names.length > 0) io.out(lineFor(state, window, state.iter - 1));
  const names = (): string[] => log.names(runId);
  for (let writerGone = false; ; ) {
    if (ENDED.has(state.info.status)) {
      io.out(`run ${runId} ${state.info.status}${state.info.statusDetail ? `: ${state.info.statusDetail.split('\n')[0]}` : ''} at iteration ${state.iter}`);
      return state.info.status === 'failed' ? 1 : 0;
    }
    if (writerGone) {
      io.out(`run ${runId} crashed at iteration ${state.iter} (its writer is gone without recording an end)`);
      return 1;
    }
    await sleep(interval);
    // Asked before reading: whatever the writer committed before letting go is read below.
    writerGone = !log.isLive(runId);
    if (log.rewinds(runId).length !== rewinds) {
      // The run was resumed from a checkpoint: rebuild along the new timeline.
      rewinds = log.rewinds(runId).length;
      ({ state, lastSeq } = replayRun(log, runId));
      io.out(`resumed; ${lineFor(state, window, state.iter - 1)}`);
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
          // The writer's own iteration: the line metrics.json got at this write point.
          io.out(lineFor(state, window, e.data.iter));
          printed = true;
        }
        state = evolveAll(state, [e]);
      }
      lastSeq = batch.seq;
    }
  }
}

/**
 * Runs the CLI with `argv`; returns the exit code: 0 done, 1 a negative answer (diff found a
 * divergence, tail's run failed or crashed), 2 any error, printed as one line (see `cliErrorLine`).
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
    // Commander printed its own one-line message already.
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    const { line, code } = cliErrorLine(e);
    io.err(line);
    return code;
  }
}
