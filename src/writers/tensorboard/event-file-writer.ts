import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '../../errors/trainledger-error.js';
import { EventFileClosedError, EventFileExistsError } from './errors.js';
import { TF_EVENT_FILE_VERSION, TfSessionStatus, type TfEvent, type TfSummaryValue } from './tf-event.js';
import { ProtoWriter } from './proto-writer.js';
import { writeTfEvent } from './tf-event-codec.js';
import { TF_RECORD_OVERHEAD, writeTfRecord } from './tf-record.js';

/** Options of {@link EventFileWriter}. */
export interface EventFileWriterOptions {
  /**
   * Name of the file inside `dir`. Defaults to `events.out.tfevents.<seconds>.<hostname>`.
   * TensorBoard only loads files whose name contains `tfevents`.
   */
  readonly fileName?: string;
  /** Host name used in the default file name; defaults to `os.hostname()`. */
  readonly hostname?: string;
  /**
   * Creation time in seconds since the epoch, used for the default file name and the header
   * event. Defaults to now; pass it to make the output reproducible.
   */
  readonly wallTime?: number;
}

/** Pending bytes are written out once they reach this size, bounding memory between flushes. */
const DRAIN_THRESHOLD = 64 * 1024;

/**
 * Writes a TensorBoard event file: TFRecord-framed `tensorflow.Event` protos, starting with the
 * `brain.Event:2` header event. Events are encoded into an in-memory buffer and reach the file in
 * large synchronous writes, so a `flush()` that returns means the data is on disk (it fsyncs).
 * Output depends only on the inputs: replaying the same calls produces byte-identical files.
 *
 * The file is created exclusively; an existing file is never truncated (see {@link EventFileExistsError}).
 *
 * @example
 * ```ts
 * const writer = new EventFileWriter('runs/exp1');
 * writer.writeSessionStart(0, Date.now() / 1000);
 * writer.writeScalars(1, Date.now() / 1000, [['loss', 0.25], ['accuracy', 0.9]]);
 * writer.close();
 * ```
 */
export class EventFileWriter {
  /** Path of the event file being written. */
  readonly path: string;
  #fd: number | undefined;
  #pending = new Uint8Array(2 * DRAIN_THRESHOLD);
  #pendingLength = 0;
  /** Reused for every event's encoding, so appending allocates nothing in the steady state. */
  readonly #scratch = new ProtoWriter(256);

  constructor(dir: string, options: EventFileWriterOptions = {}) {
    const wallTime = options.wallTime ?? Date.now() / 1000;
    if (!Number.isFinite(wallTime) || wallTime < 0) {
      throw new InvalidArgumentError(`wallTime ${String(wallTime)} is not usable; expected finite seconds since the epoch, >= 0`);
    }
    let fileName = options.fileName;
    if (fileName === undefined) {
      const hostname = options.hostname ?? osHostname();
      assertPathComponent(hostname, 'hostname');
      // Zero-padded to ten digits like TensorFlow's writer, so names sort by creation time.
      fileName = `events.out.tfevents.${String(Math.floor(wallTime)).padStart(10, '0')}.${hostname}`;
    }
    assertPathComponent(fileName, 'fileName');
    this.path = join(dir, fileName);

    mkdirSync(dir, { recursive: true });
    try {
      this.#fd = openSync(this.path, 'wx');
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'EEXIST') throw new EventFileExistsError(this.path, { cause });
      throw cause;
    }
    try {
      this.#append({ kind: 'fileVersion', wallTime, step: 0, fileVersion: TF_EVENT_FILE_VERSION });
      // Written at once so TensorBoard can discover the run before the first flush.
      this.#drain();
    } catch (error) {
      closeSync(this.#fd);
      this.#fd = undefined;
      throw error;
    }
  }

