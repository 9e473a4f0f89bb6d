import type { MetricWriter, WriterCursor, WriterSpec } from '../projections/metric-writer.js';
import { EventFileWriter } from './tensorboard/event-file-writer.js';
import { WallClock } from './wall-time.js';
import { smoothedSince } from './smoothed-since.js';
import type { ResumedData, RunStartedData } from '../events/train-event.js';
import type { StorageState } from '../storage/storage-state.js';

export interface TensorBoardWriterOptions {
  /** Smoothing window in iterations. Default 20. */
  readonly window?: number;
  /** Event file name (default: TensorFlow's `events.out.tfevents.<time>.<host>`). */
  readonly fileName?: string;
  readonly id?: string;
  /**
   * Whether each write waits until its events are on disk (fsync). Default true. An export,
   * renamed into place only once it is whole, needs that only once, at `close`.
   */
  readonly fsync?: boolean;
}

/**
 * Writes scalars as TensorBoard event files (detectron2's TensorboardXWriter): the smoothed latest
 * value of every metric put since the last write, at its iteration, stamped with the wall time
 * of that step. On resume it writes a `SessionLog START` at the resumed step, so TensorBoard
 * discards points a crashed process had written past it; a fresh run writes one at its start
 * iteration, for the same reason.
 *
 * @example
 * ```ts
 * new PeriodicWriter([new TensorBoardWriter('runs/tb')]);
 * ```
 */
export class TensorBoardWriter implements MetricWriter {
  readonly id: string;
  readonly dir: string;
  readonly window: number;
  readonly #fileName: string | undefined;
  readonly #fsync: boolean;
  #file: EventFileWriter | null = null;
  #lastWrite = -1;

  constructor(dir: string, options: TensorBoardWriterOptions = {}) {
    this.dir = dir;
    this.window = options.window ?? 20;
    this.#fileName = options.fileName;
    this.#fsync = options.fsync ?? true;
    this.id = options.id ?? `tensorboard:${dir}`;
  }

  #open(wallTime: number): EventFileWriter {
    return (this.#file ??= new EventFileWriter(this.dir, { fileName: this.#fileName, wallTime }));
  }

  write(state: StorageState): void {
    const byIter = new Map<number, Array<[string, number]>>();
    const latest = smoothedSince(state, this.window, this.#lastWrite);
    for (const [name, [value, iter]] of Object.entries(latest)) {
      let list = byIter.get(iter);
      if (!list) byIter.set(iter, (list = []));
      list.push([name, value]);
    }
    if (byIter.size === 0) return;
    const iters = [...byIter.keys()].sort((a, b) => a - b);
    const clock = new WallClock(state);
    const file = this.#open(state.info.run?.wallTime ?? clock.at(iters[0]!));
    for (const it of iters) file.writeScalars(it, clock.at(it), byIter.get(it)!);
    file.flush({ sync: this.#fsync });
    this.#lastWrite = iters[iters.length - 1]!;
  }

  cursor(): WriterCursor {
    return { iter: this.#lastWrite };
  }

  restore(cursor: WriterCursor | null, resume: ResumedData): void {
    this.#lastWrite = cursor?.iter ?? -1;
    this.#sessionStart(resume.iter + 1, resume.wallTime);
  }

  begin(run: RunStartedData): void {
    this.#lastWrite = -1;
    // Points an earlier process left in this directory from startIter on (killed before its
    // first checkpoint, then started afresh) are dropped by TensorBoard when it reads this.
    this.#sessionStart(run.startIter, run.wallTime);
  }

  /** TensorBoard drops the points at `step` and later that it read before this. */
  #sessionStart(step: number, wallTime: number): void {
    const file = this.#open(wallTime);
    file.writeSessionStart(step, wallTime);
    file.flush({ sync: this.#fsync });
  }

  /** The event file written, once something was. */
  get path(): string | null {
    return this.#file?.path ?? null;
  }

  /** Runs on the log's commit thread when the trainer has a log (see PeriodicWriter). */
  spec(): WriterSpec {
    return { id: this.id, module: import.meta.url, exportName: 'TensorBoardWriter', args: [this.dir, { window: this.window, fileName: this.#fileName, id: this.id, fsync: this.#fsync }] };
  }

  close(): void {
    this.#file?.close();
    this.#file = null;
  }
}
