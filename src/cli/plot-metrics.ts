import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { checkExportTarget, LogFiles, markPlot } from './export-targets.js';
import { writingTo } from './errors.js';
import { checkMetrics, checkNames } from './arguments.js';
import { openRun } from './open-run.js';
import type { CliIO } from './cli-io.js';
import { metricChart, overlayChart, type ChartSource, type PlotMetricsOptions } from '../plot/metric-chart.js';
import { renderMetricChart } from '../plot/render-metric-chart.js';
import type { ChartModuleLoader } from '../plot/chart-libraries.js';
import type { MetricChartSpec } from '../plot/metric-chart-spec.js';
import { replayRun } from '../log/replay.js';
import { SnapshotCache } from '../log/snapshot-cache.js';
import type { StorageState } from '../storage/storage-state.js';
import { InvalidArgumentError } from '../errors/trainledger-error.js';
import { startReplacement } from '../writers/keep-lines.js';

/**
 * Renders curves of the given metrics (raw and smoothed) from a state to SVG or PNG: the chart
 * of `metricChart`.
 *
 * @example
 * ```ts
 * await plotMetrics(state, [['total_loss'], ['test/accuracy']], 'out/curves.png');
 * ```
 */
export async function plotMetrics(state: StorageState, panels: ReadonlyArray<readonly string[]>, out: string, window = 20, options: PlotMetricsOptions = {}): Promise<string> {
  return writeChart(metricChart(state, panels, window, options), out);
}

/** Renders `chart` to `out` (SVG or PNG by its extension), replacing it only once the new file is whole. */
async function writeChart(chart: MetricChartSpec, out: string, loader?: ChartModuleLoader): Promise<string> {
  const format = out.endsWith('.svg') ? 'svg' : 'png';
  const bytes = markPlot(await renderMetricChart(chart, format, loader === undefined ? {} : { loader }), format);
  writingTo(out, () => {
    mkdirSync(dirname(out), { recursive: true });
    const r = startReplacement(out);
    try {
      writeFileSync(r.tmp, bytes);
      r.commit();
    } catch (e) {
      r.abandon();
      throw e;
    }
  });
  return out;
}

/** Options of the `plot` command. */
export interface PlotCommandOptions {
  readonly metric: readonly string[];
  readonly out: string;
  /** The run of every source that does not name its own. */
  readonly run?: string;
  readonly window: number;
  readonly force?: boolean;
  readonly logScale?: boolean;
}

/**
 * A `plot` source: `LOG` or `LOG:RUN`. A path that exists is a log as a whole (so a log whose
 * name holds a colon still works); otherwise the part after the first colon that ends an
 * existing path names the run (which may be `name:NAME` or `id:N`, as `--run` takes).
 *
 * @example
 * ```ts
 * parsePlotSource('runs/a.sqlite:mlp', undefined); // { path: 'runs/a.sqlite', run: 'mlp' } (when runs/a.sqlite exists)
 * ```
 */
export function parsePlotSource(arg: string, run: string | undefined): { readonly path: string; readonly run: string | undefined } {
  if (existsSync(arg)) return { path: arg, run };
  // The first colon after which a log exists: the run may hold colons too (`name:1`, `id:3`).
  for (let colon = arg.indexOf(':'); colon > 0; colon = arg.indexOf(':', colon + 1)) {
    if (existsSync(arg.slice(0, colon))) return { path: arg.slice(0, colon), run: arg.slice(colon + 1) };
  }
  return { path: arg, run };
}

/**
 * `trainledger plot LOG[:RUN]... --metric M... --out F`: one panel per metric, one raw and one
 * smoothed line per run (several runs, of one log or of several, are overlaid and named in the
 * legend by run name, or `log:run` when two share a name).
 */
export async function plotCommand(sources: readonly string[], o: PlotCommandOptions, io: CliIO, loader?: ChartModuleLoader): Promise<void> {
  if (!/\.(svg|png)$/.test(o.out)) throw new InvalidArgumentError(`--out must end in .svg or .png, got ${JSON.stringify(o.out)}`);
  if (sources.length === 0) throw new InvalidArgumentError('plot needs at least one log (LOG or LOG:RUN)');
  const loaded: Array<{ readonly path: string; readonly name: string; readonly state: StorageState }> = [];
  for (const arg of sources) {
    const source = parsePlotSource(arg, o.run);
    const { log, runId } = openRun(source.path, source.run);
    try {
      writingTo(o.out, () => checkExportTarget('--out', 'Plot', o.out, new LogFiles(source.path), o.force ?? false));
      checkNames('--metric', o.metric, log.names(runId), runId, source.path);
      // Only the plotted metrics are folded (a long, wide run's other series cost a walk, not
      // memory), from the nearest snapshot when the cache has one (`show` or the run filled it).
      const cache = SnapshotCache.open(log);
      let state: StorageState;
      try {
        ({ state } = replayRun(log, runId, { metrics: [...o.metric], cache }));
      } finally {
        cache?.close();
      }
      checkMetrics('--metric', o.metric, state, runId, source.path);
      loaded.push({ path: source.path, name: state.info.run?.name ?? `run ${runId}`, state });
    } finally {
      log.close();
    }
  }
  const options: PlotMetricsOptions = o.logScale === true ? { logScale: true } : {};
  const chart =
    loaded.length === 1
      ? metricChart(loaded[0]!.state, o.metric.map((m) => [m]), o.window, options)
      : overlayChart(labelled(loaded), o.metric, o.window, options);
  const file = await writeChart(chart, o.out, loader);
  const hidden = chart.panels.flatMap((p) => p.series.filter((s) => (s.nonPositive ?? 0) > 0).map((s) => `${s.nonPositive} of ${p.title}${loaded.length > 1 ? ` (${s.name})` : ''}`));
  io.out(hidden.length > 0 ? `wrote ${file} (log scale: values ≤ 0 not drawn: ${hidden.join(', ')})` : `wrote ${file}`);
}

/** Legend names: the run's name, or `log:run` when two sources share it, or `#k` after that if still equal. */
function labelled(loaded: ReadonlyArray<{ readonly path: string; readonly name: string; readonly state: StorageState }>): ChartSource[] {
  const count = (xs: readonly string[], x: string): number => xs.filter((y) => y === x).length;
  const names = loaded.map((l) => l.name);
  const first = loaded.map((l) => (count(names, l.name) > 1 ? `${basename(l.path)}:${l.name}` : l.name));
  return loaded.map((l, i) => ({ label: count(first, first[i]!) > 1 ? `${first[i]!} #${i + 1}` : first[i]!, state: l.state }));
}