  /**
   * Appends one event holding a `simple_value` summary per `[tag, value]` pair. Values are stored
   * as float32 (TensorBoard's scalar type); NaN and ±Infinity are kept as such.
   *
   * @example
   * ```ts
   * writer.writeScalars(100, 1718000000.5, [['loss', 0.31], ['lr', 1e-3]]);
   * ```
   */
  writeScalars(step: number, wallTime: number, values: ReadonlyArray<readonly [tag: string, value: number]>): void {
    this.#assertOpen('write scalars to');
    assertStepAndWallTime(step, wallTime);
    if (!Array.isArray(values)) {
      throw new InvalidArgumentError(`values ${String(values)} is not an array; expected an array of [tag, value] pairs`);
    }
    const summaryValues: TfSummaryValue[] = new Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const [tag, value] = values[i];
      if (typeof tag !== 'string' || tag.length === 0) {
        throw new InvalidArgumentError(`tag ${JSON.stringify(tag)} at index ${i} is not usable; expected a non-empty string`);
      }
      if (typeof value !== 'number') {
        throw new InvalidArgumentError(`value ${String(value)} of tag ${JSON.stringify(tag)} is not a number; expected a number`);
      }
      summaryValues[i] = { tag, simpleValue: value };
    }
    this.#append({ kind: 'summary', wallTime, step, values: summaryValues });
  }

  /**
   * Queues one `Summary` of any values (images, histograms, tensors with plugin metadata) at
   * `step`. The values are checked when encoded: a rejected summary queues nothing.
   *
   * @example
   * ```ts
   * writer.writeSummary(19, wallTime, [{ tag: 'w', histogram }]);
   * ```
   */
  writeSummary(step: number, wallTime: number, values: readonly TfSummaryValue[]): void {
    this.#assertOpen('write a summary to');
    assertStepAndWallTime(step, wallTime);
    this.#append({ kind: 'summary', wallTime, step, values });
  }

  /**
   * Appends a `SessionLog` START event. Write it when a run resumes at `step`: TensorBoard then
   * discards points at or after `step` left over from the interrupted attempt.
   *
   * @example
   * ```ts
   * writer.writeSessionStart(resumedStep, Date.now() / 1000);
   * ```
   */
  writeSessionStart(step: number, wallTime: number): void {
    this.#assertOpen('write a session start to');
    assertStepAndWallTime(step, wallTime);
    this.#append({ kind: 'sessionLog', wallTime, step, status: TfSessionStatus.start });
  }

  /**
   * Writes all buffered events to the file and fsyncs it: once this returns they survive a crash.
   * With `sync: false` they are only handed to the OS (readers see them; a crash may lose them).
   *
   * @example
   * ```ts
   * writer.flush();
   * writer.flush({ sync: false });
   * ```
   */
  flush(options: { readonly sync?: boolean } = {}): void {
    const fd = this.#assertOpen('flush');
    this.#drain();
    if (options.sync !== false) fsyncSync(fd);
  }

  /**
   * Flushes and closes the file. The descriptor is released even if the final flush fails (that
   * error is rethrown and the unwritten events are dropped); calling `close()` again does nothing.
   *
   * @example
   * ```ts
   * writer.close();
   * ```
   */
  close(): void {
    const fd = this.#fd;
    if (fd === undefined) return;
    try {
      this.flush();
    } finally {
      this.#fd = undefined;
      this.#pendingLength = 0;
      closeSync(fd);
    }
  }

  #assertOpen(operation: string): number {
    if (this.#fd === undefined) throw new EventFileClosedError(this.path, operation);
    return this.#fd;
  }

  #append(event: TfEvent): void {
    const payload = writeTfEvent(this.#scratch.reset(), event).finish();
    const needed = this.#pendingLength + TF_RECORD_OVERHEAD + payload.length;
    if (needed > this.#pending.length) {
      // Only records larger than the threshold get here; the buffer is drained before it fills.
      const grown = new Uint8Array(Math.max(needed, 2 * this.#pending.length));
      grown.set(this.#pending.subarray(0, this.#pendingLength));
      this.#pending = grown;
    }
    this.#pendingLength = writeTfRecord(this.#pending, this.#pendingLength, payload);
    if (this.#pendingLength >= DRAIN_THRESHOLD) this.#drain();
  }

  /** Hands every pending byte to the OS; keeps the unwritten tail if a write throws, for a retry. */
  #drain(): void {
    const fd = this.#assertOpen('write');
    let written = 0;
    try {
      while (written < this.#pendingLength) {
        written += writeSync(fd, this.#pending, written, this.#pendingLength - written);
      }
    } finally {
      this.#pending.copyWithin(0, written, this.#pendingLength);
      this.#pendingLength -= written;
    }
  }
}

function assertStepAndWallTime(step: number, wallTime: number): void {
  if (!Number.isSafeInteger(step)) {
    throw new InvalidArgumentError(`step ${String(step)} is not usable; expected a safe integer`);
  }
  if (typeof wallTime !== 'number' || !Number.isFinite(wallTime)) {
    throw new InvalidArgumentError(`wallTime ${String(wallTime)} is not usable; expected finite seconds since the epoch`);
  }
}

function assertPathComponent(name: string, what: string): void {
  if (typeof name !== 'string' || name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name)) {
    throw new InvalidArgumentError(`${what} ${JSON.stringify(name)} is not usable; expected a plain file name without path separators`);
  }
}
