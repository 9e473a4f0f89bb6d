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
import { TrainledgerError } from '../errors/trainledger-error.js';
import { formatTimedelta } from '../util/format.js';
import { exportRun } from './export-run.js';
import { summarizeRun } from './run-summary.js';
import { diffRuns } from './diff-runs.js';
import { cliErrorLine, TailNotReadyError, writingTo } from './errors.js';
import { checkExportTarget, LogFiles } from './export-targets.js';
import { checkIter, checkMetrics, checkNames, FORMATS, parseChoice, parseIntArg, parseNonNegativeNumber } from './arguments.js';
import { describeState, fmt } from './describe-state.js';
import { NOT_YET, openRun, openRunWaiting, RUN_HELP } from './open-run.js';
import { tail } from './tail-run.js';
import { packageVersion } from './package-version.js';
import { configDigest, flattenConfig, formatDigest, formatHost } from './run-info.js';
import type { RunStartedData } from '../events/train-event.js';
import type { CliIO } from './cli-io.js';

/** `openRun` for `tail` without `--wait`: a log or run that is not there yet says `--wait` would wait. */
function openRunOrSayWait(path: string, ref: string | undefined): { log: LogFile; runId: number } {
  try {
    return openRun(path, ref);
  } catch (e) {
    if (e instanceof TrainledgerError && NOT_YET.has(e.code)) throw new TailNotReadyError(e);
    throw e;
  }
}

/** `show`'s lines on the run: its config whole (one key a line) and its host and code. */
function describeRun(run: RunStartedData | null): string[] {
  if (run === null) return [];
  const config = flattenConfig(run.config ?? null);
  const width = Math.max(0, ...config.map(([k]) => k.length));
  const digest = configDigest(run.config);
  return [
    digest === null ? 'config: none recorded' : `config (${formatDigest(digest)}):`,
    ...(digest === null ? [] : config.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)),
    `host: ${formatHost(run.host)}`,
  ];
}

/** Exit status a command sets without throwing (e.g. `diff` found a divergence). */
interface ExitStatus {
  code: number;
}

export type { CliIO } from './cli-io.js';
export { cliErrorLine, IterationOutOfRangeError } from './errors.js';
export { describeState } from './describe-state.js';
export { diffStates, type DiffResult } from './diff-runs.js';

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
    .version(packageVersion(), '-V, --version', 'print the trainledger version')
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
        const table = new Table({ head: ['id', 'name', 'status', 'iterations', 'started', 'duration', 'last loss', 'config', 'host'], style: { head: [], border: [], compact: true } });
        for (const r of rows) {
          table.push([
            r.id,
            r.name,
            r.detail ? `${r.status}: ${r.detail.split('\n')[0]!.slice(0, 40)}` : r.status,
            r.maxIter !== null ? `${r.iterations}/${r.maxIter}` : r.iterations,
            r.startedAt ? new Date(r.startedAt * 1000).toISOString().replace('T', ' ').slice(0, 19) : '-',
            r.seconds !== null ? formatTimedelta(r.seconds) : '-',
            r.lastLoss !== null ? fmt(r.lastLoss) : '-',
            formatDigest(r.config),
            r.host?.hostname ?? '-',
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
        let state;
        try {
          ({ state } = replayRun(log, runId, { untilIter: o.iter, cache }));
        } finally {
          cache?.close();
        }
        const d = describeState(state, o.window) as { iter: number; status: string; metrics: Record<string, Record<string, number | boolean>> };
        if (o.format === 'json') {
          io.out(JSON.stringify(d, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2));
          return;
        }
        const table = new Table({ head: ['metric', 'latest', '@iter', 'smoothed', 'median', 'avg', 'global avg', 'samples'], style: { head: [], border: [], compact: true } });
        for (const [name, s] of Object.entries(d.metrics)) {
          table.push([name, fmt(s.latest as number), s.iter as number, fmt(s.smoothed as number), fmt(s.median as number), fmt(s.avg as number), fmt(s.globalAvg as number), s.samples as number]);
        }
        io.out([`run ${runId} after iteration ${state.iter - 1} (status ${state.info.status})`, ...describeRun(state.info.run), table.toString()].join('\n'));
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
      const { log, runId } = o.wait ? await openRunWaiting(path, o.run, o.interval, (what) => io.err(`tail: waiting for ${what} (Ctrl-C to stop)`)) : openRunOrSayWait(path, o.run);
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
    .option('--include-timing', 'also compare time, data_time, rank_data_time, eta_seconds, memory/*')
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
    .description('curves of metrics, raw and smoothed, to SVG or PNG; several logs or runs are overlaid')
    .argument('<logs...>', 'log files, each LOG or LOG:RUN (RUN an id or name; otherwise --run, else the last run)')
    .requiredOption('--metric <names...>', 'metrics to plot (one panel each)')
    .requiredOption('--out <file>', 'output .svg or .png (replaces only a chart plot wrote before, unless --force)')
    .option('--run <run>', RUN_HELP)
    .option('--window <n>', 'smoothing window', parseIntArg('--window', 1), 20)
    .option('--log-scale', 'log y axis (values <= 0 are left out, and the axis title says how many)')
    .option('--force', 'replace an existing --out file that plot did not write (never the log or its files)')
    .action(async (paths: string[], o: { metric: string[]; out: string; run?: string; window: number; force?: boolean; logScale?: boolean }) => {
      // vega and resvg are loaded only when the chart is drawn (optional packages).
      const { plotCommand } = await import('./plot-metrics.js');
      await plotCommand(paths, o, io);
    });

  return program;
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
