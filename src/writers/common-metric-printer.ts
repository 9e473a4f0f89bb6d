import type { MetricWriter, WriterCursor } from '../projections/metric-writer.js';
import { event, type TrainEvent } from '../events/train-event.js';
import type { StorageState } from '../storage/storage-state.js';
import { historyOf } from '../storage/state-queries.js';
import { consoleLogger, type Logger } from '../util/logger.js';
import { formatG, formatTimedelta } from '../util/format.js';

export interface CommonMetricPrinterOptions {
  /** Smoothing window in iterations. Default 20. */
  readonly window?: number;
  readonly logger?: Logger;
}

function tryHistory(state: StorageState, name: string) {
  const at = state.metrics.index.get(name);
  return at === undefined ? undefined : state.metrics.histories[at];
}

/**
 * detectron2's CommonMetricPrinter: one line per write with ETA, smoothed losses, iteration
 * time, data time and learning rate:
 * ` eta: 0:01:02  iter: 19  total_loss: 0.5123  time: 0.0123  last_time: 0.0120  data_time: 0.0004  last_data_time: 0.0003  lr: 0.01`.
 * ETA is the median of the last 1000 `time` samples × the iterations left; it is also recorded
 * as `eta_seconds`. Nothing is printed at `iter === maxIter` (after training).
 *
 * @example
 * ```ts
 * new PeriodicWriter([new CommonMetricPrinter(1000)], 20);
 * ```
 */
export class CommonMetricPrinter implements MetricWriter {
  readonly id = 'printer';
  readonly maxIter: number | undefined;
  readonly window: number;
  readonly logger: Logger;
  #lastPrinted = -1;
  #lastWrite: { iter: number; at: number } | null = null;

  constructor(maxIter?: number, options: CommonMetricPrinterOptions = {}) {
    this.maxIter = maxIter;
    this.window = options.window ?? 20;
    this.logger = options.logger ?? consoleLogger;
  }

  write(state: StorageState): readonly TrainEvent[] | void {
    const iteration = state.iter;
    if (iteration === this.maxIter) return; // only reports progress, which is over
    const events: TrainEvent[] = [];
    const w = this.window;
    const dataHist = tryHistory(state, 'data_time');
    const timeHist = tryHistory(state, 'time');
    const lrHist = tryHistory(state, 'lr');
    let eta = '';
    if (this.maxIter !== undefined) {
      if (timeHist !== undefined) {
        const etaSeconds = timeHist.median(1000) * (this.maxIter - iteration - 1);
        events.push(event('scalar', { name: 'eta_seconds', value: etaSeconds, smoothingHint: false, iter: iteration }));
        eta = formatTimedelta(etaSeconds);
      } else {
        // No timer hook: estimate from the wall clock between writes (noisier).
        const now = performance.now() / 1000;
        if (this.#lastWrite !== null && iteration > this.#lastWrite.iter) {
          eta = formatTimedelta(((now - this.#lastWrite.at) / (iteration - this.#lastWrite.iter)) * (this.maxIter - iteration - 1));
        }
        this.#lastWrite = { iter: iteration, at: now };
      }
    }
    const smoothed = (name: string): string => {
      const h = historyOf(state, name);
      return `${name}: ${formatG(h.median(h.countSince(w)), 4)}`;
    };
    const losses = state.metrics.names.filter((n) => n.includes('loss')).map(smoothed).join('  ');
    const metrics = state.metrics.names.filter((n) => n.includes('[metric]')).map(smoothed).join('  ');
    const parts = [
      eta ? `eta: ${eta}  ` : '',
      `iter: ${iteration}  `,
      losses ? `${losses}  ` : '',
      metrics ? `${metrics}  ` : '',
      timeHist ? `time: ${timeHist.globalAvg.toFixed(4)}  last_time: ${timeHist.latest()[0].toFixed(4)}  ` : '',
      dataHist ? `data_time: ${dataHist.avg(dataHist.countSince(w)).toFixed(4)}  last_data_time: ${dataHist.latest()[0].toFixed(4)}  ` : '',
      `lr: ${lrHist ? formatG(lrHist.latest()[0], 5) : 'N/A'}  `,
    ];
    this.logger.info(' ' + parts.join('').trimEnd());
    this.#lastPrinted = iteration;
    return events;
  }

  cursor(): WriterCursor {
    return { iter: this.#lastPrinted };
  }

  restore(cursor: WriterCursor | null): void {
    this.#lastPrinted = cursor?.iter ?? -1;
    this.#lastWrite = null;
  }

  close(): void {}
}
