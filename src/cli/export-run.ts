import { mkdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { LogFile } from '../log/log-file.js';
import { replayRun } from '../log/replay.js';
import { JSONWriter } from '../writers/json-writer.js';
import { CSVWriter } from '../writers/csv-writer.js';
import { TensorBoardWriter } from '../writers/tensorboard-writer.js';
import { replayWriters, recordedWriterIds } from '../projections/replay-writers.js';
import { startReplacement, type FileReplacement } from '../writers/keep-lines.js';
import type { MetricWriter } from '../projections/metric-writer.js';
import type { StorageState } from '../storage/storage-state.js';
import { InvalidArgumentError } from '../errors/trainledger-error.js';
import { checkExportTarget, LogFiles, resolvedPath, type ExportKind } from './export-targets.js';
import { OutputIsLogError, OutputWriteError, writingTo } from './errors.js';

export interface ExportOptions {
  readonly untilIter?: number;
  readonly json?: string;
  readonly csv?: string;
  /** A TensorBoard logdir: the run's event file goes to `<dir>/<run name>/` (see `runFolderName`). */
  readonly tensorboard?: string;
  /** Write points of this live writer id (default: the recorded one of the same kind). */
  readonly period?: number;
  /** Replace existing files that are not previous exports of the same kind (never the log or its files). */
  readonly force?: boolean;
}

export interface ExportResult {
  readonly state: StorageState;
  readonly written: readonly string[];
}

/** The event file a TensorBoard export writes in its run folder: the only file there it ever replaces. */
export const TENSORBOARD_EXPORT_FILE = 'events.out.tfevents.trainledger';

// The copy of the event file while it is written: without "tfevents" in its name, so TensorBoard never loads it.
const TENSORBOARD_TMP_PREFIX = '.trainledger-export.tmp-';

const MAX_FOLDER_BYTES = 200;

/**
 * A run's name as one safe folder name: path separators, NUL, control characters and the
 * characters Windows refuses become `_`; a name that is empty or only dots becomes `run-<id>`;
 * at most 200 bytes of UTF-8 (file systems allow 255).
 *
 * @example
 * ```ts
 * runFolderName('../evil', 3); // '.._evil'
 * ```
 */
export function runFolderName(name: string, runId: number): string {
  // One segment on every OS: no separators, and nothing Windows or a terminal would choke on.
  const safe = name.replace(/[/\\\x00-\x1f<>:"|?*]/g, '_');
  let out = '';
  let bytes = 0;
  for (const ch of safe) {
    bytes += Buffer.byteLength(ch);
    if (bytes > MAX_FOLDER_BYTES) break;
    out += ch;
  }
  return /^\.*$/.test(out) ? `run-${runId}` : out;
}

function pick(ids: readonly string[], prefix: string): string | undefined {
  return ids.find((id) => id.startsWith(prefix));
}

interface Target {
  readonly flag: string;
  readonly kind: ExportKind;
  readonly path: string;
}

/**
 * Regenerates exports of a run from its log: metrics.json, CSV and TensorBoard, each written
 * at the write points the live run recorded (so identical to the live files), or every
 * `period` iterations when the run had no such writer.
 *
 * Nothing but the export files themselves is ever written or removed. The log and its files
 * (`-wal`, `-shm`, `.snapshots`...) are refused as outputs, even with `force`; an existing file
 * is replaced only when it is a previous export of the same kind (see `checkExportTarget`) or
 * with `force`. Each file is written to a copy beside it and renamed into place once the whole
 * replay succeeded, so a failed export leaves what was there. TensorBoard output goes to
 * `<tensorboard>/<run name>/events.out.tfevents.trainledger`, so runs can share a logdir;
 * other files in that folder are left alone.
 *
 * @example
 * ```ts
 * exportRun(log, runId, { json: 'out/metrics.json', tensorboard: 'out/tb' });
 * ```
 */
export function exportRun(log: LogFile, runId: number, options: ExportOptions): ExportResult {
  const logFiles = new LogFiles(log.path);
  const targets: Target[] = [];
  if (options.json) targets.push({ flag: '--json', kind: 'JSON', path: options.json });
  if (options.csv) targets.push({ flag: '--csv', kind: 'CSV', path: options.csv });
  if (options.tensorboard) {
    const folder = join(options.tensorboard, runFolderName(log.run(runId).name, runId));
    if (writingTo(folder, () => logFiles.includes(folder))) throw new OutputIsLogError('--tensorboard', folder, log.path);
    const st = writingTo(folder, () => statSync(folder, { throwIfNoEntry: false }));
    if (st !== undefined && !st.isDirectory()) throw new InvalidArgumentError(`${folder} is not a directory; --tensorboard writes each run into <dir>/<run name>/`);
    targets.push({ flag: '--tensorboard', kind: 'TensorBoard', path: join(folder, TENSORBOARD_EXPORT_FILE) });
  }
  // Every target is checked before anything is written.
  for (let i = 0; i < targets.length; i++) {
    for (let j = 0; j < i; j++) {
      if (resolvedPath(targets[i]!.path) === resolvedPath(targets[j]!.path)) throw new InvalidArgumentError(`${targets[j]!.flag} and ${targets[i]!.flag} name the same file: ${targets[i]!.path}`);
    }
  }
  for (const t of targets) writingTo(t.path, () => checkExportTarget(t.flag, t.kind, t.path, logFiles, options.force ?? false));

  const recorded = recordedWriterIds(log, runId);
  const replacements: Array<{ target: Target; replacement: FileReplacement }> = [];
  const writers: MetricWriter[] = [];
  try {
    for (const target of targets) {
      const replacement = writingTo(target.path, () => {
        mkdirSync(dirname(target.path), { recursive: true });
        return target.kind === 'TensorBoard' ? startReplacement(target.path, TENSORBOARD_TMP_PREFIX) : startReplacement(target.path);
      });
      replacements.push({ target, replacement });
      const tmp = replacement.tmp;
      if (target.kind === 'JSON') writers.push(new JSONWriter(tmp, { id: pick(recorded, 'json:') ?? `json:${target.path}` }));
      else if (target.kind === 'CSV') writers.push(new CSVWriter(tmp, { id: pick(recorded, 'csv:') ?? pick(recorded, 'json:') ?? `csv:${target.path}` }));
      // A CSV or TensorBoard export of a run that only had a JSON writer follows the JSON writer's points.
      else writers.push(new TensorBoardWriter(dirname(tmp), { id: pick(recorded, 'tensorboard:') ?? pick(recorded, 'json:') ?? `tensorboard:${options.tensorboard}`, fileName: basename(tmp), fsync: false }));
    }
    const state = writers.length > 0 ? replayWriters(log, runId, writers, { untilIter: options.untilIter, period: options.period, recorded }) : replayRun(log, runId, { untilIter: options.untilIter }).state;
    for (const { target, replacement } of replacements) writingTo(target.path, () => replacement.commit());
    return { state, written: targets.map((t) => t.path) };
  } catch (e) {
    for (const w of writers) {
      try {
        w.close();
      } catch {
        // The first error is the one to report; this writer's copy is removed below.
      }
    }
    for (const { replacement } of replacements) replacement.abandon();
    throw nameTheOutput(e, replacements);
  }
}

/** A filesystem error while writing a copy names the export it was for (or all, when it names no path). */
function nameTheOutput(e: unknown, replacements: ReadonlyArray<{ target: Target; replacement: FileReplacement }>): unknown {
  const errno = e as NodeJS.ErrnoException;
  if (!(e instanceof Error) || typeof errno.code !== 'string' || typeof errno.syscall !== 'string') return e;
  const match = replacements.find((r) => r.replacement.tmp === errno.path);
  const path = match ? match.target.path : replacements.map((r) => r.target.path).join(', ');
  return new OutputWriteError(path, errno);
}
