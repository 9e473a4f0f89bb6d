import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { renderMetricChart } from './render-metric-chart.js';
import type { MetricPanel } from './metric-chart-spec.js';
import { historyOf } from '../storage/event-storage.js';
import type { StorageState } from '../storage/storage-state.js';
import { startReplacement } from '../writers/keep-lines.js';
import { markPlot } from '../cli/export-targets.js';
import { writingTo } from '../cli/cli-errors.js';

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
  const bytes = markPlot(await renderMetricChart({ panels: specPanels, title: state.info.run?.name ?? undefined }, format), format);
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
