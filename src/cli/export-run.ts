import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { LogFile } from '../log/log-file.js';
import { replayRun } from '../log/replay.js';
import { JSONWriter } from '../writers/json-writer.js';
import { CSVWriter } from '../writers/csv-writer.js';
import { TensorBoardWriter } from '../writers/tensorboard-writer.js';
import { replayWriters, recordedWriterIds } from '../writers/replay-writers.js';
import type { MetricWriter } from '../writers/metric-writer.js';
import { renderMetricChart } from '../plot/render-metric-chart.js';
import type { MetricPanel } from '../plot/metric-chart-spec.js';
import { historyOf } from '../storage/event-storage.js';
import type { StorageState } from '../storage/storage-state.js';

export interface ExportOptions {
  readonly untilIter?: number;
  readonly json?: string;
  readonly csv?: string;
  readonly tensorboard?: string;
  /** Write points of this live writer id (default: the recorded one of the same kind). */
  readonly period?: number;
}

export interface ExportResult {
  readonly state: StorageState;
  readonly written: readonly string[];
}

function pick(ids: readonly string[], prefix: string): string | undefined {
  return ids.find((id) => id.startsWith(prefix));
}

/**
 * Regenerates exports of a run from its log: metrics.json, CSV and TensorBoard, each written
 * at the write points the live run recorded (so identical to the live files), or every
 * `period` iterations when the run had no such writer. Existing output files are replaced.
 *
 * @example
 * ```ts
 * exportRun(log, runId, { json: 'out/metrics.json', tensorboard: 'out/tb' });
 * ```
 */
export function exportRun(log: LogFile, runId: number, options: ExportOptions): ExportResult {
  const recorded = recordedWriterIds(log, runId);
  const writers: MetricWriter[] = [];
  const written: string[] = [];
  if (options.json) {
    rmSync(options.json, { force: true });
    writers.push(new JSONWriter(options.json, { id: pick(recorded, 'json:') ?? `json:${options.json}` }));
    written.push(options.json);
  }
  if (options.csv) {
    rmSync(options.csv, { force: true });
    writers.push(new CSVWriter(options.csv, { id: pick(recorded, 'csv:') ?? pick(recorded, 'json:') ?? `csv:${options.csv}` }));
    written.push(options.csv);
  }
  if (options.tensorboard) {
    rmSync(options.tensorboard, { recursive: true, force: true });
    mkdirSync(options.tensorboard, { recursive: true });
    writers.push(new TensorBoardWriter(options.tensorboard, { id: pick(recorded, 'tensorboard:') ?? pick(recorded, 'json:') ?? `tensorboard:${options.tensorboard}`, fileName: 'events.out.tfevents.trainledger' }));
    written.push(join(options.tensorboard, 'events.out.tfevents.trainledger'));
  }
  // A CSV or TensorBoard export of a run that only had a JSON writer follows the JSON writer's points.
  const state = writers.length > 0 ? replayWriters(log, runId, writers, { untilIter: options.untilIter, period: options.period }) : replayRun(log, runId, { untilIter: options.untilIter }).state;
  return { state, written };
}

/**
 * Renders curves of the given metrics (raw and smoothed) from a state to SVG or PNG.
 *
 * @example
 * ```ts
 * await plotMetrics(state, [['total_loss'], ['test/accuracy']], 'out/curves.png');
 * ```
 */
export async function plotMetrics(state: StorageState, panels: ReadonlyArray<readonly string[]>, out: string, window = 20): Promise<string> {
  const specPanels: MetricPanel[] = panels.map((names) => ({
    title: names.join(', '),
    series: names.map((name) => {
      const values = historyOf(state, name).values();
      const smoothed: Array<readonly [number, number]> = [];
      // Trailing median over `window` iterations, as the writers smooth.
      for (let i = 0; i < values.length; i++) {
        const lo = values[i]![1] - window;
        const w: number[] = [];
        for (let j = i; j >= 0 && values[j]![1] > lo; j--) w.push(values[j]![0]);
        w.sort((a, b) => a - b);
        const mid = w.length >> 1;
        smoothed.push([values[i]![1], w.length % 2 ? w[mid]! : (w[mid - 1]! + w[mid]!) / 2]);
      }
      return { name, points: values.map(([v, it]) => [it, v] as const), smoothed: values.length > 1 ? smoothed : undefined };
    }),
  }));
  const format = out.endsWith('.svg') ? 'svg' : 'png';
  const bytes = await renderMetricChart({ panels: specPanels, title: state.info.run?.name ?? undefined }, format);
  if (!existsSync(dirname(out))) mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, bytes);
  return out;
}
