import { readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import { readHead } from '../util/read-head.js';
import { crc32 } from 'node:zlib';
import { basename, dirname, join, resolve } from 'node:path';
import { OutputExistsError, OutputIsLogError, OutputNotAFileError } from './errors.js';
import { CSV_HEADER } from '../writers/csv-writer.js';
import { decodeEventFile } from '../writers/tensorboard/event-file-reader.js';

/** The kinds of file `replay` writes. */
export type ExportKind = 'JSON' | 'CSV' | 'TensorBoard' | 'Plot';

/**
 * A path as the filesystem resolves it: symlinks followed, `.` and `..` gone. A path that does
 * not exist yet resolves through its nearest existing ancestor.
 */
export function resolvedPath(path: string): string {
  const abs = resolve(path);
  try {
    return realpathSync(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs ? abs : join(resolvedPath(parent), basename(abs));
  }
}

/** Suffixes of the files kept beside a log: SQLite's journals, and the snapshot cache with its own. */
const SIDECARS = ['', '-wal', '-shm', '-journal', '.snapshots', '.snapshots-wal', '.snapshots-shm', '.snapshots-journal'];

/**
 * The log and every file beside it that belongs to it, by resolved path and (for those that
 * exist) by device and inode, so no spelling, symlink or hard link of them slips through.
 */
export class LogFiles {
  readonly logPath: string;
  readonly #paths = new Set<string>();
  readonly #inodes = new Set<string>();

  constructor(logPath: string) {
    this.logPath = logPath;
    // SQLite names the sidecars after the path it opened; a symlinked log may have them by either name.
    const bases = new Set([resolve(logPath), resolvedPath(logPath)]);
    for (const base of bases) {
      for (const suffix of SIDECARS) {
        const p = resolvedPath(base + suffix);
        this.#paths.add(p);
        const st = statSync(p, { throwIfNoEntry: false });
        if (st) this.#inodes.add(`${st.dev}:${st.ino}`);
      }
    }
  }

  /** Whether writing `path` would write the log or one of its files. */
  includes(path: string): boolean {
    if (this.#paths.has(resolvedPath(path))) return true;
    const st = statSync(path, { throwIfNoEntry: false });
    return st !== undefined && this.#inodes.has(`${st.dev}:${st.ino}`);
  }
}

/**
 * Python's `NaN`, `Infinity` and `-Infinity` tokens (outside strings) as JSON `null`, so a
 * metrics.json line parses with `JSON.parse`.
 */
function pythonJsonToJson(line: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += line[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    const token = ['-Infinity', 'Infinity', 'NaN'].find((t) => line.startsWith(t, i));
    if (token !== undefined) {
      out += 'null';
      i += token.length - 1;
    } else out += c;
  }
  return out;
}

/**
 * Whether text is what a JSON export (metrics.json) holds: empty, or every line a JSON object
 * (Python's float tokens allowed) with an integer "iteration".
 *
 * @example
 * ```ts
 * isJsonExport('{"iteration": 4, "loss": NaN}\n'); // true
 * ```
 */
export function isJsonExport(text: string): boolean {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.every((line) => {
    try {
      const o = JSON.parse(pythonJsonToJson(line)) as unknown;
      return typeof o === 'object' && o !== null && !Array.isArray(o) && Number.isInteger((o as Record<string, unknown>).iteration);
    } catch {
      return false;
    }
  });
}

/**
 * Whether text is what a CSV export holds: empty, or starting with the header CSVWriter writes
 * (`iteration,name,value,wall_time`) as its first line.
 *
 * @example
 * ```ts
 * isCsvExport('iteration,name,value,wall_time\n0,loss,1.0,5.0\n'); // true
 * ```
 */
export function isCsvExport(text: string): boolean {
  return text === '' || text.startsWith(CSV_HEADER);
}

/** Whether the bytes are a whole TensorBoard event file (every record's CRCs check, every event decodes). */
function isEventFile(bytes: Uint8Array): boolean {
  try {
    const events = decodeEventFile(bytes);
    return events[0]?.kind === 'fileVersion';
  } catch {
    return false;
  }
}

/** How each kind of previous export is recognised: `test` over the file, or over its first `head` bytes. */
const PREVIOUS: Readonly<Record<ExportKind, { readonly what: string; readonly head?: number; readonly test: (bytes: Buffer) => boolean }>> = {
  JSON: { what: 'a previous JSON export (every line a JSON object with an "iteration")', test: (b) => isJsonExport(b.toString('utf8')) },
  CSV: { what: `a previous CSV export (first line ${CSV_HEADER.trim()})`, head: Buffer.byteLength(CSV_HEADER), test: (b) => isCsvExport(b.toString('utf8')) },
  TensorBoard: { what: 'a TensorBoard export of trainledger (a whole event file)', test: (b) => b.length === 0 || isEventFile(b) },
  Plot: { what: 'a chart trainledger plot wrote (it marks its SVG and PNG files)', test: (b) => b.length === 0 || isPlot(b) },
};

/** The mark `plot` leaves in its SVG files (a trailing comment) and PNG files (a tEXt chunk). */
export const PLOT_MARK = 'written by trainledger plot';

function isPlot(bytes: Buffer): boolean {
  return bytes.includes(`<!-- ${PLOT_MARK} -->`) || bytes.includes(`Software\0${PLOT_MARK}`);
}

/**
 * Marks a rendered chart as written by `plot`, so that the next `plot` may replace it: an XML
 * comment after an SVG's root element, a `tEXt` chunk before a PNG's `IEND`.
 *
 * @example
 * ```ts
 * const marked = markPlot(await renderMetricChart(spec, 'png'), 'png');
 * ```
 */
export function markPlot(bytes: Uint8Array, format: 'svg' | 'png'): Buffer {
  if (format === 'svg') return Buffer.concat([Buffer.from(bytes), Buffer.from(`\n<!-- ${PLOT_MARK} -->\n`)]);
  const data = Buffer.from(`Software\0${PLOT_MARK}`, 'latin1');
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write('tEXt', 4, 'latin1');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  // IEND is the last 12 bytes of a PNG.
  const png = Buffer.from(bytes);
  return Buffer.concat([png.subarray(0, png.length - 12), chunk, png.subarray(png.length - 12)]);
}

/**
 * Checks that an export may be written at `path`: never the log or one of its files (not even
 * with `force`); never a directory; an existing file only when it is a previous export of the
 * same kind (see `isJsonExport`, `isCsvExport`; for TensorBoard a whole event file), or with `force`.
 *
 * @example
 * ```ts
 * checkExportTarget('--json', 'JSON', 'out/metrics.json', new LogFiles('runs/demo.sqlite'), false);
 * ```
 */
export function checkExportTarget(flag: string, kind: ExportKind, path: string, logFiles: LogFiles, force: boolean): void {
  if (logFiles.includes(path)) throw new OutputIsLogError(flag, path, logFiles.logPath);
  const st = statSync(path, { throwIfNoEntry: false });
  if (st === undefined) return;
  if (!st.isFile()) throw new OutputNotAFileError(flag, path, st);
  if (force) return;
  const rule = PREVIOUS[kind];
  // A kind recognised by its first bytes never reads the rest (a CSV export is 500 MB at 1M steps).
  if (!rule.test(rule.head === undefined ? readFileSync(path) : readHead(path, rule.head))) throw new OutputExistsError(flag, path, rule.what);
}
