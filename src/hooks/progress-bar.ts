import cliProgress from 'cli-progress';
import { HookBase } from '../engine/hook-base.js';
import type { HistoryBuffer } from '../storage/history-buffer.js';
import { TerminalLines } from './terminal-lines.js';

export interface ProgressBarOptions {
  readonly stream?: NodeJS.WriteStream;
  /** Metric shown, smoothed over `window` iterations. Default `total_loss`. */
  readonly metric?: string;
  readonly window?: number;
  /** Force on or off; default: on when the stream is a TTY. */
  readonly enabled?: boolean;
  /**
   * Streams other code writes lines to on the same terminal; while the bar is shown, their lines
   * go above it. Default `process.stdout` and `process.stderr` (only TTYs are ever touched).
   */
  readonly shared?: readonly NodeJS.WriteStream[];
}

/**
 * A terminal progress bar (cli-progress): iteration, rate, ETA and the smoothed loss. Off when
 * the output is not a TTY (CI logs, files), so it never floods a log with control codes.
 *
 * It stays on the terminal's last line: while it is shown, lines written to stdout or stderr
 * (CommonMetricPrinter, loggers, `console.log`) are printed above it, never over it
 * (`TerminalLines`). After training its final state is left as a line of its own, and whatever
 * is printed next starts below it.
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
  readonly #shared: readonly NodeJS.WriteStream[];
  #bars: cliProgress.MultiBar | null = null;
  #bar: cliProgress.SingleBar | null = null;
  #lines: TerminalLines | null = null;
  #lastRender = 0;
  #t0 = 0;

  constructor(options: ProgressBarOptions = {}) {
    super();
    this.#stream = options.stream ?? process.stderr;
    this.#shared = options.shared ?? [process.stdout, process.stderr];
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
    const lines = new TerminalLines(this.#stream, this.#shared);
    // A MultiBar of one: SingleBar saves the cursor when it starts and restores it when it stops,
    // which puts the next output on top of every line printed in between.
    const bars = new cliProgress.MultiBar(
      {
        stream: lines.statusStream,
        format: ' {bar} {value}/{total} iter | {rate} it/s | eta {eta_formatted} | {metric} {loss}',
        // A hidden cursor would stay hidden after Ctrl-C (the default SIGINT ends the process at once).
        hideCursor: false,
        // Trim the bar to the terminal's width; never switch the terminal's line wrapping off,
        // which would cut every other line at the right edge too.
        linewrap: true,
        // Drawn again after every other line (the line under it was cleared), not only on change.
        forceRedraw: true,
        clearOnComplete: false,
        etaBuffer: 100,
        fps: 10,
        // Forced on for a stream that is not a TTY: a frame a line, no control codes.
        noTTYOutput: !this.#stream.isTTY,
      },
      cliProgress.Presets.shades_classic,
    );
    this.#bars = bars;
    this.#lines = lines;
    lines.install(() => bars.update());
    this.#bar = bars.create(maxIter, startIter, { rate: '-', metric: this.metric, loss: '-' });
    bars.update();
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
    // Other writers back to their own streams, then the final frame and a newline: what is
    // printed next starts below the bar.
    this.#lines?.uninstall();
    this.#bars?.stop();
    this.#bars = null;
    this.#bar = null;
    this.#lines = null;
  }
}
