import type { MetricWriter, WriterCursor, WriterSpec } from '../projections/metric-writer.js';
import { EventFileWriter } from './tensorboard/event-file-writer.js';
import { WallClock } from './wall-time.js';
import { smoothedSince } from './smoothed-since.js';
import type { HistogramData, ImageData, ResumedData, RunStartedData } from '../events/train-event.js';
import type { StorageState } from '../storage/storage-state.js';
import type { TfSummaryValue } from './tensorboard/tf-event.js';
import { encodePng } from './tensorboard/png.js';
import { flattenHParams, hparamsSessionStart } from './tensorboard/hparams.js';

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
 * Writes TensorBoard event files (detectron2's TensorboardXWriter): the smoothed latest value of
 * every metric put since the last write, at its iteration, stamped with the wall time of that
 * step; the images (as PNG) and histograms put since the last write, at the iteration they were
 * put; and, when a fresh run starts, its config as hparams plugin data. PeriodicWriter clears
 * images and histograms from the storage after each of its write points (`writesMedia`), as
 * detectron2's writer calls `storage.clear_images()`, so they do not pile up all run.
 * On resume it writes a `SessionLog START` at the resumed step, so TensorBoard discards points a
 * crashed process had written past it; a fresh run writes one at its start iteration, for the
 * same reason.
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
  readonly writesMedia = true;
  readonly #fileName: string | undefined;
  readonly #fsync: boolean;
  #file: EventFileWriter | null = null;
  #lastWrite = -1;
  /** Images and histograms written so far (in the cursor, so a write of only those moves it). */
  #media = 0;
  /** The last image and histogram written: later ones in a state's lists are new. */
  #lastImage: ImageData | null = null;
  #lastHistogram: HistogramData | null = null;

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
    const byIter = new Map<number, TfSummaryValue[]>();
    const add = (iter: number, value: TfSummaryValue): void => {
      let list = byIter.get(iter);
      if (!list) byIter.set(iter, (list = []));
      list.push(value);
    };
    const latest = smoothedSince(state, this.window, this.#lastWrite);
    let lastScalar = this.#lastWrite;
    for (const [name, [value, iter]] of Object.entries(latest)) {
      add(iter, { tag: name, simpleValue: value });
      if (iter > lastScalar) lastScalar = iter;
    }
    const images = newSince(state.info.images, this.#lastImage);
    for (const img of images) {
      const encoded = encodePng(img.height, img.width, img.channels, new Uint8Array(Buffer.from(img.pixels, 'base64')));
      add(img.iter, { tag: img.name, image: { height: img.height, width: img.width, colorspace: img.channels, encoded } });
    }
    const histograms = newSince(state.info.histograms, this.#lastHistogram);
    for (const h of histograms) {
      const { min, max, num, sum, sumSquares, bucketLimits, bucketCounts } = h;
      add(h.iter, { tag: h.name, histogram: { min, max, num, sum, sumSquares, bucketLimits, buckets: bucketCounts } });
    }
    if (byIter.size === 0) return;
    const iters = [...byIter.keys()].sort((a, b) => a - b);
    const clock = new WallClock(state);
    const file = this.#open(state.info.run?.wallTime ?? clock.at(iters[0]!));
    for (const it of iters) file.writeSummary(it, clock.at(it), byIter.get(it)!);
    file.flush({ sync: this.#fsync });
    this.#lastWrite = lastScalar;
    this.#media += images.length + histograms.length;
    this.#lastImage = images.at(-1) ?? this.#lastImage;
    this.#lastHistogram = histograms.at(-1) ?? this.#lastHistogram;
  }

  cursor(): WriterCursor {
    // No detail until media was written: a scalar-only run's cursors stay as they were.
    return this.#media === 0 ? { iter: this.#lastWrite } : { iter: this.#lastWrite, detail: { media: this.#media } };
  }

  restore(cursor: WriterCursor | null, resume: ResumedData): void {
    this.#lastWrite = cursor?.iter ?? -1;
    const detail = cursor?.detail as { readonly media?: unknown } | undefined;
    this.#media = typeof detail?.media === 'number' ? detail.media : 0;
    // The rebuilt state holds only media put since the last clear, which no write saw.
    this.#lastImage = this.#lastHistogram = null;
    this.#sessionStart(resume.iter + 1, resume.wallTime);
  }

  begin(run: RunStartedData): void {
    this.#lastWrite = -1;
    this.#media = 0;
    this.#lastImage = this.#lastHistogram = null;
    // Points an earlier process left in this directory from startIter on (killed before its
    // first checkpoint, then started afresh) are dropped by TensorBoard when it reads this.
    this.#sessionStart(run.startIter, run.wallTime);
    const hparams = flattenHParams(run.config);
    if (Object.keys(hparams).length > 0) {
      const file = this.#open(run.wallTime);
      file.writeSummary(run.startIter, run.wallTime, [hparamsSessionStart(hparams, run.wallTime)]);
      file.flush({ sync: this.#fsync });
    }
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

/** The items of `list` after `last` (all of them when `last` is not there: cleared, or none written). */
function newSince<T>(list: readonly T[], last: T | null): readonly T[] {
  if (last === null) return list;
  const at = list.lastIndexOf(last);
  return at < 0 ? list : list.slice(at + 1);
}
