import type { Stats } from 'node:fs';
import { TrainledgerError } from '../errors/trainledger-error.js';

/** Exit status of a command that could not do its work: bad usage, bad input, an unusable file. */
export const EXIT_USAGE = 2;

/** What a filesystem error code means, in words (the code itself follows in the message). */
const ERRNO_WORDS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EISDIR: 'is a directory',
  ENOTDIR: 'a parent is not a directory',
  EEXIST: 'already exists',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  ENAMETOOLONG: 'name too long',
  ELOOP: 'too many symbolic links',
  EMFILE: 'too many open files',
  EBUSY: 'resource busy',
  EXDEV: 'cross-device rename',
  EIO: 'input/output error',
};

function errnoOf(e: unknown): NodeJS.ErrnoException | null {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && typeof (e as NodeJS.ErrnoException).syscall === 'string' ? (e as NodeJS.ErrnoException) : null;
}

/** Why a filesystem call failed, in words plus its code: `read-only file system (EROFS)`. */
export function errnoReason(e: NodeJS.ErrnoException): string {
  const code = e.code ?? 'EUNKNOWN';
  return `${ERRNO_WORDS[code] ?? e.message.replace(/^[A-Z]+: /, '').split(',')[0]} (${code})`;
}

/** A file the command was to write could not be written (the filesystem said no). */
export class OutputWriteError extends TrainledgerError {
  readonly path: string;
  constructor(path: string, cause: NodeJS.ErrnoException) {
    super('ERR_OUTPUT_WRITE', `cannot write ${path}: ${errnoReason(cause)}`, { cause });
    this.path = path;
  }
}

/**
 * Runs `fn`; a filesystem error it throws becomes an `OutputWriteError` naming `path` (the file
 * the user asked for, not a temp file behind it).
 *
 * @example
 * ```ts
 * writingTo('out/p.svg', () => writeFileSync('out/p.svg', bytes));
 * ```
 */
export function writingTo<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const errno = errnoOf(e);
    if (errno) throw new OutputWriteError(path, errno);
    throw e;
  }
}

/**
 * Names for an error message, cut after `max` with how many more there are (a run may
 * record hundreds of metrics; one line must stay readable).
 *
 * @example
 * ```ts
 * listNames(['a', 'b']); // 'a, b'
 * ```
 */
export function listNames(names: readonly string[], max = 12): string {
  if (names.length === 0) return '(none)';
  if (names.length <= max) return names.join(', ');
  return `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * The single line the CLI prints for an error that ends a command, and its exit status. Ours say
 * what is wrong in their message; a filesystem error names the call, the path and the cause;
 * anything else (a bug) gives its first line, never a stack.
 *
 * @example
 * ```ts
 * const { line, code } = cliErrorLine(e);
 * ```
 */
export function cliErrorLine(e: unknown): { readonly line: string; readonly code: number } {
  if (e instanceof TrainledgerError) return { line: `trainledger: ${oneLine(e.message)}`, code: EXIT_USAGE };
  const errno = errnoOf(e);
  if (errno) return { line: `trainledger: cannot ${errno.syscall}${errno.path ? ` ${errno.path}` : ''}: ${errnoReason(errno)}`, code: EXIT_USAGE };
  const code = e instanceof Error ? (e as { code?: unknown }).code : undefined;
  // SQLite's errors carry a code but no syscall: the message says it all.
  if (e instanceof Error && typeof code === 'string') return { line: `trainledger: ${oneLine(e.message)} (${code})`, code: EXIT_USAGE };
  const text = e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : String(e);
  return { line: `trainledger: internal error: ${oneLine(text)}`, code: EXIT_USAGE };
}

/** A metric named on the command line that the run did not record. */
export class MetricNotRecordedError extends TrainledgerError {
  constructor(flag: string, name: string, runId: number, logPath: string, known: readonly string[]) {
    super('ERR_UNKNOWN_METRIC', `${flag} ${JSON.stringify(name)}: run ${runId} of ${logPath} has no such metric; it has ${listNames(known)}`);
  }
}

/** An export would be written over the log or one of the files SQLite and trainledger keep beside it. */
export class OutputIsLogError extends TrainledgerError {
  constructor(flag: string, path: string, logPath: string) {
    super('ERR_OUTPUT_IS_LOG', `refusing to write ${flag} to ${path}: it is the log ${logPath} or one of its files (-wal, -shm, .snapshots); pick another path`);
  }
}

/** An existing file that is not a previous export of the same kind would be replaced. */
export class OutputExistsError extends TrainledgerError {
  constructor(flag: string, path: string, what: string) {
    super('ERR_OUTPUT_EXISTS', `${path} exists and is not ${what}, so ${flag} will not replace it; pass --force to replace it anyway`);
  }
}

/** An output path names a directory (or another non-file) where a file is expected. */
export class OutputNotAFileError extends TrainledgerError {
  constructor(flag: string, path: string, stats: Stats) {
    super('ERR_OUTPUT_NOT_A_FILE', `${path} is ${stats.isDirectory() ? 'a directory' : 'not a regular file'}; ${flag} expects a file path`);
  }
}

/** An iteration outside what the run recorded. */
export class IterationOutOfRangeError extends TrainledgerError {
  constructor(iter: number, runId: number, last: number) {
    super('ERR_ITERATION_OUT_OF_RANGE', `run ${runId} has no iteration ${iter}: its recorded steps are 0..${last}`);
  }
}

/** The package.json beside the CLI's folder is missing its name or version (a broken install). */
export class PackageJsonError extends TrainledgerError {
  constructor(path: string) {
    super('ERR_PACKAGE_JSON', `${path} is not trainledger's package.json: expected "name": "trainledger" and a "version" string`);
  }
}

/** `tail` without `--wait` found no log, or not the run, yet: the message says `--wait` waits for it. */
export class TailNotReadyError extends TrainledgerError {
  constructor(cause: TrainledgerError) {
    super(cause.code, `${cause.message}; tail --wait waits for it to appear`, { cause });
  }
}
