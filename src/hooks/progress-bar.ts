import cliProgress from 'cli-progress';
import { HookBase } from '../engine/hook-base.js';
import type { HistoryBuffer } from '../storage/history-buffer.js';

export interface ProgressBarOptions {
  readonly stream?: NodeJS.WriteStream;
  /** Metric shown, smoothed over `window` iterations. Default `total_loss`. */
  readonly metric?: string;
  readonly window?: number;
  /** Force on or off; default: on when the stream is a TTY. */
  readonly enabled?: boolean;
}

/**
 * A terminal progress bar (cli-progress): iteration, rate, ETA and the smoothed loss. Off when
 * the output is not a TTY (CI logs, files), so it never floods a log with control codes.
 *
 * @example
 * ```ts
 * trainer.register(new ProgressBar({ metric: 'total_loss' }));
 * ```
 */
export class ProgressBar extends HookBase {
  readonly enabled: boolean;
  readonly metric: string;
  readonly window: number;
  readonly #stream: NodeJS.WriteStream;
  #bar: cliProgress.SingleBar | null = null;
  #lastRender = 0;
  #t0 = 0;

  constructor(options: ProgressBarOptions = {}) {
    super();
    this.#stream = options.stream ?? process.stderr;
    this.enabled = options.enabled ?? this.#stream.isTTY === true;
    this.metric = options.metric ?? 'total_loss';
    this.window = options.window ?? 20;
    if (!this.enabled) {
      // A disabled bar costs nothing per step.
      this.beforeTrain = () => {};
      this.afterStep = () => {};
      this.afterTrain = () => {};
    }
  }

  override beforeTrain(): void {
    const { startIter, maxIter } = this.trainer.state;
    this.#bar = new cliProgress.SingleBar(
      {
        stream: this.#stream,
        format: ' {bar} {value}/{total} iter | {rate} it/s | eta {eta_formatted} | {metric} {loss}',
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 100,
        fps: 10,
        noTTYOutput: !this.#stream.isTTY,
      },
      cliProgress.Presets.shades_classic,
    );
    this.#bar.start(maxIter, startIter, { rate: '-', metric: this.metric, loss: '-' });
    this.#lastRender = this.#t0 = performance.now();
  }

  override afterStep(): void {
    const now = performance.now();
    const { iter, startIter, maxIter, storage } = this.trainer.state;
    const done = iter + 1;
    if (now - this.#lastRender < 100 && done !== maxIter) return;
    let loss = '-';
    const { metrics } = storage.state;
    const at = metrics.index.get(this.metric);
    if (at !== undefined) {
      const h: HistoryBuffer = metrics.histories[at]!;
      loss = h.median(h.countSince(this.window)).toPrecision(4);
    }
    const rate = (done - startIter) / Math.max(1e-3, (now - this.#t0) / 1000);
    this.#bar?.update(done, { rate: rate.toFixed(1), loss, metric: this.metric });
    this.#lastRender = now;
  }

  override afterTrain(): void {
    this.#bar?.stop();
    this.#bar = null;
  }
}
